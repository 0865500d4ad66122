"""The parallel runner (executors/worker/parallel.py) driven in-process, in a child
interpreter (ChunkRunner makes its namespace the process's `__main__`).

- It writes the events of one locked section together, in one write: a statement's result
  with the "started" of the statement its thread takes next, a batch's last result with its
  "batch_done", "accepted" with what its request's settle committed.
- Independent statements released together do not each wake a thread: one thread takes the
  first, and the others wait for it to come back (up to GROW_AFTER_S, after which another
  thread takes one: that is what keeps waits overlapping, tests/worker/test_parallel.py)."""

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


THREADS_SCRIPT = r"""
import json, threading, time
from eager_lsp.executors.worker import parallel as mod
from eager_lsp.executors.worker.runner import ChunkRunner, Interrupts

interrupts = Interrupts()
runner = ChunkRunner(lambda m: None, interrupts)
parallel = mod.ParallelRunner(runner, lambda m: None, interrupts)

def request(run, codes):
    chunks = [
        {"id": i, "code": code + "\n", "path": "<doc>", "first_line": i + 1,
         "names": [code.split(" ")[0]], "trailing_expr": False, "after": [],
         "exclusive": False, "speculative": True}
        for i, code in enumerate(codes)
    ]
    return {"op": "exec", "batch": run, "run": run, "parallel": True, "stop_on_error": True,
            "chunks": chunks}

runner.namespace.update(time=time, threading=threading)
# Four waits side by side leave four idle threads in the pool.
parallel.submit(request(1, [f"w{i} = time.sleep(0.2)" for i in range(4)]))
parallel.wait_idle()
idle = parallel._idle
mod.GROW_AFTER_S = 60.0  # no thread is added for a statement still queued: only who wakes
# Each lets go of the GIL once (as writing its events does in the worker): a woken thread
# would take the next statement then.
tiny = "t{} = (time.sleep(0), threading.get_ident())[1]"
parallel.submit(request(2, [tiny.format(i) for i in range(8)]))
parallel.wait_idle()
ns = runner.namespace
print(json.dumps({"idle": idle, "threads": len({ns[f"t{i}"] for i in range(8)})}))
"""


def test_independent_short_statements_released_together_run_on_one_thread() -> None:
    out = subprocess.run(
        [sys.executable, "-c", THREADS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["idle"] >= 2  # threads were there to wake
    assert seen["threads"] == 1
