"""A running statement's output arrives while it runs (executors/worker/live.py), through the
real worker subprocess: Python-level prints, fd-level writes of a child process, what is
sent joined is where the result's output starts, nothing for quick statements, the result
last, past the cap bounded events that keep coming."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from eager_lsp.executors.worker.client import WorkerClient
from eager_lsp.limits import (
    CLIPPED_MARKER,
    LIVE_OUTPUT_CAP,
    LIVE_OUTPUT_S,
    STREAM_CAP,
    omission_marker,
)
from tests.worker.helpers import chunk


async def _run(worker: WorkerClient, code: str) -> tuple[list[dict[str, Any]], list[float]]:
    events: list[dict[str, Any]] = []
    seen: list[float] = []

    def on_event(event: Any) -> None:
        events.append(event)
        seen.append(time.monotonic())

    await worker.execute([chunk(code)], stop_on_error=True, on_event=on_event)
    return events, seen


async def test_prints_arrive_while_the_statement_runs(worker: WorkerClient) -> None:
    # 0.8 s between prints: the watcher (every 0.25 s) looks several times in between
    code = (
        "import time, sys\n"
        "for i in range(3):\n"
        "    print('tick', i)\n"
        "    print('warn', i, file=sys.stderr)\n"
        "    time.sleep(0.8)\n"
    )
    events, seen = await _run(worker, code)
    kinds = [e["ev"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "result", kinds
    live = [e for e in events if e["ev"] == "output"]
    assert len(live) >= 2, kinds  # 0.8 s between prints: they came in separate looks
    result = events[-1]
    assert result["stdout"] == "tick 0\ntick 1\ntick 2\n"
    assert result["stderr"] == "warn 0\nwarn 1\nwarn 2\n"
    for stream in ("stdout", "stderr"):  # the last print may come only with the result
        joined = "".join(e[stream] for e in live)
        assert result[stream].startswith(joined) and joined.count("\n") >= 2, live
    first = next(i for i, e in enumerate(events) if e["ev"] == "output")
    assert events[first]["stdout"].startswith("tick 0")
    # the first tick was seen well before the statement ended (it sleeps 2.4 s in all)
    assert seen[-1] - seen[first] > 1.0


async def test_a_child_process_output_arrives_too(worker: WorkerClient) -> None:
    code = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', "
        '\'import time\\nprint("first", flush=True)\\ntime.sleep(1.2)\\nprint("second")\'])\n'
    )
    events, _ = await _run(worker, code)
    live = [e for e in events if e["ev"] == "output"]
    assert live and live[0]["stdout"] == "first\n", events
    assert events[-1]["stdout"] == "first\nsecond\n"
    assert "".join(e["stdout"] for e in live) in ("first\n", "first\nsecond\n")


async def test_a_quick_statement_sends_no_output_event(worker: WorkerClient) -> None:
    events, _ = await _run(worker, "for i in range(100):\n    print(i)\n")
    assert [e["ev"] for e in events] == ["started", "result"]
    assert events[-1]["stdout"].startswith("0\n1\n")


async def test_an_unfinished_character_waits_for_its_end(worker: WorkerClient) -> None:
    # 'é' is two bytes; the child writes the first, waits past a look, then the second
    code = (
        "import os, time\n"
        "os.write(1, b'caf\\xc3')\n"
        f"time.sleep({LIVE_OUTPUT_S * 3})\n"
        "os.write(1, b'\\xa9!\\n')\n"
        f"time.sleep({LIVE_OUTPUT_S * 3})\n"
    )
    events, _ = await _run(worker, code)
    live = "".join(e["stdout"] for e in events if e["ev"] == "output")
    assert events[-1]["stdout"] == "café!\n"
    assert live == "café!\n", events
    assert "\ufffd" not in live


async def test_live_output_within_the_cap_is_where_the_result_starts(
    worker: WorkerClient,
) -> None:
    code = "import time\nfor _ in range(50):\n    print('x' * 1000)\n    time.sleep(0.02)\n"
    events, _ = await _run(worker, code)
    live = "".join(e["stdout"] for e in events if e["ev"] == "output")
    result = events[-1]
    assert 0 < len(live) <= STREAM_CAP, [e["ev"] for e in events]
    assert result["stdout"] == ("x" * 1000 + "\n") * 50  # under the cap: all of it
    assert result["stdout"].startswith(live)


async def test_live_output_goes_on_past_the_cap_bounded_per_event(worker: WorkerClient) -> None:
    """Past STREAM_CAP the writer keeps head and tail, and live output keeps coming: each
    event after the head at most LIVE_OUTPUT_CAP characters and a marker (it used to stop
    at the cap: a long statement's output froze)."""
    code = (
        "import time\n"
        "for i in range(300):\n"
        "    print(f'line {i:04d} ' + 'x' * 990)\n"
        "    time.sleep(0.005)\n"
        "print('last line')\n"
        f"time.sleep({LIVE_OUTPUT_S * 8})\n"  # several looks see it before the result
    )
    events, _ = await _run(worker, code)
    live = [e["stdout"] for e in events if e["ev"] == "output"]
    assert live and "last line\n" in live[-1], [len(t) for t in live]
    marker = len(omission_marker(10**9))
    for text in live:  # all that is new while under the cap; later the head's rest at most
        assert len(text) <= STREAM_CAP + marker, len(text)
    # once the stream was cut (an event said so), an event is only the newest part: bounded
    # whatever was printed
    cut = [i for i, text in enumerate(live) if CLIPPED_MARKER.search(text)]
    assert cut, [len(t) for t in live]
    for text in live[cut[0] + 1 :]:
        assert len(text) <= LIVE_OUTPUT_CAP + marker, len(text)
    result = events[-1]
    assert result["stdout"].startswith("line 0000 ")
    assert result["stdout"].endswith("line 0299 " + "x" * 990 + "\nlast line\n")
    assert len(CLIPPED_MARKER.findall(result["stdout"])) == 1


async def test_output_is_not_lost_after_an_interrupt_or_error(worker: WorkerClient) -> None:
    code = "import time\nprint('before', flush=True)\ntime.sleep(0.7)\nraise ValueError('late')\n"
    events, _ = await _run(worker, code)
    live = [e for e in events if e["ev"] == "output"]
    assert live and live[0]["stdout"] == "before\n"
    result = events[-1]
    assert result["ev"] == "result" and not result["ok"]
    assert result["stdout"] == "before\n"


async def test_a_trace_function_that_prints_does_not_hang_the_statement(
    worker: WorkerClient,
) -> None:
    """`trace.Trace` prints every line it traces, the capture writer's own among them: a
    print from inside a print. The writer's lock (taken for the live thread) hung there on
    every Python version until it was made reentrant (a reviewing helper found it)."""
    code = (
        "import trace\n"
        "def f(n):\n"
        "    print('total', sum(range(n)))\n"  # traced: the writer's lines print from inside it
        "trace.Trace(count=False, trace=True).runfunc(f, 3)\n"
    )
    began = time.monotonic()
    events, _ = await asyncio.wait_for(_run(worker, code), 60)
    result = events[-1]
    assert result["ok"], result["error"]
    assert "funcname: write" in result["stdout"]  # (print writes "total", " ", "3" apart)
    assert time.monotonic() - began < 60


def test_quick_statements_do_not_wake_the_watcher_once_each() -> None:
    """The watcher thread (in process here) wakes about once an interval while statements
    follow one another, not once a statement: woken by a begin whose chunk had already
    ended, it went back to sleep at once, which cost every quick statement a thread switch
    (worker CPU per trivial statement +10-20 % in the many-documents benchmark)."""
    from eager_lsp.executors.worker.capture import CappedWriter
    from eager_lsp.executors.worker.live import LiveOutput

    watcher = LiveOutput(lambda event: None, (None, None), interval=0.1)
    waits = [0]
    wait = watcher._cond.wait

    def counted(timeout: float | None = None) -> bool:
        waits[0] += 1
        return wait(timeout)

    watcher._cond.wait = counted  # type: ignore[method-assign]
    began = time.monotonic()
    for i in range(100):
        watcher.begin(i, CappedWriter(), CappedWriter())
        watcher.end()
        time.sleep(0.01)
    intervals = (time.monotonic() - began) / 0.1
    assert waits[0] <= 2 * intervals + 4, (waits[0], intervals)  # 100 before the change
