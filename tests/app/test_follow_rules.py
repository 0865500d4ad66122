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
    typed_line,
)
from eager_lsp.core.text_lines import TextLines


def settled(
    source: str, *, edit_line: int | None, cursor_line: int | None = None, held: str = ""
) -> str:
    return settled_text(TextLines(source), edit_line=edit_line, cursor_line=cursor_line, held=held)


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


def test_no_edit_or_nothing_typed_on_the_line_settles_everything() -> None:
    assert settled("a = 1\nx = 1", edit_line=None) == "a = 1\nx = 1"
    assert settled("\n\n", edit_line=1) == "\n\n"
    assert settled("a = 1\n\nb = 2\n", edit_line=1, cursor_line=1) == "a = 1\n\nb = 2\n"


def test_a_half_typed_line_in_the_middle_of_the_file_never_runs() -> None:
    """Bug B (a user trial in Neovim): `gg o`, then `cou` with pauses, the cursor on that
    line: it ran (NameError). The line is blanked; the statements around it stay settled."""
    text = "x = 1\ncou\ny = 2\n"
    assert settled(text, edit_line=1, cursor_line=1) == "x = 1\n\ny = 2\n"
    assert settled(text, edit_line=1, cursor_line=0) == "x = 1\n\ny = 2\n"  # cursor above
    assert settled(text, edit_line=1, cursor_line=None) == "x = 1\n\ny = 2\n"
    # moved past it: the cursor on a later line, or a later line started
    assert settled(text, edit_line=1, cursor_line=2) == text
    assert settled("x = 1\ncount = 1\nz\ny = 2\n", edit_line=2) == "x = 1\ncount = 1\n\ny = 2\n"
    # editing a statement that ran: it counts as it ran (`held`) until the user moved past
    edited = "a = 10\nb = a\n"
    assert settled(edited, edit_line=0, cursor_line=0, held="a = 1") == "a = 1\nb = a\n"
    assert settled(edited, edit_line=0, cursor_line=1, held="a = 1") == edited
    assert settled("x = 1\na = 10\n", edit_line=1, held="a = 1") == "x = 1\na = 1\n"


def test_moving_the_cursor_up_off_the_last_line_does_not_run_it() -> None:
    """Bug C: `o`, `cou`, <Esc>, `k`: the cursor left the line upwards; the only newline is
    the one Neovim keeps at the end. Moving up is not moving past it."""
    text = "x = 1\ncou\n"
    assert settled(text, edit_line=1, cursor_line=0) == "x = 1\n"
    assert settled(text, edit_line=1, cursor_line=2) == text  # down, after a newline: runs


def typed(before: str, start: int, end: int, text: str, previous: int | None = None) -> int | None:
    after = before[:start] + text + before[end:]
    return typed_line(before, start, end, text, TextLines(after), previous)


def test_the_line_being_typed_is_where_the_edit_ends() -> None:
    assert typed("x = 1\ny = 2\n", 7, 7, "z") == 1  # a character typed on line 1
    assert typed("x = 1\n", 5, 5, "\n") == 1  # Enter at the end of a line: the new line
    assert typed("x = 1\n", 2, 2, "\n") == 1  # Enter inside a line: the rest, on line 1
    # Neovim's `o` on line 0: "\n\n" over line 0's newline; `y = 2` only moved down
    assert typed("x = 1\ny = 2\n", 5, 6, "\n\n") == 1
    # Enter at the start of a line: the new (blank) line above the moved one ...
    assert typed("x = 1\ny = 2\n", 6, 6, "\n") == 1
    # ... unless the moved line is the one being typed: it still is
    assert typed("x = 1\ncou\n", 6, 6, "\n", previous=1) == 2
    # a newline typed on the line being typed: still that line, until the cursor leaves it
    # or a later line is started
    assert typed("a = 1\ncount = a\n", 15, 15, "\n", previous=1) == 1
    assert typed("a = 1\ncount = a\n", 5, 6, "\n\n", previous=0) == 0  # `o` after typing it
    assert typed("a = 1\ncount = a\n\n", 16, 16, "p", previous=1) == 2  # a later line started
    # whole lines deleted (`dd`): nothing is being typed, unless the moved line was
    assert typed("a\nb\nc\n", 2, 4, "") is None
    assert typed("a\n\ncou\n", 2, 3, "", previous=2) == 1
    assert typed("a\nbc\n", 3, 4, "") == 1  # a character deleted


def test_the_steps_for_edits() -> None:
    state = FollowState()
    text = TextLines("a = 1\nb = 2\n")
    assert state.plan(text.source, streaming=False) is Step.REBUILD
    state.rebuilding()
    state.streamed("a = 1\n")
    state.released(1)
    # appended text goes into the running stream; without one, a new stream of the tail
    assert state.plan(text.source, streaming=True) is Step.APPEND
    assert state.plan(text.source, streaming=False) is Step.RESTART
    assert state.plan("a = 1\n", streaming=True) is Step.NOTHING
    # an edit to a statement that ran re-runs what it affects
    edited = TextLines("a = 2\nb = 2\n")
    assert state.plan(edited.source, streaming=True) is Step.RERUN
    # after an error nothing runs until the failing statement (or before it) is edited
    state.stopped_at_error()
    assert state.plan(text.source, streaming=True) is Step.HOLD
    assert state.plan(edited.source, streaming=True) is Step.RERUN
    state.reran(edited.source, released_upto=2, halted=False)
    assert state.plan(edited.source, streaming=False) is Step.NOTHING
    assert state.restarting() == 2 and not state.halted


def test_text_another_activity_ran_counts_as_run() -> None:
    state = FollowState(rebuild_next=False, halted=True)
    state.ran_elsewhere(TextLines("a = 1\nb = 2"))
    assert (state.released_upto, state.halted, state.snapshot) == (1, False, "a = 1\nb = 2")
    state.interpreter_replaced()
    assert state.plan("a = 1\n", streaming=True) is Step.REBUILD


@pytest.mark.parametrize(("a", "b", "n"), [("", "x", 0), ("abc", "abd", 2), ("ab", "ab", 2)])
def test_common_prefix(a: str, b: str, n: int) -> None:
    assert common_prefix(a, b) == n


class RecordingEdge:
    """A text source for `follow_step` that records what it is told to do (its "runs" are
    bookkeeping: the rules, not an interpreter, are under test here)."""

    def __init__(self, state: FollowState, source: str, *, edit_line: int | None) -> None:
        self.state, self.source, self.edit_line = state, source, edit_line
        self.cursor_line: int | None = None
        self.held = ""
        self.stream: str | None = None  # the text pushed into a running stream
        self.done: list[str] = []
        self.typed_meanwhile = False

    def settled(self) -> str:
        lines = TextLines(self.source)
        return settled_text(
            lines, edit_line=self.edit_line, cursor_line=self.cursor_line, held=self.held
        )

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
        new = self.settled()
        self.stream = new
        self.state.streamed(new)
        self.state.released(new.count("\n"))
        self.done.append("rebuild")

    async def restart(self, base: int) -> None:
        self.done.append(f"restart from {base}")

    async def rerun(self) -> None:
        new = self.settled()
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
    # an edit to `a`, which ran: while the cursor is on its line it counts as it ran; once
    # the user moved past it, nothing while typing goes on, then a re-run
    edge.source, edge.edit_line, edge.cursor_line = "a = 9\nb = 2\nc = 3\nd", 0, 0
    edge.held = "a = 1"
    assert edge.settled() == "a = 1\nb = 2\nc = 3\nd"
    edge.cursor_line = 1
    edge.typed_meanwhile = True
    assert await follow_step(state, edge) is Step.NOTHING
    assert "rerun" not in edge.done
    edge.typed_meanwhile = False
    assert await follow_step(state, edge) is Step.RERUN
    assert edge.done == ["rebuild", "drained", "drained", "rerun"]
    assert state.snapshot == "a = 9\nb = 2\nc = 3\nd"
