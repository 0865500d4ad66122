"""Edit-aware re-execution (core/rerun.py) through the real worker: what re-runs, what is
kept, names of deleted statements gone, and a property test that random edit sequences leave
the namespace exactly as a fresh full run of the final text does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eager_lsp.core.config import InterpreterConfig
from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.rerun import drop_unwritten, rerun
from eager_lsp.core.types import ExecStart
from eager_lsp.executors.backend import open_interpreter

pytestmark = pytest.mark.slow

SNAPSHOT = (
    "repr(sorted((k, v) for k, v in globals().items() if not k.startswith('_') "
    "and isinstance(v, (int, float, str, list, dict, tuple, bool, type(None)))))"
)


def make_session(tmp_path, gate: str = "eager") -> Interpreter:  # type: ignore[no-untyped-def]
    config = InterpreterConfig(
        path=str(tmp_path / "doc.py"),
        cwd=str(tmp_path),
        debug=False,
        gate=GatePolicy.from_settings(gate),
    )
    return open_interpreter(config, spares=0)


async def namespace(session: Interpreter) -> str:
    """The plain values in the namespace, as one string (hashed when long)."""
    worker = await session.executor()
    code = f"__import__('hashlib').sha1({SNAPSHOT}.encode()).hexdigest() + ' ' + {SNAPSHOT}[:300]"
    results = await worker.execute(
        [
            {
                "id": -5,
                "code": code,
                "path": "<snapshot>",
                "first_line": 1,
                "names": [],
                "trailing_expr": True,
                "image_dir": session.image_dir,
            }
        ],
        stop_on_error=False,
    )
    expr = results[-1].get("expr") or {}
    assert results[-1].get("ok"), results[-1]
    return str(expr.get("repr"))


@pytest.fixture
async def session(tmp_path):  # type: ignore[no-untyped-def]
    s = make_session(tmp_path)
    await s.start()
    yield s
    await s.close()


SCRIPT = """import time
counter = [0]
def load():
    counter[0] += 1
    return list(range(10))
data = load()
total = sum(data)
label = "sum"
line = f"{label}: {total}"
"""


async def test_an_edit_reruns_the_statement_and_its_dependents_only(session: Interpreter) -> None:
    first = await rerun(session, SCRIPT)
    assert first.plan.full and first.ran == 7
    edited = SCRIPT.replace('label = "sum"', 'label = "total"')
    again = await rerun(session, edited)
    assert not again.plan.full
    assert [r.chunk.start_line for r in again.results] == [8, 9]
    assert again.status().startswith("re-ran 2 of 7 statements (")
    assert "a full rebuild would take ≈" in again.status()
    # load() ran once: the load step kept its state
    snap = await namespace(session)
    assert "('counter', [1])" in snap and "'total: 45'" in snap


async def test_editing_the_load_step_reruns_what_depends_on_it(session: Interpreter) -> None:
    await rerun(session, SCRIPT)
    edited = SCRIPT.replace("range(10)", "range(4)")
    again = await rerun(session, edited)
    ran = [r.chunk.start_line for r in again.results]
    assert ran == [2, 3, 6, 7, 9]  # def load changed; counter is written by load()
    assert again.plan.why[again.results[0].chunk.start_line] == "binds `counter`"
    snap = await namespace(session)
    assert "('counter', [1])" in snap and "'sum: 6'" in snap


async def test_a_deleted_statement_leaves_the_namespace(session: Interpreter) -> None:
    await rerun(session, "a = 1\nb = 2\nc = a + b\n")
    again = await rerun(session, "a = 1\nc = a + 10\n")
    assert again.plan.forget == ["b", "c"]
    snap = await namespace(session)
    assert "('b'," not in snap and "('c', 11)" in snap


async def test_fallback_to_a_full_rebuild_says_why(session: Interpreter) -> None:
    await rerun(session, "a = 1\nb = 2\n")
    again = await rerun(session, "a = 1\nexec('b = 3')\n")
    assert again.plan.full and again.ran == 2
    assert again.status().startswith("full rebuild (line 2: `exec()`")


async def test_an_unchanged_failure_is_attempted_and_not_rerun(session: Interpreter) -> None:
    first = await rerun(session, "a = 1\nb = a / 0\nc = 3\n")
    assert first.failed is not None and first.failed.chunk.start_line == 2
    again = await rerun(session, "a = 1\nb = a / 0\nc = 3\n# note\n")
    assert again.ran == 0 and again.plan.halted_at is not None
    fixed = await rerun(session, "a = 1\nb = a / 1\nc = 3\n")
    assert [r.chunk.start_line for r in fixed.results] == [2, 3]
    assert "('c', 3)" in await namespace(session)


async def test_an_unchanged_interrupted_statement_is_said_to_be_one(session: Interpreter) -> None:
    """A statement the user interrupted halts the next re-run as a failure does, and the
    status says which it was (it said "the error" of a statement that raised nothing)."""
    text = "import time\nt = time.sleep(30)\nc = 3\n"
    first = asyncio.ensure_future(rerun(session, text))
    for _ in range(200):  # until the sleep runs
        run = session.run
        if run is not None and any(isinstance(e, ExecStart) and e.chunk == 1 for e in run.events):
            break
        await asyncio.sleep(0.05)
    await session.interrupt()
    report = await first
    assert report.failed is not None and report.failed.chunk.start_line == 2
    again = await rerun(session, text + "# note\n")
    assert again.ran == 0 and again.plan.halted_interrupted
    assert "stopped at the interrupted statement on line 2, unchanged" in again.status()
    failing = await rerun(session, "a = 1 / 0\nc = 3\n")
    assert failing.failed is not None
    assert (
        "stopped at the error on line 1" in (await rerun(session, "a = 1 / 0\nc = 3\n#\n")).status()
    )


# -- the property test ------------------------------------------------------------------------

NAMES = ("v0", "v1", "v2", "v3", "v4")


def statement(draw, available: list[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(code, name it binds or "") reading only names in `available`."""
    target = draw(st.sampled_from(NAMES))
    k = draw(st.integers(-3, 9))
    kinds = ["const"]
    if available:
        kinds += ["sum", "loop", "branch", "call", "append", "item"]
    kind = draw(st.sampled_from(kinds))
    src = draw(st.sampled_from(available)) if available else ""
    if kind == "const":
        return f"{target} = {k}\n", target
    if kind == "sum":
        other = draw(st.sampled_from(available))
        return f"{target} = {src} + {other} * {k}\n", target
    if kind == "loop":
        return f"{target} = 0\nfor i in range(3):\n    {target} = {target} + {src} + i\n", target
    if kind == "branch":
        return f"if {src} > {k}:\n    {target} = {src} - 1\nelse:\n    {target} = {k}\n", target
    if kind == "call":
        return (
            f"def f_{target}(x):\n    return x * {k} + {src}\n{target} = f_{target}({src})\n",
            target,
        )
    if kind == "append":
        return f"acc.append({src} + {k})\n", ""
    return f"box['{target}'] = {src}\nbox_{target} = sorted(box.items())\n", f"box_{target}"


def valid(draw, specs: list[tuple[str, str]]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Replace statements that read a name nothing above binds by a constant."""
    from eager_lsp.core.dependencies import effects

    bound = {"acc", "box", "push", "range", "sorted"}
    out = []
    for code, name in specs:
        e = effects(code)
        if not (e.reads - bound - {"i", "x"} - {f"f_{n}" for n in NAMES}) <= set():
            code, name = f"{name or 'v0'} = {draw(st.integers(0, 5))}\n", name or "v0"
        out.append((code, name))
        bound |= set(effects(code).binds)
    return out


def render(specs: list[tuple[str, str]]) -> str:
    head = "acc = []\nbox = {}\n"
    return head + "".join(code for code, _ in specs)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[tuple[asyncio.AbstractEventLoop, Interpreter, Interpreter]]:  # type: ignore[no-untyped-def]
    loop = asyncio.new_event_loop()
    tmp = tmp_path_factory.mktemp("rerun")

    async def start() -> tuple[Interpreter, Interpreter]:
        a, b = make_session(tmp), make_session(tmp)
        await asyncio.gather(a.start(), b.start())
        return a, b

    inc, ref = loop.run_until_complete(start())
    yield loop, inc, ref

    async def close() -> None:
        await asyncio.gather(inc.close(), ref.close())

    loop.run_until_complete(close())
    loop.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_edits_leave_the_namespace_of_a_fresh_run(pair, data) -> None:  # type: ignore[no-untyped-def]
    loop, inc, ref = pair
    draw = data.draw

    def draw_specs(n: int) -> list[tuple[str, str]]:
        specs: list[tuple[str, str]] = []
        names: list[str] = []
        for _ in range(n):
            code, name = statement(draw, names)
            specs.append((code, name))
            if name and name in NAMES:
                names.append(name)
        return specs

    async def scenario() -> None:
        await inc.reset()
        specs = valid(draw, draw_specs(draw(st.integers(2, 8))))
        await rerun(inc, render(specs))
        for _ in range(draw(st.integers(1, 4))):
            op = draw(st.sampled_from(["replace", "insert", "delete", "move"]))
            at = draw(st.integers(0, max(0, len(specs) - 1)))
            above = [n for _, n in specs[:at] if n in NAMES]
            if op == "replace" and specs:
                specs[at] = statement(draw, above)
            elif op == "insert":
                specs.insert(at, statement(draw, above))
            elif op == "delete" and len(specs) > 1:
                specs.pop(at)
            elif op == "move" and len(specs) > 1:
                specs.insert(draw(st.integers(0, len(specs) - 1)), specs.pop(at))
            specs = valid(draw, specs)
            text = render(specs)
            step = await rerun(inc, text)
            assert step.failed is None, (text, step.failed)
            fresh = await rerun(ref, text, force_full="reference")
            assert fresh.failed is None
            got, want = await namespace(inc), await namespace(ref)
            assert got == want, (
                f"after {op}:\n{text}\nplan: {step.plan.why} forget {step.plan.forget}"
            )

    loop.run_until_complete(scenario())


async def test_a_syntax_error_in_the_new_text_is_reported_on_its_line(session: Interpreter) -> None:
    await rerun(session, "a = 1\nb = 2\nc = 3\n")
    again = await rerun(session, "a = 1\nb = 20\nc = (\n")
    assert again.syntax_error is not None and again.syntax_error.line == 3
    assert again.report is not None and again.report.syntax_error is not None
    assert again.report.syntax_error.line == 3
    assert [r.chunk.start_line for r in again.results] == [2]
    assert "('c'," not in await namespace(session)  # past the error: as a fresh run


async def test_a_lost_interpreter_makes_the_next_rerun_a_full_one(session: Interpreter) -> None:
    await rerun(session, "a = 1\nb = 2\n")
    executor = await session.executor()
    await executor.kill()  # gone without the interpreter knowing
    again = await rerun(session, "a = 1\nb = 3\n")
    assert again.plan.full and "the interpreter was lost" in again.plan.reason
    assert again.ran == 2 and "('b', 3)" in await namespace(session)


async def test_every_result_of_a_run_is_recorded_in_the_ledger(session: Interpreter) -> None:
    from eager_lsp.providers.replay import ReplayStream

    report = await session.run_stream(ReplayStream("a = 1\nb = a / 0\nc = 2\n"))
    recs = session.ledger.records
    assert [(r.start_line, r.status, r.binds) for r in recs] == [
        (1, "ok", ("a",)),
        (2, "failed", ("b",)),
        (3, "skipped", ("c",)),
    ]
    assert [r.result for r in recs] == report.results  # the run's results are the records'
    assert session.run is not None and session.run.results[1] is recs[1].result
    assert recs[0].duration > 0 and recs[2].duration == 0
    await session.reset()
    assert len(session.ledger) == 0  # a fresh namespace: nothing ran in it


async def test_an_interrupted_statement_is_recorded_as_attempted(session: Interpreter) -> None:
    from eager_lsp.providers.replay import ReplayStream

    task = asyncio.ensure_future(session.run_stream(ReplayStream("while True:\n    pass\n")))
    for _ in range(600):  # bounded: until the loop runs and takes the interrupt
        if await session.interrupt() == "interrupted":
            break
        await asyncio.sleep(0.05)
    await task
    (rec,) = session.ledger.records
    assert rec.status == "interrupted" and rec.attempted and rec.failed


async def test_a_cancelled_rerun_runs_nothing_more(session: Interpreter) -> None:
    await rerun(session, "a = 1\n")
    task = asyncio.ensure_future(rerun(session, "a = 2\nimport time\ntime.sleep(30)\nz = 1\n"))
    for _ in range(600):  # bounded: until the sleep is running
        if any(r.binds == ("time",) for r in session.ledger.records):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await session.interrupt() == "idle"  # the sleep was interrupted, nothing runs
    assert "('z'," not in await namespace(session)


# -- statements that ran but were never written (core/rerun.drop_unwritten) -----------------------


async def _stream(session: Interpreter, text: str, first_line: int) -> None:
    """Run `text` at `first_line` as a generation's stream does."""
    run = session.new_run(first_line=first_line)
    run.feed(text)
    run.end()
    await run.wait()


async def test_unwritten_statements_leave_the_namespace_and_what_they_changed_reruns(
    session: Interpreter,
) -> None:
    await rerun(session, "a = 1\nb = a + 1\n")
    since = session.ledger.seq
    await _stream(session, "c = 2\na = 5\nd = [a]\n", first_line=3)
    # Written: the first of the stream's statements. Below it, text that never ran.
    report = await drop_unwritten(session, "a = 1\nb = a + 1\nc = 2\nnever = 1\n", since=since)
    assert [r.code.strip() for r in report.plan.removed] == ["a = 5", "d = [a]"]
    assert [r.chunk.start_line for r in report.results] == [1, 2]  # a = 1, b = a + 1
    snap = await namespace(session)
    assert "('a', 1)" in snap and "('b', 2)" in snap and "('c', 2)" in snap
    assert "('d'," not in snap and "('never'," not in snap
    assert [r.code.strip() for r in session.ledger.records] == ["a = 1", "b = a + 1", "c = 2"]


async def test_unwritten_statements_the_graph_cannot_follow_only_lose_their_own_names(
    session: Interpreter,
) -> None:
    await rerun(session, "a = 1\n")
    since = session.ledger.seq
    await _stream(session, "d = 4\nexec('a = 3')\n", first_line=2)
    report = await drop_unwritten(session, "a = 1\n", since=since)
    assert "`exec()`" in report.plan.reason and report.ran == 0
    assert report.plan.forget == ["d"]
    snap = await namespace(session)
    assert "('d'," not in snap
    assert [r.code.strip() for r in session.ledger.records] == ["a = 1"]


async def test_a_listener_that_raises_is_raised_from_the_rerun(session: Interpreter) -> None:
    """`watch` printed with a listener; when it raised (an encoding error on the terminal),
    the re-run swallowed it: statements missing from the output, and the command exited 0
    (a reviewing helper)."""

    def listener(event: Any) -> None:
        if event.kind == "result":
            raise UnicodeEncodeError("ascii", "→", 0, 1, "no arrow here")

    with pytest.raises(UnicodeEncodeError):
        await rerun(session, "x = 1\nx + 1\n", listener=listener)
