"""A batch that ends with a result ends with that one event (`batch_done` in it), not two; one
that ends with a skipped statement still ends with `batch_done` (executors/worker/runner.py).
The real ChunkRunner, in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


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
    return [e for e in json.loads(done.stdout) if e["ev"] != "started"]  # one per statement


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
