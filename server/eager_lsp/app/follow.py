"""Follow mode's rules: which statements of a text someone is typing may run, and what an edit
means for what already ran. Written once, for any text source; the language server's
`lsp/follow.py` is the edge that feeds it a document, its edits and the cursor, and carries
out the steps (a stream through a run, a re-run of the edited statements, a rebuild).

Rules, and why (docs/configuration.md, "Follow mode"; issue #10):
- A statement runs only once the user has moved past it. The line being typed is the line of
  the user's latest edit (`typed_line`), wherever it is in the file: it is held back
  (`settled_text`) until the user moves past it, i.e. until a newline follows it and the
  cursor is on a later line (the edge then forgets the line), or a later line is started
  (text typed on it; a newline alone keeps the line it was typed on the line being typed).
  The cursor on that line, or above it (Neovim's `k` after typing `cou`), is not moving past
  it. A pause in the middle of a line never runs it, even when the text ends in a newline
  after it (Neovim always sends one). Without a cursor known for the current text only "a
  later line started" counts. A text with no edit known (a file read from disk, text
  another activity wrote) is settled as a whole.
- Holding a line back: it counts as what it held before the user began typing on it (the
  edge remembers that, `held`): a new line counts as blank, or as absent when nothing follows
  it (text typed at the end streams in as it settles); an edited statement that ran counts as
  it ran, so nothing re-runs, and the statements after it keep their state and results. Once
  the user has moved past, the edit re-runs what it affects (`Step.RERUN`). Line numbers are
  kept either way.
- Lines inserted or deleted whole do not make the line after them the line being typed:
  Neovim's `o` sends "\\n\\n" over the previous line's newline, and the line it pushes
  down is untouched (`typed_line`: the line being typed is then the new one above it; after
  `dd` none is), unless that line is the one being typed already.
- Since only the latest edit is tracked, editing another line (even an earlier one) leaves
  the held line and settles it.
- Text appended at the end streams into the current run (`Step.APPEND`), so each statement
  runs as soon as the detector knows it is complete.
- An edit to text that has not run yet (the statement being typed) restarts the stream from
  the first statement that has not run (`Step.RESTART`), without touching the interpreter.
- An edit to a statement that already ran (`Step.RERUN`) makes its results stale; after a
  pause in typing (`REBUILD_PAUSE_S`) the edge re-runs it and the statements that depend on
  it (core/rerun.py), keeping everything else's state.
- After an error (with stop-on-error) nothing more runs until the failing statement, or
  something before it, is edited (`Step.HOLD`).
- The first round, and any round after the interpreter was replaced, runs the whole text
  from a fresh namespace (`Step.REBUILD`).
The state (`FollowState`) is plain data: the edge reports what happened (`released`,
`stopped_at_error`, ...), and `plan` decides the next step from it and the settled text.
`follow_step` is one round: it asks the edge (`FollowEdge`) for the settled text, decides,
waits where the rules say to wait (a stream draining, a pause in typing) and tells the edge
what to do.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Protocol

REBUILD_PAUSE_S = 0.3  # wait for a pause in typing before re-running edited statements


class Lines(Protocol):
    """A text with a line index (core/text_lines.TextLines, and lsp/text.Text built on it)."""

    source: str

    @property
    def line_count(self) -> int: ...

    def line(self, n: int) -> str: ...

    def line_start(self, n: int) -> int: ...

    def line_of(self, offset: int) -> int: ...


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search: fast for long texts)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def typed_line(
    before: str, start: int, end: int, text: str, after: Lines, previous: int | None
) -> int | None:
    """The line being typed after `before[start:end]` was replaced by `text` (giving `after`),
    given `previous`, the line being typed before (in `before`'s lines; None: no line):
    - the line where the inserted text ends;
    - but when whole lines were inserted or deleted before an untouched line (the edit ends
      at a line start, and the replaced range ended at one too: Neovim's `o` sends "\\n\\n"
      over the previous line's newline; Enter at the start of a line; `dd`), that line only
      moved and is not being typed, unless it is `previous`: the line being typed is the
      last line inserted, or none after a deletion;
    - and a newline typed on the line being typed (the edit begins on it and ends on a
      blank line) leaves it the line being typed, until the cursor leaves it or a later line
      is started."""
    pos = start + len(text)
    line = after.line_of(pos)
    moved = (
        (text.endswith("\n") or (not text and end > start))
        and pos == after.line_start(line)
        and (end == 0 or before[end - 1 : end] == "\n")
        and previous != before.count("\n", 0, end)
    )
    if moved and not text:
        return None  # whole lines deleted: nothing is being typed
    if moved:
        line -= 1  # whole lines inserted: the last of them
    blank = previous is not None and not after.line(line).strip()
    if blank and before.count("\n", 0, start) == previous:
        return previous  # a newline after it (or its text deleted): still being typed
    return line


def settled_text(
    text: Lines, *, edit_line: int | None, cursor_line: int | None, held: str = ""
) -> str:
    """The text with the line being typed held back (the module docstring's rules).

    `edit_line`: the line being typed, where the user's latest edit is (`typed_line`; None:
    no edit known, all of the text is settled). `cursor_line`: the cursor's line, when it is
    known for this very text (None otherwise). `held`: what that line held before the user
    began typing on it ("" for a new line); it counts as that until the user moves past."""
    source = text.source
    if edit_line is None or not text.line(edit_line).strip():
        return source  # no edit known, or nothing typed on the line: nothing to hold back
    if cursor_line is not None and cursor_line > edit_line:
        return source  # a newline typed and the cursor on a later line: moved past it
    start = text.line_start(edit_line)
    after = text.line_start(edit_line + 1)  # where the next line starts (the end without one)
    if not held.strip() and not source[after:].strip():
        return source[:start]  # a new line, nothing follows: the settled text ends before it
    return source[:start] + held + source[after - 1 :]  # later lines keep their numbers


class Step(enum.Enum):
    NOTHING = "nothing"  # the settled text is what already ran (or is running)
    APPEND = "append"  # push the new text at the end into the running stream
    RESTART = "restart"  # the unrun tail changed: let complete statements finish, stream again
    RERUN = "rerun"  # a statement that ran changed: after a pause, re-run what it affects
    HOLD = "hold"  # stopped at an error that was not edited: remember the text, run nothing
    REBUILD = "rebuild"  # fresh namespace, the whole text from the top


@dataclass
class FollowState:
    """What follow mode knows about the text it has run."""

    snapshot: str = ""  # the settled text the current state corresponds to
    released_upto: int = 0  # lines before this have run (or been released to run)
    halted: bool = False  # stopped at an error: nothing more runs until it is edited
    rebuild_next: bool = True  # the next round rebuilds (first round, a new interpreter)

    def plan(self, new: str, *, streaming: bool) -> Step:
        """The next step for the settled text `new` (`settled_text`: lines as the document's);
        `streaming`: a stream of the text is running and can take appended text."""
        if self.rebuild_next:
            return Step.REBUILD
        old = self.snapshot
        if new == old:
            return Step.NOTHING
        if streaming and new.startswith(old) and not self.halted:
            return Step.APPEND
        if new.count("\n", 0, common_prefix(old, new)) < self.released_upto:
            return Step.RERUN
        if self.halted:
            return Step.HOLD
        return Step.RESTART

    # -- what the edge reports -------------------------------------------------------------------
    def streamed(self, new: str) -> None:
        """`new` is in the stream (appended, or a new stream began with it)."""
        self.snapshot = new

    def held(self, new: str) -> None:
        self.snapshot = new  # nothing runs after an error until it is edited

    def released(self, end_line: int) -> None:
        """A statement ending on (1-based run line) `end_line` was released to run."""
        self.released_upto = max(self.released_upto, end_line)

    def stopped_at_error(self) -> None:
        self.halted = True

    def rebuilding(self) -> None:
        """A fresh namespace: nothing has run."""
        self.rebuild_next = False
        self.halted = False
        self.released_upto = 0

    def restarting(self) -> int:
        """A new stream of the unrun tail; returns the line it begins at (0-based)."""
        self.halted = False
        return self.released_upto

    def reran(self, text: str, *, released_upto: int, halted: bool) -> None:
        """The edited statements (and what depends on them) re-ran up to `text`."""
        self.snapshot = text
        self.released_upto = released_upto
        self.halted = halted

    def ran_elsewhere(self, text: Lines) -> None:
        """Another activity ran the whole text (a generation): all of it counts as run."""
        self.snapshot = text.source
        self.halted = False
        self.rebuild_next = False
        ends_open = bool(text.source) and not text.source.endswith("\n")
        self.released_upto = text.line_count - (1 if ends_open else 0)

    def interpreter_replaced(self) -> None:
        self.rebuild_next = True

    def ran_before(self) -> None:
        """The interpreter already ran statements of this document (a run, a generation): the
        first round brings it to the text by re-running what differs from what ran (RERUN),
        not everything again in a fresh namespace (side effects twice: a user's report)."""
        self.rebuild_next = False
        self.snapshot = ""
        self.released_upto = 1 << 30  # any text differs "above what ran": a re-run


class FollowEdge(Protocol):
    """What a text source being followed does for `follow_step`."""

    def settled(self) -> str:
        """The settled text (`settled_text`)."""
        ...

    def streaming(self) -> bool:
        """A stream of the text through a run is going and takes appended text."""
        ...

    def push(self, text: str) -> None:
        """Append `text` to the running stream."""

    async def drained(self) -> None:
        """Wait until what was pushed has been fed to the run and released."""

    def typing(self) -> bool:
        """The text changed again since this round began (a rerun waits for a pause)."""
        ...

    async def rebuild(self) -> None:
        """Fresh namespace, then stream the settled text from the top (`streamed` it)."""

    async def restart(self, base: int) -> None:
        """Let complete statements finish, then stream the settled text from line `base`
        (0-based) on (`streamed` it)."""

    async def rerun(self) -> None:
        """Re-run the edited statements and what depends on them (`reran` the result)."""


async def follow_step(state: FollowState, edge: FollowEdge) -> Step:
    """One round of follow mode; returns the step it took."""
    new = edge.settled()
    streaming = edge.streaming()
    step = state.plan(new, streaming=streaming)
    if step is Step.APPEND:
        edge.push(new[len(state.snapshot) :])
        state.streamed(new)
        return step
    if step in (Step.RERUN, Step.HOLD, Step.RESTART) and streaming:
        await edge.drained()  # what was pushed has been fed and released
        step = state.plan(new, streaming=False)
    if step is Step.REBUILD:
        state.rebuilding()
        await edge.rebuild()
    elif step is Step.RERUN:
        # A statement that already ran changed: wait for a pause, then re-run it and what
        # depends on it; the rest keeps its state.
        await asyncio.sleep(REBUILD_PAUSE_S)
        if edge.typing():
            return Step.NOTHING  # still typing: the next round re-runs
        await edge.rerun()
    elif step is Step.HOLD:
        state.held(new)
    elif step is Step.RESTART:
        await edge.restart(state.restarting())
    return step
