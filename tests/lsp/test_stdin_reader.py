"""The server's stdin as pygls reads it (a pipe on the event loop, a regular file on a
thread): every message arrives whole however the bytes are split, several in one write are
all handled, and the end of stdin or `exit` ends the server. Real `eager-lsp serve`
processes. The event-loop reader once failed the `shutdown` + `exit` test here (it handled
`exit` before the async shutdown had answered); `exit` now waits for a shutdown being
handled, whichever reader reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest


def _frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _messages(data: bytes) -> list[dict[str, Any]]:
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        fields = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
SHUTDOWN = {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None}
EXIT = {"jsonrpc": "2.0", "method": "exit", "params": None}
INITIALIZED = {"jsonrpc": "2.0", "method": "initialized", "params": {}}


def _serve(stdin: Any, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "serve"],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )


def _talk(
    cwd: Path, writes: list[tuple[bytes, float]], *, keep_open: bool = False
) -> tuple[dict[Any, Any], int]:
    """Write each piece, pause, then close stdin (or, `keep_open`, leave it open as an editor
    does and wait for the process to end): the answers by id and the exit code."""
    proc = _serve(subprocess.PIPE, cwd)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for data, pause in writes:
            proc.stdin.write(data)
            proc.stdin.flush()
            time.sleep(pause)
        if keep_open:
            try:
                proc.wait(timeout=30)  # its output is a few small messages: the pipe cannot fill
            except subprocess.TimeoutExpired:
                pytest.fail("the server did not exit after `exit` while stdin stayed open")
            out = proc.stdout.read()
        else:
            out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    return {m["id"]: m for m in _messages(out) if "id" in m}, proc.returncode


def test_a_message_split_across_writes_and_messages_joined_in_one(tmp_path: Path) -> None:
    first = _frame(INITIALIZE)
    split = [(part, 0.05) for part in (first[:7], first[7:20], first[20:-5], first[-5:])]
    joined = _frame(INITIALIZED) + _frame(SHUTDOWN) + _frame(EXIT)  # one write
    answers, returncode = _talk(tmp_path, [*split, (joined, 0.0)])
    assert answers[1]["result"]["serverInfo"]["name"] == "eager-lsp"
    assert answers[2]["result"] is None
    assert returncode == 0


@pytest.mark.parametrize("keep_open", [False, True], ids=["stdin-closed", "stdin-open"])
def test_exit_right_behind_a_slow_shutdown_still_gets_its_answer(
    tmp_path: Path, keep_open: bool
) -> None:
    """`shutdown` and `exit` in one write while an interpreter runs: closing it makes the
    shutdown take a while, and `exit` (read meanwhile) must wait for its answer. (Without
    the wait the server exited before answering; under load the test above met this by
    chance.) Then the server exits even while stdin stays open: pygls's shutdown cancels
    every handler still pending when it answers, the one of `exit` waiting for it too, and
    the server lived on (the fresh-clone CI at 90b6e24 met this in the test below)."""
    script = tmp_path / "open.py"
    script.write_text("x = 1\n")
    item = {"uri": script.as_uri(), "languageId": "python", "version": 1, "text": "x = 1\n"}
    did_open = {
        "jsonrpc": "2.0",
        "method": "textDocument/didOpen",
        "params": {"textDocument": item},
    }
    answers, returncode = _talk(
        tmp_path,
        [
            (_frame(INITIALIZE) + _frame(INITIALIZED) + _frame(did_open), 1.0),  # it starts
            (_frame(SHUTDOWN) + _frame(EXIT), 0.0),
        ],
        keep_open=keep_open,
    )
    assert answers[2]["result"] is None, answers
    assert returncode == 0


def test_exit_ends_the_server_while_stdin_stays_open(tmp_path: Path) -> None:
    """An editor keeps stdin open after `exit` and waits for the process to end; the thread
    that reads stdin must not keep it alive (a pool's thread did: it is joined at exit)."""
    proc = _serve(subprocess.PIPE, tmp_path)
    assert proc.stdin is not None
    try:
        proc.stdin.write(_frame(INITIALIZE) + _frame(INITIALIZED) + _frame(SHUTDOWN))
        proc.stdin.flush()
        time.sleep(0.5)
        proc.stdin.write(_frame(EXIT))
        proc.stdin.flush()
        try:
            proc.wait(timeout=30)  # stdin is still open
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not exit after `exit` while stdin stayed open")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    assert proc.returncode == 0


def test_the_end_of_stdin_ends_the_server(tmp_path: Path) -> None:
    proc = _serve(subprocess.PIPE, tmp_path)
    assert proc.stdin is not None
    proc.stdin.write(_frame(INITIALIZE) + _frame(INITIALIZED))
    proc.stdin.close()  # the editor went away without `exit`
    try:
        proc.wait(timeout=60)  # its output is one answer: the pipe cannot fill
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the server outlived its stdin")
    assert proc.stdout is not None
    out = proc.stdout.read()
    assert [m["id"] for m in _messages(out) if "id" in m] == [1]


def test_stdin_from_a_regular_file(tmp_path: Path) -> None:
    """`eager-lsp serve < messages` works (asyncio could not watch a regular file)."""
    messages = tmp_path / "messages"
    messages.write_bytes(_frame(INITIALIZE) + _frame(INITIALIZED) + _frame(SHUTDOWN) + _frame(EXIT))
    with messages.open("rb") as stdin:
        proc = _serve(stdin, tmp_path)
        try:
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    answers = {m["id"]: m for m in _messages(out) if "id" in m}
    assert set(answers) == {1, 2}
    assert proc.returncode == 0


def test_a_message_over_the_cap_is_dropped_and_the_next_one_answered(tmp_path: Path) -> None:
    """A client that sends a body over limits.INBOUND_MESSAGE_CAP and an overlong header line:
    the server goes on with the next message. (That the body is not held is shown in
    test_stdin_hops.py; this is the real server over a real pipe.)"""
    from eager_lsp import limits

    size = limits.INBOUND_MESSAGE_CAP + 1
    huge = b"Content-Length: %d\r\n\r\n" % size + b'"' + b"x" * (size - 2) + b'"'
    overlong_header = b"X-Junk: " + b"y" * (limits.INBOUND_HEADER_CAP * 4) + b"\r\n"
    answers, returncode = _talk(
        tmp_path,
        [
            (_frame(INITIALIZE), 0.0),
            (huge, 0.0),
            (overlong_header + _frame(SHUTDOWN), 0.0),
            (_frame(EXIT), 0.0),
        ],
    )
    assert answers[1]["result"]["serverInfo"]["name"] == "eager-lsp"
    assert answers[2]["result"] is None  # the shutdown after both was read and answered
    assert returncode == 0


def test_a_wrong_content_length_does_not_lose_every_later_message(tmp_path: Path) -> None:
    """A Content-Length 12 bytes too long swallows the start of the next message; the one
    after it is read again (before, every later message was lost: no answer, no exit)."""
    body = json.dumps(INITIALIZED).encode()
    bad = b"Content-Length: %d\r\n\r\n" % (len(body) + 12) + body
    filler = {"jsonrpc": "2.0", "method": "$/filler", "params": {}}
    answers, returncode = _talk(
        tmp_path,
        [
            (_frame(INITIALIZE), 0.0),
            (bad + _frame(filler) + _frame(SHUTDOWN), 0.0),
            (_frame(EXIT), 0.0),
        ],
    )
    assert answers[1]["result"]["serverInfo"]["name"] == "eager-lsp"
    assert answers[2]["result"] is None
    assert returncode == 0


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_body_of_millions_of_empty_objects_is_dropped_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    """7.5 MB of `{},` is 2.5 million dicts once parsed (~200 MB; 64 MiB of it took 1.7 GB):
    over limits.INBOUND_VALUE_CAP it is dropped unparsed, and the server answers on; so is
    7.5 MB of `"ab",` (short strings cost as much)."""
    from eager_lsp import limits

    count = limits.INBOUND_VALUE_CAP + 500_000
    bodies = [
        b'{"jsonrpc":"2.0","method":"x/bomb","params":[' + b"{}," * count + b"{}]}",
        b'{"jsonrpc":"2.0","method":"x/bomb","params":[' + b'"ab",' * count + b'"ab"]}',
    ]
    proc = _serve(subprocess.PIPE, tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_frame(INITIALIZE))
        proc.stdin.flush()
        assert _read_one(proc)["id"] == 1
        before = _peak_rss_mb(proc.pid)
        for body in bodies:
            proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.write(_frame(SHUTDOWN))
        proc.stdin.flush()
        assert _read_one(proc) == {"jsonrpc": "2.0", "id": 2, "result": None}
        grown = _peak_rss_mb(proc.pid) - before
        proc.stdin.write(_frame(EXIT))
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert grown < 60, f"peak memory grew by {grown:.0f} MB"  # a body itself is 7.5-12.5 MB


def _read_one(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The next message the server writes (notifications before it are skipped)."""
    assert proc.stdout is not None
    while True:
        length = 0
        while (line := proc.stdout.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(proc.stdout.read(length))
        if "id" in message:
            return message


def test_a_content_length_of_thousands_of_digits_does_not_end_the_server(tmp_path: Path) -> None:
    """Python refuses to convert over 4,300 digits: such a Content-Length ended the server
    (ValueError, exit code 1). It is now over every cap: the rest is read past, and the
    server ends cleanly when stdin does. A length with thousands of leading zeros is its
    value."""
    zeros = b"0" * 5000 + b"%d" % len(json.dumps(SHUTDOWN).encode())
    answers, returncode = _talk(
        tmp_path,
        [
            (_frame(INITIALIZE), 0.0),
            (b"Content-Length: " + zeros + b"\r\n\r\n" + json.dumps(SHUTDOWN).encode(), 0.0),
            (b"Content-Length: " + b"7" * 4301 + b"\r\n\r\n", 0.0),
        ],
    )
    assert answers[1]["result"]["serverInfo"]["name"] == "eager-lsp"
    assert answers[2]["result"] is None  # the zero-padded length was read as its value
    assert returncode == 0


def test_exit_without_shutdown_ends_with_code_1(tmp_path: Path) -> None:
    """LSP: the server exits with 1 when `exit` comes without a `shutdown` before it (pygls
    says so with SystemExit(1); the stdio loop used to turn every exit into 0)."""
    _, returncode = _talk(
        tmp_path, [(_frame(INITIALIZE) + _frame(INITIALIZED), 0.3), (_frame(EXIT), 0.0)]
    )
    assert returncode == 1
