"""The server's process ends within `EXIT_DEADLINE_S` of `exit` even when something in it will
not stop, and says where it was stuck (lsp/exit_deadline.py).

The fault is made on purpose: a real `eager-lsp serve` with one task added at `exit` that
swallows every cancellation, the kind of bug that once kept a server alive after `exit`
(asyncio's clean-up then waits for that task forever). Nothing else is changed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eager_lsp.lsp.exit_deadline import EXIT_DEADLINE_S, FORCED_EXIT_CODE

STUCK_SERVER = """
import asyncio, sys
from eager_lsp.lsp import language_server

kill_all = language_server.EagerServer.kill_all

def kill_all_and_leave_a_stuck_task(self):
    kill_all(self)

    async def never_stops():
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                pass

    asyncio.ensure_future(never_stops())

language_server.EagerServer.kill_all = kill_all_and_leave_a_stuck_task
from eager_lsp.cli import main
sys.exit(main(["serve"]))
"""


def _frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_a_server_stuck_after_exit_ends_with_its_stacks(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.stdin.write(
            _frame(
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
            )
            + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            + _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
            + _frame({"jsonrpc": "2.0", "method": "exit", "params": None})
        )
        proc.stdin.flush()  # stdin stays open, as an editor keeps it
        sent = time.monotonic()
        proc.wait(timeout=EXIT_DEADLINE_S + 60)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.returncode == FORCED_EXIT_CODE, stderr[-2000:]  # not a clean exit's 0
    assert waited >= EXIT_DEADLINE_S - 1  # it was stuck: the deadline ended it, not exit
    assert "still running" in stderr and "_cancel_all_tasks" in stderr, stderr[-2000:]


def test_the_deadline_ends_a_process_even_when_its_stderr_is_blocked() -> None:
    """The main thread is stuck writing to a stderr nobody reads (and holds its lock), so the
    stacks cannot be written either: the second, silent timer still ends the process."""
    stuck = (
        "import sys\n"
        "from eager_lsp.lsp import exit_deadline\n"
        "exit_deadline.arm(0.5)\n"
        "while True:\n"
        "    sys.stderr.write('x' * 65536)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", stuck], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        proc.wait(timeout=60)  # nobody reads its stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == FORCED_EXIT_CODE
