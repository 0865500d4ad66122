"""The whole core pipeline (detector → gate → run → real worker subprocess)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, StreamFailed
from eager_lsp.core.run import Run
from eager_lsp.core.types import Event
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import ReplayStream

pytestmark = pytest.mark.slow


def config(tmp_path, gate: str = "eager", **kw) -> InterpreterConfig:  # type: ignore[no-untyped-def]
    return InterpreterConfig(
        path=str(tmp_path / "doc.py"),
        cwd=str(tmp_path),
        debug=False,
        gate=GatePolicy.from_settings(gate),
        **kw,
    )


@pytest.fixture
async def interpreter(tmp_path):  # type: ignore[no-untyped-def]
    s = open_interpreter(config(tmp_path))
    await s.start()
    yield s
    await s.close()


async def test_results_come_back_per_chunk_with_values(interpreter: Interpreter) -> None:
    text = "x = 6 * 7\ny = [x, x]\nprint('hi', x)\nx + 1\n"
    report = await interpreter.run_stream(ReplayStream(text, rate=None))
    assert [(c.start_line, c.end_line) for c in report.chunks] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert all(r.ok for r in report.results)
    values = {v.name: v.summary for r in report.results for v in r.values}
    assert values["x"] == "42"
    assert report.results[2].stdout == "hi 42\n"
    expr = report.results[3].expr
    assert expr is not None and expr.repr == "43"


async def test_state_persists_across_runs(interpreter: Interpreter) -> None:
    await interpreter.run_stream(ReplayStream("a = 5\n"))
    report = await interpreter.run_stream(ReplayStream("b = a * 2\n"), first_line=2)
    assert report.results[0].values[0].summary == "10"
    assert report.chunks[0].start_line == 2


async def test_timestamps_are_ordered_for_every_chunk(interpreter: Interpreter) -> None:
    text = "".join(f"v{i} = {i}\n" for i in range(10))
    report = await interpreter.run_stream(ReplayStream(text, rate=400))
    for r in report.results:
        assert r.chunk.released_at <= r.dispatched_at <= r.exec_start <= r.exec_end <= r.result_at
    kinds = [e.kind for e in report.events]
    assert kinds[-1] == "done"
    assert {"piece", "release", "dispatch", "exec_start", "exec_end", "result"} <= set(kinds)


async def test_chunks_released_while_busy_go_in_one_batch(interpreter: Interpreter) -> None:
    # The first chunk keeps the interpreter busy while the next three are released.
    text = "s = sum(i * i for i in range(3_000_000))\na = 1\nb = 2\nc = 3\nd = a + b + c\n"
    events: list[Event] = []
    run = interpreter.new_run(listener=events.append)
    first, rest = text.split("\n", 1)
    run.feed(first + "\n")
    await asyncio.sleep(0.05)
    run.feed(rest)
    run.end()
    report = await run.wait()
    dispatches = [e.data["chunks"] for e in events if e.kind == "dispatch"]
    assert dispatches[0] == [0]
    assert [1, 2, 3, 4] in dispatches, dispatches
    assert len(report.results) == 5 and all(r.ok for r in report.results)


async def test_first_error_stops_later_chunks_and_the_source(interpreter: Interpreter) -> None:
    text = "x = 1\ny = 1 / 0\nz = 3\n" + "".join(f"pad{i} = {i}\n" for i in range(200))
    stream = ReplayStream(text, rate=200)
    report = await interpreter.run_stream(stream)
    assert report.stopped_early
    failed = report.failed
    assert failed is not None and failed.error is not None
    assert failed.error.type == "ZeroDivisionError" and failed.error.line == 2
    assert all(c.start_line <= 3 for c in report.chunks[:3])
    ran_after = [r for r in report.results if r.chunk.start_line > 2 and not r.skipped]
    assert ran_after == []
    assert stream.sent < len(text)  # the source was closed early


async def test_keep_going_runs_past_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = open_interpreter(config(tmp_path, stop_on_error=False))
    try:
        report = await s.run_stream(ReplayStream("a = 1 / 0\nb = 2\n"))
    finally:
        await s.close()
    assert [r.ok for r in report.results] == [False, True]
    assert not report.stopped_early


async def test_safe_gate_defers_a_def_into_the_next_working_chunk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = open_interpreter(config(tmp_path, gate="safe"))
    events: list[Event] = []
    try:
        text = "def f():\n    return 1\n\nclass C:\n    pass\n\nx = f()\n"
        await s.run_stream(ReplayStream(text), listener=events.append)
    finally:
        await s.close()
    dispatches = [e.data["chunks"] for e in events if e.kind == "dispatch"]
    assert dispatches == [[0, 1, 2]]


async def test_serial_gate_runs_nothing_before_the_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = open_interpreter(config(tmp_path, gate="serial"))
    events: list[Event] = []
    try:
        await s.run_stream(ReplayStream("a = 1\nb = 2\nc = 3\n", rate=400), listener=events.append)
    finally:
        await s.close()
    kinds = [e.kind for e in events]
    assert kinds.index("dispatch") > kinds.index("end_of_stream")


async def test_syntax_error_runs_what_came_before_and_nothing_after(
    interpreter: Interpreter,
) -> None:
    stream = ReplayStream("a = 1\nb = = 2\nc = 3\n", rate=None)
    report = await interpreter.run_stream(stream)
    assert report.syntax_error is not None and report.syntax_error.line == 2
    assert [(r.chunk.start_line, r.ok) for r in report.results] == [(1, True)]


async def test_broken_source_keeps_what_ran_and_skips_the_unfinished_tail(
    interpreter: Interpreter,
) -> None:
    async def broken() -> AsyncIterator[str]:
        yield "a = 1\nb = 2\n"
        yield "c = (3 +"
        raise ConnectionError("dropped")

    with pytest.raises(StreamFailed) as info:
        await interpreter.run_stream(broken())
    report = info.value.report
    assert [r.chunk.start_line for r in report.results if r.ok] == [1, 2]
    assert len(report.chunks) == 2  # `c = (3 +` was never treated as complete


async def test_a_crash_is_reported_and_a_fresh_interpreter_follows(
    interpreter: Interpreter,
) -> None:
    report = await interpreter.run_stream(ReplayStream("import os\nkeep = 1\nos._exit(3)\n"))
    failed = report.failed
    assert failed is not None and failed.error is not None
    assert failed.error.type == "InterpreterLost" and failed.error.state_lost
    assert "3" in failed.error.message
    assert not report.interrupted  # nobody asked: the code's own end, an error
    again = await interpreter.run_stream(ReplayStream("alive = 'yes'\n"))
    assert again.results[0].ok


async def test_interrupt_stops_a_runaway_chunk_and_keeps_state(interpreter: Interpreter) -> None:
    run = interpreter.new_run()
    run.feed("kept = 7\nwhile True:\n    pass\n")
    run.end()
    for _ in range(200):
        if any(e.kind == "exec_start" and e.data["chunk"] == 1 for e in run.events):
            break
        await asyncio.sleep(0.02)
    assert await interpreter.interrupt() == "interrupted"
    report = await run.wait()
    assert report.results[1].error is not None
    assert report.results[1].error.type == "KeyboardInterrupt"
    assert report.interrupted and report.stopped_early
    after = await interpreter.run_stream(ReplayStream("kept\n"))
    assert after.results[0].expr is not None and after.results[0].expr.repr == "7"
    assert not after.interrupted


async def _when_running(run: Run, chunk: int) -> None:
    for _ in range(500):
        if any(e.kind == "exec_start" and e.data["chunk"] == chunk for e in run.events):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"chunk {chunk} never started")


async def test_only_an_interrupt_that_was_asked_for_is_reported_as_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`RunReport.interrupted` (what the editor shows as "interrupted", not as an error): a
    KeyboardInterrupt the code raises itself is the code's error; an interrupt the code
    ignored, so that the interpreter was killed, is still the interrupt asked for."""
    interpreter = open_interpreter(config(tmp_path, interrupt_grace_s=0.5))
    await interpreter.start()
    try:
        raised = await interpreter.run_stream(ReplayStream("raise KeyboardInterrupt\n"))
        assert raised.failed is not None and not raised.interrupted

        run = interpreter.new_run()
        stubborn = "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass\n"
        run.feed(stubborn)
        run.end()
        await _when_running(run, 1)
        assert await interpreter.interrupt() == "killed"
        killed = await run.wait()
        failed = killed.failed
        assert failed is not None and failed.error is not None and failed.error.state_lost
        assert killed.interrupted
    finally:
        await interpreter.close()


async def test_a_listener_that_raises_is_not_the_interpreter_lost(interpreter: Interpreter) -> None:
    """A listener's exception during a result came back from the executor and was taken for
    the interpreter dying: `worker_lost` was reported and the interpreter restarted, its
    state gone. The run stops instead (its source too: one that never ends, as follow
    mode's, is not waited for) and the exception is raised from it; the names stay."""
    await interpreter.run_stream(ReplayStream("kept = 41\n"))
    seen: list[str] = []

    class ListenerBug(Exception):
        pass

    def listener(event: Event) -> None:
        seen.append(event.kind)
        if event.kind == "result":
            raise ListenerBug

    async def endless() -> AsyncIterator[str]:
        yield "x = 1\n"
        while True:
            await asyncio.sleep(0.05)
            yield "y = 2\n"

    with pytest.raises(ListenerBug):
        await asyncio.wait_for(
            interpreter.run_stream(endless(), first_line=2, listener=listener), 30
        )
    assert "worker_lost" not in seen
    report = await interpreter.run_stream(ReplayStream("kept + 1\n"), first_line=3)
    assert report.results[0].ok and report.results[0].expr is not None
    assert report.results[0].expr.repr == "42"


@pytest.mark.parametrize("on", ["dispatch", "exec_start", "result", "release"])
@pytest.mark.parametrize("gate", ["eager", "parallel"])
async def test_a_listener_that_raises_stops_the_run_cleanly(tmp_path, gate: str, on: str) -> None:  # type: ignore[no-untyped-def]
    """Wherever the listener raises (a dispatch, a statement starting, a result, a release
    during a feed), and on every event: the run stops, its exception is raised from it, the
    statements that ran are recorded as run, and the interpreter keeps its names. (Reviewing
    helpers: a raise on `dispatch` hung the parallel gate, raises in two parallel batches
    restarted the interpreter, statements that had run were recorded as skipped.)"""
    session = open_interpreter(config(tmp_path, gate=gate))
    await session.start()
    try:

        class Bug(Exception):
            pass

        def listener(event: Event) -> None:
            if event.kind == on:
                raise Bug

        await session.run_stream(ReplayStream("kept = 0\n"))
        text = "".join(f"import time; time.sleep(0.02); v{i} = {i}\n" for i in range(6))
        run = session.new_run(first_line=2, listener=listener)
        run.feed(text)
        run.end()
        with pytest.raises(Bug):  # wait raises it, once the run has ended
            await asyncio.wait_for(run.wait(), 30)
        report = run.report()
        assert isinstance(run.listener_failure, Bug)
        assert report.stopped_early
        ran = [r for r in report.results if not r.skipped]
        assert all(r.ok for r in ran) and (ran or on == "release")  # (a stop before any ran)
        check = await session.run_stream(ReplayStream("kept + 1\n"), first_line=8)
        assert check.results[0].expr is not None and check.results[0].expr.repr == "1"
        with pytest.raises(Bug):  # and run_stream raises it
            await asyncio.wait_for(
                session.run_stream(ReplayStream(text, rate=None), listener=listener), 30
            )
    finally:
        await session.close()


async def test_an_exception_type_with_a_huge_name_is_cut(interpreter: Interpreter) -> None:
    """`type("E" * 5_000_000, (Exception,), {})` is legal; its name went whole into the stop
    reason, the status, the progress report and the summary (5 MB each)."""
    from eager_lsp.limits import NAME_CAP

    text = "E = type('E' * 5_000_000, (Exception,), {})\nraise E('m')\n"
    report = await interpreter.run_stream(ReplayStream(text))
    error = report.results[1].error
    assert error is not None and len(error.type) == NAME_CAP
    assert report.stop_reason is not None and len(report.stop_reason) < 3 * NAME_CAP


SLEEPER = "import time\ntime.sleep(60)\nafter = 1\n"


async def test_a_kill_the_server_asks_for_says_its_reason(interpreter: Interpreter) -> None:
    """`executor_lost(reason)` kills the interpreter on purpose (a second Ctrl-C, a restart):
    the statement it killed said "killed by SIGKILL (out of memory?)", what the worker's
    death looked like, and every client showed that. The reason travels with the kill now."""
    run = interpreter.new_run()
    run.feed(SLEEPER)
    run.end()
    await _when_running(run, 1)
    await interpreter.executor_lost("the interpreter was killed: testing")
    report = await asyncio.wait_for(run.wait(), 30)
    lost = report.results[1]
    assert lost.error is not None and lost.error.type == "InterpreterLost", lost
    assert lost.error.message.startswith("the interpreter was killed: testing"), lost.error
    assert "SIGKILL" not in lost.error.message and lost.error.state_lost
    again = await interpreter.run_stream(ReplayStream("alive = 'yes'\n"))
    assert again.results[0].ok


async def test_a_kill_from_outside_still_says_what_it_looked_like(
    interpreter: Interpreter,
) -> None:
    """A SIGKILL nobody here asked for (the OOM killer, `kill -9`) keeps its account."""
    import os
    import signal

    run = interpreter.new_run()
    run.feed(SLEEPER)
    run.end()
    await _when_running(run, 1)
    assert interpreter.pid is not None
    os.kill(interpreter.pid, signal.SIGKILL)
    report = await asyncio.wait_for(run.wait(), 30)
    lost = report.results[1]
    assert lost.error is not None and lost.error.type == "InterpreterLost", lost
    assert lost.error.message.startswith("killed by SIGKILL (out of memory?)"), lost.error


async def test_the_interpreters_argv_is_the_codes_sys_argv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`eager-lsp run a.py x` hands its argv to the interpreter; without one the code sees
    [path], as a language server's document does."""
    argv = ["a.py", "x", "--flag"]
    interpreter = open_interpreter(config(tmp_path), spares=0, argv=argv)
    try:
        report = await interpreter.run_stream(ReplayStream("import sys\nseen = sys.argv\n"))
    finally:
        await interpreter.close()
    assert report.results[1].values[0].repr == repr(argv)
    plain = Interpreter(config(tmp_path), pool=None)  # type: ignore[arg-type]  (never started)
    assert "argv" not in plain.chunk_request(report.chunks[0])


def test_an_argv_over_the_cap_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from eager_lsp.limits import ARGV_CAP

    with pytest.raises(ValueError, match="the script's arguments are too long"):
        Interpreter(config(tmp_path), pool=None, argv=["x" * ARGV_CAP])  # type: ignore[arg-type]
