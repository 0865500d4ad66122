"""The parallel runner writes the events of one locked section together, in one write: a
statement's result with the "started" of the statement its thread takes next, a batch's
last result with its "batch_done", "accepted" with what its request's settle committed.

Run in a child interpreter: ChunkRunner makes its namespace the process's `__main__`."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
from eager_lsp.executors.worker.parallel import ParallelRunner
from eager_lsp.executors.worker.runner import ChunkRunner, Interrupts

writes = []
def emit(message):
    writes.append([message])
def emit_many(messages):
    writes.append(list(messages))

interrupts = Interrupts()
runner = ChunkRunner(emit, interrupts)
parallel = ParallelRunner(runner, emit, interrupts, emit_many=emit_many)
code = sys.argv[1]
chunks = [
    {"id": i, "code": line + "\n", "path": "<doc>", "first_line": i + 1, "names": [line[:2]],
     "trailing_expr": False, "after": [i - 1] if i else [], "exclusive": False,
     "speculative": False}
    for i, line in enumerate(code.splitlines())
]
parallel.submit({"op": "exec", "batch": 7, "run": 1, "parallel": True, "stop_on_error": True,
                 "chunks": chunks})
parallel.wait_idle()
print(json.dumps([[(m["ev"], m.get("id")) for m in w] for w in writes]))
"""


def writes_of(code: str) -> list[list[tuple[str, int | None]]]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, code], capture_output=True, text=True, timeout=60, check=True
    )
    return [[(ev, i) for ev, i in w] for w in json.loads(out.stdout)]


def test_a_chain_of_statements_is_one_write_a_statement() -> None:
    writes = writes_of("a0 = 1\na1 = a0 + 1\na2 = a1 + 1\n")
    assert writes == [
        [("accepted", None)],
        [("started", 0)],
        [("result", 0), ("started", 1)],
        [("result", 1), ("started", 2)],
        [("result", 2), ("batch_done", None)],
    ]


def test_a_failure_is_written_with_the_skips_it_causes() -> None:
    writes = writes_of("a0 = 1\na1 = 1 / 0\na2 = a1 + 1\n")
    assert writes[-1] == [("result", 1), ("skipped", 2), ("batch_done", None)]
    events = [e for w in writes for e in w]
    assert [e for e in events if e[0] != "accepted"] == [
        ("started", 0), ("result", 0), ("started", 1), ("result", 1), ("skipped", 2),
        ("batch_done", None),
    ]  # fmt: skip
