"""The application layer driven directly, with no terminal and no language server: a real worker
subprocess and a real HTTP server speaking the OpenAI streaming format."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eager_lsp.app.attempt import NO_CODE, Attempt, line_end
from eager_lsp.app.generate import GenerationStop, generate
from eager_lsp.app.run import run_text
from eager_lsp.core.config import InterpreterConfig
from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.types import Chunk, ChunkResult, ErrorInfo, Event, SyntaxIssue, failure_text
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.config import LLMConfig
from eager_lsp.providers.replay import ReplayStream
from tests.support.openai_server import FakeOpenAIServer
from tests.support.scripts import PRICES_BROKEN, PRICES_REPEATING_FIX

pytestmark = pytest.mark.slow

BROKEN = PRICES_BROKEN
REPEATING_FIX = PRICES_REPEATING_FIX
UNCHANGED = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\ntotal = prices[ 'apple' ] * 3  # same statement\n"
)


@dataclass
class Recorder:
    """A GenerateView that only records what it is told."""

    pieces: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    started: list[tuple[int, int]] = field(default_factory=list)  # (number, first_line)
    ended: list[int] = field(default_factory=list)

    def piece(self, text: str) -> None:
        self.pieces.append(text)

    def event(self, event: Event) -> None:
        self.events.append(event)

    def cut(self, keep: int) -> None:
        self.cuts.append(keep)

    def attempt_started(self, attempt: Attempt, number: int) -> None:
        self.started.append((number, attempt.first_line))

    def attempt_ended(self, attempt: Attempt, number: int) -> None:
        self.ended.append(number)

    def results(self) -> list[ChunkResult]:
        return [e.data["result"] for e in self.events if e.kind == "result"]


def llm(srv: FakeOpenAIServer) -> LLMConfig:
    return LLMConfig(provider="openai", base_url=srv.url, api_key="sk-test", model="fake")


@pytest.fixture
async def interpreter(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_interpreter(
        InterpreterConfig(
            path=str(tmp_path / "gen.py"),
            cwd=str(tmp_path),
            debug=False,
            gate=GatePolicy.from_settings("eager"),
        ),
        spares=0,
    )
    await s.start()
    yield s
    await s.close()


async def test_generate_keeps_the_code_up_to_the_failing_statement(
    interpreter: Interpreter,
) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN + "".join(f"pad{i} = {i}\n" for i in range(30)), delay=0.005)
        view = Recorder()
        outcome = await generate(interpreter, llm(srv), "sum the prices", view, path="gen.py")
    assert not outcome.ok
    assert outcome.code == BROKEN[: BROKEN.index("print('total")]
    attempt = outcome.attempts[0]
    assert attempt.failure == "KeyError: 'apple'"
    # The edge was told at once where the kept text ends, after the failing statement's event.
    assert view.cuts == [len(outcome.code)]
    kinds = [e.kind for e in view.events]
    assert "result" in kinds and "release" in kinds and "exec_start" in kinds
    # The timeline's own events are in the run's report, not handed to the edge (app/attempt.py)
    assert not {"piece", "dispatch", "exec_end"} & set(kinds)
    assert attempt.report is not None
    assert {"piece", "dispatch", "exec_end"} <= {e.kind for e in attempt.report.events}
    assert [r.ok for r in view.results()][:3] == [True, True, False]
    assert view.started == [(0, 1)] and view.ended == [0]
    assert "".join(view.pieces) == attempt.text


async def test_repair_rewrites_from_the_failing_statement(interpreter: Interpreter) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=REPEATING_FIX, delay=0.005)
        view = Recorder()
        outcome = await generate(
            interpreter, llm(srv), "sum the prices", view, path="gen.py", repairs=1
        )
        repair_prompt = srv.chat_requests[1].body["messages"][-1]["content"]
    assert outcome.ok, [a.error for a in outcome.attempts]
    assert outcome.code == REPEATING_FIX
    assert view.started == [(0, 1), (1, 3)]  # the repair streams from the failing line on
    stats = outcome.attempts[1].stats
    assert stats is not None and len(stats.dropped) == 2  # what ran is not run again
    # Each statement that ran did so once: 'fruits:' printed once over both attempts.
    printed = [r.stdout for r in view.results() if r.stdout]
    assert sum("fruits:" in out for out in printed) == 1
    assert "KeyError" in repair_prompt and "'Apple'" in repair_prompt  # traceback and facts


async def test_an_unchanged_answer_runs_nothing_and_keeps_the_failing_code(
    interpreter: Interpreter,
) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=UNCHANGED, delay=0.005)
        view = Recorder()
        outcome = await generate(
            interpreter, llm(srv), "sum the prices", view, path="gen.py", repairs=1
        )
    assert not outcome.ok
    last = outcome.attempts[-1]
    assert last.unchanged
    assert outcome.error == last.unchanged_message
    assert "line 3" in (outcome.error or "") and "KeyError" in (outcome.error or "")
    assert outcome.code == BROKEN[: BROKEN.index("print('total")]


async def test_a_broken_stream_keeps_what_ran_and_is_not_raised(interpreter: Interpreter) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(pieces=["a = 1\n", "b = a + 1\n", "c = (b +"], drop_after=2)
        view = Recorder()
        outcome = await generate(interpreter, llm(srv), "count", view, path="gen.py")
    attempt = outcome.attempts[0]
    assert not outcome.ok
    assert attempt.error is not None and attempt.cause is not None
    assert attempt.report is not None
    assert [r.ok for r in attempt.report.results] == [True, True]
    assert outcome.code == "a = 1\nb = a + 1\n"


async def test_an_empty_answer_is_an_error(interpreter: Interpreter) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(pieces=[])
        outcome = await generate(interpreter, llm(srv), "nothing", Recorder(), path="gen.py")
    assert not outcome.ok and outcome.error == NO_CODE


async def test_a_stop_between_attempts_starts_no_repair_and_keeps_the_failing_code(
    interpreter: Interpreter,
) -> None:
    """Stopped while the repair's prompt is built (Ctrl-C of `eager-lsp generate`): the
    repair never streams (the model is not asked), and the code it was to replace stays."""
    stop = GenerationStop(interpreter)
    stopping: list[asyncio.Future[object]] = []

    @dataclass
    class StopAfterFirst(Recorder):
        def attempt_ended(self, attempt: Attempt, number: int) -> None:
            super().attempt_ended(attempt, number)
            if number == 0:  # (it lands while the repair's facts are read from the worker)
                stopping.append(asyncio.ensure_future(stop.stop("stopped by the test")))

    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=REPEATING_FIX, delay=0.005)
        view = StopAfterFirst()
        outcome = await generate(
            interpreter, llm(srv), "sum the prices", view, path="gen.py", repairs=2, stop=stop
        )
        asked = len(srv.chat_requests)
    assert asked == 1 and stopping[0].done()
    assert outcome.stopped and not outcome.ok and stop.over
    assert view.started == [(0, 1)]
    repair = outcome.attempts[1]
    assert repair.stopped == "stopped by the test" and repair.report is None
    assert repair.error is None  # (not "the model returned no code")
    assert outcome.code == BROKEN[: BROKEN.index("print('total")]


def test_a_stop_keeps_every_complete_line_unless_an_error_stopped_the_run_first() -> None:
    """The KeyboardInterrupt a person's stop causes cuts nothing (the code after it was
    written, it is not wrong); an error that had stopped the run before keeps its cut; an
    unfinished last line never stays."""
    text = "a = 1\nb = slow()\nc = 3\nd = ("
    chunk = Chunk(
        index=1,
        start_line=2,
        end_line=2,
        code="b = slow()\n",
        released_offset=6,
        released_at=0.0,
        kind="simple",
    )
    failed = ChunkResult(chunk, ok=False, error=ErrorInfo("KeyboardInterrupt", "", 2))

    def attempt(stopped: str | None = None, error_first: bool = False) -> Attempt:
        return Attempt(
            first_line=1,
            stream=ReplayStream(""),
            text=text,
            failed=failed,
            stopped=stopped,
            error_stopped_first=error_first,
        )

    assert attempt().kept_text() == "a = 1\nb = slow()\n"  # an error: cut after it
    assert attempt("stopped").kept_text() == "a = 1\nb = slow()\nc = 3\n"
    assert attempt("stopped", error_first=True).kept_text() == "a = 1\nb = slow()\n"


async def test_run_text_reports_the_error_text_and_what_was_not_streamed(
    interpreter: Interpreter,
) -> None:
    text = "x = 1\ny = x / 0\n" + "".join(f"z{i} = {i}\n" for i in range(200))
    events: list[Event] = []
    outcome = await run_text(interpreter, text, listener=events.append, rate=200.0, piece_size=4)
    assert not outcome.ok
    assert outcome.error == "ZeroDivisionError: division by zero"
    assert outcome.chars_total == len(text)
    assert outcome.chars_streamed < outcome.chars_total  # it stopped at the error
    assert any(e.kind == "result" for e in events)
    ok = await run_text(interpreter, "w = 2\n", first_line=300)
    assert ok.ok and ok.error is None


def test_error_text_is_built_in_one_place() -> None:
    assert ErrorInfo("ZeroDivisionError", "division by zero", 3).text == (
        "ZeroDivisionError: division by zero"
    )
    assert ErrorInfo("KeyboardInterrupt", "", 3).text == "KeyboardInterrupt"
    assert SyntaxIssue(2, 0, "invalid syntax").text == "SyntaxError: invalid syntax"
    assert failure_text(None) is None


def test_line_end() -> None:
    text = "a\nbb\nccc"
    assert [line_end(text, k) for k in range(4)] == [2, 5, 8, 8]
