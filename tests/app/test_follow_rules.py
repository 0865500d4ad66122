"""Follow mode's rules (app/follow.py) on plain texts: what may run while someone types, and
what an edit to the text means. The language server's follow mode (tests/lsp/test_follow.py,
the Neovim and VS Code e2e tests) drives the same functions with a real document."""

from __future__ import annotations

import pytest

from eager_lsp.app.follow import (
    FollowState,
    Step,
    common_prefix,
    follow_step,
    settled_text,
)
from eager_lsp.core.text_lines import TextLines


def settled(source: str, *, edit_line: int | None, cursor_line: int | None = None) -> str:
    return settled_text(TextLines(source), edit_line=edit_line, cursor_line=cursor_line)


def test_a_pause_in_the_middle_of_a_line_never_runs_it() -> None:
    # Typing `x = 1` on line 1; the text ends with the newline Neovim always sends.
    text = "a = 1\nx = 1\n"
    assert settled(text, edit_line=1, cursor_line=1) == "a = 1\n"
    assert settled("a = 1\nx = 1", edit_line=1, cursor_line=1) == "a = 1\n"


def test_a_newline_typed_and_the_cursor_off_the_line_runs_it() -> None:
    text = "a = 1\nx = 1\n"
    assert settled(text, edit_line=1, cursor_line=2) == text


def test_without_a_cursor_only_a_later_line_started_runs_it() -> None:
    assert settled("a = 1\nx = 1\n", edit_line=1, cursor_line=None) == "a = 1\n"
    # the edit ended on line 2: a later line was started, line 1 is done
    assert settled("a = 1\nx = 1\ny", edit_line=2) == "a = 1\nx = 1\n"
    assert settled("a = 1\nx = 1\n\n", edit_line=1, cursor_line=None) == "a = 1\n"


def test_an_edit_above_the_last_line_or_no_edit_settles_everything() -> None:
    assert settled("a = 1\nx = 1\n", edit_line=0) == "a = 1\nx = 1\n"
    assert settled("a = 1\nx = 1", edit_line=None) == "a = 1\nx = 1"
    assert settled("\n\n", edit_line=1) == "\n\n"


def test_the_steps_for_edits() -> None:
    state = FollowState()
    text = TextLines("a = 1\nb = 2\n")
    assert state.plan(text.source, text, streaming=False) is Step.REBUILD
    state.rebuilding()
    state.streamed("a = 1\n")
    state.released(1)
    # appended text goes into the running stream; without one, a new stream of the tail
    assert state.plan(text.source, text, streaming=True) is Step.APPEND
    assert state.plan(text.source, text, streaming=False) is Step.RESTART
    assert state.plan("a = 1\n", text, streaming=True) is Step.NOTHING
    # an edit to a statement that ran re-runs what it affects
    edited = TextLines("a = 2\nb = 2\n")
    assert state.plan(edited.source, edited, streaming=True) is Step.RERUN
    # after an error nothing runs until the failing statement (or before it) is edited
    state.stopped_at_error()
    assert state.plan(text.source, text, streaming=True) is Step.HOLD
    assert state.plan(edited.source, edited, streaming=True) is Step.RERUN
    state.reran(edited.source, released_upto=2, halted=False)
    assert state.plan(edited.source, edited, streaming=False) is Step.NOTHING
    assert state.restarting() == 2 and not state.halted


def test_text_another_activity_ran_counts_as_run() -> None:
    state = FollowState(rebuild_next=False, halted=True)
    state.ran_elsewhere(TextLines("a = 1\nb = 2"))
    assert (state.released_upto, state.halted, state.snapshot) == (1, False, "a = 1\nb = 2")
    state.interpreter_replaced()
    assert state.plan("a = 1\n", TextLines("a = 1\n"), streaming=True) is Step.REBUILD


@pytest.mark.parametrize(("a", "b", "n"), [("", "x", 0), ("abc", "abd", 2), ("ab", "ab", 2)])
def test_common_prefix(a: str, b: str, n: int) -> None:
    assert common_prefix(a, b) == n


class RecordingEdge:
    """A text source for `follow_step` that records what it is told to do (its "runs" are
    bookkeeping: the rules, not an interpreter, are under test here)."""

    def __init__(self, state: FollowState, source: str, *, edit_line: int | None) -> None:
        self.state, self.source, self.edit_line = state, source, edit_line
        self.stream: str | None = None  # the text pushed into a running stream
        self.done: list[str] = []
        self.typed_meanwhile = False

    def settled(self) -> tuple[str, TextLines]:
        lines = TextLines(self.source)
        return settled_text(lines, edit_line=self.edit_line, cursor_line=None), lines

    def streaming(self) -> bool:
        return self.stream is not None

    def push(self, text: str) -> None:
        assert self.stream is not None
        self.stream += text

    async def drained(self) -> None:
        self.done.append("drained")

    def typing(self) -> bool:
        return self.typed_meanwhile

    async def rebuild(self) -> None:
        new, _ = self.settled()
        self.stream = new
        self.state.streamed(new)
        self.state.released(new.count("\n"))
        self.done.append("rebuild")

    async def restart(self, base: int) -> None:
        self.done.append(f"restart from {base}")

    async def rerun(self) -> None:
        new, _ = self.settled()
        self.state.reran(new, released_upto=new.count("\n"), halted=False)
        self.done.append("rerun")


async def test_a_round_streams_appends_and_reruns_edits_after_a_pause() -> None:
    state = FollowState()
    edge = RecordingEdge(state, "a = 1\nb = 2\n", edit_line=None)  # opened: all settled
    assert await follow_step(state, edge) is Step.REBUILD
    assert edge.stream == "a = 1\nb = 2\n"
    # `c = 3` is being typed: held back; once a later line is started it streams
    edge.source, edge.edit_line = "a = 1\nb = 2\nc = 3", 2
    assert await follow_step(state, edge) is Step.NOTHING
    edge.source, edge.edit_line = "a = 1\nb = 2\nc = 3\nd", 3
    assert await follow_step(state, edge) is Step.APPEND
    assert edge.stream == "a = 1\nb = 2\nc = 3\n"
    # an edit to `a`, which ran: nothing while the user keeps typing, then a re-run
    edge.source, edge.edit_line = "a = 9\nb = 2\nc = 3\nd", 0
    edge.typed_meanwhile = True
    assert await follow_step(state, edge) is Step.NOTHING
    assert "rerun" not in edge.done
    edge.typed_meanwhile = False
    assert await follow_step(state, edge) is Step.RERUN
    assert edge.done == ["rebuild", "drained", "drained", "rerun"]
    assert state.snapshot == "a = 9\nb = 2\nc = 3\nd"
