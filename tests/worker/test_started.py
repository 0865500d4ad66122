"""`started` is sent for a statement that runs on, while it runs, and not for a quick one;
a batch that ends with a result ends with one event (executors/worker/started.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from eager_lsp.executors.worker.client import WorkerClient
from eager_lsp.executors.worker.started import StartedNotice
from tests.worker.helpers import chunk


async def test_a_long_statement_is_reported_while_it_runs(
    worker: WorkerClient, tmp_path: Path
) -> None:
    """The statement waits for a file that the test writes only once `started` came: had
    `started` come with the result, it would never end."""
    flag = tmp_path / "seen-started"
    code = f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)\n"
    events: list[dict[str, Any]] = []

    def on_event(event: Any) -> None:
        events.append(event)
        if event["ev"] == "started":
            flag.write_text("")

    [result] = await asyncio.wait_for(
        worker.execute([chunk(code)], stop_on_error=True, on_event=on_event), 30
    )
    assert result["ok"], result
    assert [e["ev"] for e in events] == ["started", "result"]
    assert events[0]["t"] == result["t_start"]  # when it began, as the result says


def _runner_events(chunks: list[str]) -> list[dict[str, Any]]:
    """The events a ChunkRunner writes for one batch, in a process of its own (the runner
    installs its own `__main__`)."""
    probe = (
        "import json, sys\n"
        "from eager_lsp.executors.worker.runner import ChunkRunner, Interrupts\n"
        "out = []\n"
        "runner = ChunkRunner(out.append, Interrupts())\n"
        "chunks = [{'id': i, 'code': c, 'first_line': i + 1} for i, c in enumerate(json.loads(sys.argv[1]))]\n"
        "runner.run_batch({'op': 'exec', 'batch': 7, 'stop_on_error': True, 'chunks': chunks})\n"
        "print(json.dumps([{k: e.get(k) for k in ('ev', 'id', 'batch', 'batch_done')} for e in out]))\n"
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(chunks)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [e for e in json.loads(done.stdout) if e["ev"] != "started"]


def test_a_batch_that_ends_with_a_result_ends_with_one_event() -> None:
    events = _runner_events(["a = 1\n", "b = 2\n"])
    assert events == [
        {"ev": "result", "id": 0, "batch": None, "batch_done": None},
        {"ev": "result", "id": 1, "batch": None, "batch_done": 7},
    ]


def test_a_batch_that_ends_skipped_still_says_it_is_done() -> None:
    events = _runner_events(["1 / 0\n", "b = 2\n"])
    assert events == [
        {"ev": "result", "id": 0, "batch": None, "batch_done": None},
        {"ev": "skipped", "id": 1, "batch": None, "batch_done": None},
        {"ev": "batch_done", "id": None, "batch": 7, "batch_done": None},
    ]


def test_the_notice_sends_once_only_for_what_runs_past_its_delay_and_then_sleeps() -> None:
    sent: list[dict[str, Any]] = []
    arrived = threading.Event()

    def emit(event: dict[str, Any]) -> None:
        sent.append(event)
        arrived.set()

    notice = StartedNotice(emit, after_s=5.0, idle_s=0.2)  # the quick ones never come due
    for i in range(20):  # quick statements: ended before their delay
        notice.begin(i, time.monotonic())
        notice.end()
    notice.begin("long", 123.0)  # began long ago: due at once
    assert arrived.wait(10)
    notice.end()
    notice.begin("next", time.monotonic())
    notice.end()
    deadline = time.monotonic() + 10
    while not notice._sleeping and time.monotonic() < deadline:  # idle: the thread waits
        time.sleep(0.01)
    assert notice._sleeping
    assert sent == [{"ev": "started", "id": "long", "t": 123.0}]
    notice.begin("again", 0.0)  # a sleeping thread is woken by the next statement
    arrived.clear()
    assert arrived.wait(10)
    assert sent[-1]["id"] == "again"
    notice.end()
