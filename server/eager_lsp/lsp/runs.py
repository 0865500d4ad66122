"""One core run bound to one document: run lines → document lines, results → the store.

A run's chunk lines are fixed when the text is fed, while the document keeps changing (the
user types, a generation inserts). `RunBinding` maps each result to the lines it has *now*
and drops results whose text was edited meanwhile: any line of the statement, not only its
first or last, since what would be shown is no longer the text that ran. Its live output and
running hover stop at that edit too. Two checks, both cheap for a statement of thousands of
lines: a run bound through a `LineMap` asks it whether an edit touched the statement's lines
(`LineMap.span`: one walk of the edits for the whole statement, not one per line); and a
binding that publishes compares those lines with the statement's code (`check_text`), for
the mappers that do not follow edits and the texts that were not the document's when taken.
A generation can also hold a result back until its text has actually been written into the
document.

It keeps no result: a result reaches the store as the ledger's statement id (the `sid` of
its `ResultReady`, core/ledger.py) and the document lines it maps to; a held result is only
that sid (pinned in the ledger meanwhile, so it is still there when its text arrives).

A binding that publishes also keeps the document's running statements (lsp/running.py) up to
date, for the hover: each from its `ExecStart` until its result, the run's `Done`, or the run
being cancelled; their lines are asked of the binding when the hover wants them (`_shown_at`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from eager_lsp.core.ledger import code_key
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Done,
    EndOfStream,
    Event,
    ExecStart,
    GateHeld,
    Release,
    ResultReady,
    SyntaxErrorFound,
    SyntaxIssue,
)
from eager_lsp.limits import HELD_REASON_CAP, clip
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.core.ledger import Ledger
    from eager_lsp.lsp.context import Results
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.running import RunningStatements

LineMapper = Callable[[int], "int | None"]  # 1-based run line → 0-based document line
# A statement's run lines (first, last; 1-based) → its document lines now (0-based), or None
# when its text is no longer the text that ran (`LineMap.span`).
SpanMapper = Callable[[int, int], "tuple[int, int] | None"]
# A running statement's new output at its document lines now (first, last; 0-based).
OutputSink = Callable[[int, int, ChunkOutput], None]


class LineMap:
    """Document lines as they were when a run's text was taken, followed through edits."""

    def __init__(self, doc: Document, first_line: int = 1) -> None:
        self._doc = doc
        self._first = first_line  # the run's first_line corresponds to document line first-1
        self._edits: list[LineEdit] = []
        doc.observers.append(self)

    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None:
        self._edits.append(edit)

    def map(self, run_line: int) -> int | None:
        line: int | None = run_line - 1
        for edit in self._edits:
            if line is None:
                return None
            line = edit.map(line)
        return line

    def span(self, first_line: int, last_line: int) -> tuple[int, int] | None:
        """Run lines first..last (a statement) as document lines now, or None when an edit
        since touched any of them: changed one, or put lines between two of them. One walk
        of the edits for the whole span, however long the statement (mapping every line
        would cost lines × edits)."""
        return follow_lines(first_line - 1, last_line - 1, self._edits)[0]

    def detach(self) -> None:
        if self in self._doc.observers:
            self._doc.observers.remove(self)


def follow_lines(
    first: int, last: int, edits: Sequence[LineEdit]
) -> tuple[tuple[int, int] | None, int]:
    """Lines first..last (0-based) after `edits`, in order: where they are now, or None once
    an edit touched one of them (changed it, or put lines between two of them), with the
    first line as it was just before that edit."""
    for edit in edits:
        if edit.first > last:
            continue  # below them (lines inserted after the last one included)
        if edit.last < first:
            first, last = first + edit.delta, last + edit.delta  # above them
            continue
        if edit.last < edit.first and not edit.delta:
            continue  # nothing changed
        return None, first
    return (first, last), first


def spans(mapper: LineMapper) -> SpanMapper:
    """How a binding with `mapper` finds a statement's document lines: a LineMap's `map`
    brings its own `span` (any edit inside the statement counts); any other mapper maps the
    statement's first and last line, and what was edited between them is seen by comparing
    the text (`RunBinding.check_text`). Such others: a generation's (lsp/generation.py
    `_to_doc`, lines through its region; an edit inside the region stops its writing and its
    run, and the interrupted statement's result arrives after that edit), follow mode's
    stream (lsp/follow.py, run lines are document lines), lsp/unwritten.py's."""
    owner = getattr(mapper, "__self__", None)
    if isinstance(owner, LineMap) and mapper == owner.map:
        return owner.span

    def ends(first_line: int, last_line: int) -> tuple[int, int] | None:
        first, last = mapper(first_line), mapper(last_line)
        return None if first is None or last is None else (first, last)

    return ends


def shows_code(doc: Document, first: int, last: int, code: str) -> bool:
    """Document lines first..last (0-based) hold `code` (as the ledger compares statements:
    trailing whitespace aside; a byte-order mark that starts the text is no code, as for the
    detector)."""
    text = doc.text
    if first < 0 or last >= text.line_count:
        return False
    lines = "\n".join(text.line(i) for i in range(first, last + 1))
    if first == 0:
        lines = lines.removeprefix("\ufeff")
    return code_key(lines) == code_key(code)


def publishing(server: Results, doc: Document, mapper: LineMapper, **kw: Any) -> RunBinding:
    """A binding whose results and live output go to `server` for `doc`, as the user sees
    runs, and whose running statements the hover shows (`kw`: RunBinding's other arguments).
    What it shows stands next to the text that ran (`check_text`)."""
    return RunBinding(
        doc,
        mapper,
        on_entry=lambda e: server.add_entry(doc, e),
        on_output=lambda first, last, out: server.live_output(doc, first, last, out),
        running_statements=doc.running,
        check_text=True,
        **kw,
    )


class RunBinding:
    """Receives a run's events; adds results to the document's store as entries."""

    def __init__(
        self,
        doc: Document,
        mapper: LineMapper,
        *,
        on_entry: Callable[[Entry], None],
        on_event: Callable[[Event], None] | None = None,
        hold: Callable[[int], bool] | None = None,
        on_output: OutputSink | None = None,
        running_statements: RunningStatements | None = None,
        check_text: bool = False,
    ) -> None:
        self.doc = doc
        self.mapper = mapper
        self.span = spans(mapper)  # a statement's lines, None once its text was edited
        # Also compare the lines with the statement's code (O(its lines), once per result,
        # output piece or hover): a mapper that does not follow edits (follow mode's stream,
        # a generation's region after an edit inside it) or a run of a text that was not the
        # document's when taken (follow mode runs an edited line as it ran while it is
        # still being typed) would place it next to other text. A binding that places its
        # results itself (lsp/unwritten.py) leaves it off.
        self.check_text = check_text
        self.on_entry = on_entry
        self.on_event = on_event
        self.on_output = on_output
        self.hold = hold  # hold(last_run_line) → True while that line is not in the document
        self.t0 = time.monotonic()
        self.run_id = id(self)
        self.released = 0
        self.started = 0  # chunks the interpreter began (exec_start)
        self.done = 0  # results, skipped ones included
        self.ran = 0  # results of chunks that ran (not skipped)
        self.failed: ChunkResult | None = None
        self.syntax: SyntaxIssue | None = None
        # Results waiting for their text (a generation): (ledger sid, or None for the syntax
        # error; the run lines of the statement). The results stay in the ledger.
        self._waiting: list[tuple[int | None, int, int]] = []
        self._cancelled = False
        self._running_statements = running_statements  # lsp/running.py, or None
        # Which statements run at the same time (gate `parallel`): the chunks released (their
        # run lines) by index, the chunks running now, and for each the others it overlapped.
        self._chunks: dict[int, Chunk] = {}
        self._live: set[int] = set()
        self._waiting_to_run: dict[int, Chunk] = {}  # released, not begun, no result
        self._placed: dict[int, tuple[int, int]] = {}  # of those, the lines their text is on
        # The statement a withdraw began at (lsp/execution.py `withdraw_edited`), told its
        # result: skipped (it never ran), or run (it had begun, or a kernel had it).
        self.withdrawn: int | None = None
        self.on_withdrawn: Callable[[ChunkResult], None] | None = None
        self._overlap: dict[int, set[int]] = {}
        self._unshown: set[int] = set()  # chunks whose live output stopped being passed on
        # The safe gate holds the statements from this one on until the stream ends (its run
        # line, why): the status says so, or a run that waits looks stuck (a user's report).
        self._held: tuple[int, str] | None = None

    @property
    def cancelled(self) -> bool:
        """Nothing more of this run is shown (it was stopped, or another took over)."""
        return self._cancelled

    @cancelled.setter
    def cancelled(self, value: bool) -> None:
        self._cancelled = value
        if value and self._running_statements is not None:
            self._running_statements.run_ended(self.run_id)

    def __call__(self, event: Event) -> None:
        if self.cancelled:
            return
        statements = self._running_statements
        if isinstance(event, Release):
            self.released += 1
            self._chunks[event.chunk.index] = event.chunk
            self._waiting_to_run[event.chunk.index] = event.chunk
        elif isinstance(event, ExecStart):
            self.started += 1
            index = event.chunk
            self._waiting_to_run.pop(index, None)
            for other in self._live:
                self._overlap.setdefault(other, set()).add(index)
            self._overlap.setdefault(index, set()).update(self._live)
            self._live.add(index)
            if statements is not None:
                statements.started(self.run_id, index, event.t, partial(self._shown_at, index))
        elif isinstance(event, ResultReady):
            result = event.result
            self._live.discard(result.chunk.index)
            self._waiting_to_run.pop(result.chunk.index, None)
            if result.chunk.index == self.withdrawn and self.on_withdrawn is not None:
                self.on_withdrawn(result)
            if statements is not None:
                statements.finished(self.run_id, result.chunk.index)
            self.done += 1
            if not result.skipped:
                self.ran += 1
            if self.failed is None and not result.ok and not result.skipped:
                self.failed = result
            self._offer(event.sid, result.chunk.start_line, result.chunk.end_line)
        elif isinstance(event, SyntaxErrorFound):
            self.syntax = event.issue
            self._offer(None, event.issue.line, event.issue.line)
        elif isinstance(event, ChunkOutput):
            if statements is not None:
                statements.output(self.run_id, event.chunk.index, event.stdout, event.stderr)
            self._output(event)
        elif isinstance(event, GateHeld):
            self._held = (event.line, event.reason)
        elif isinstance(event, EndOfStream):
            self._held = None  # what the gate held runs now
        elif isinstance(event, Done) and statements is not None:
            statements.run_ended(self.run_id)
        if self.on_event is not None:
            self.on_event(event)

    def _output(self, event: ChunkOutput) -> None:
        """Pass a running statement's output on at its lines now; not when its text was
        edited meanwhile, nor while a generation has not written it yet (its result, which
        has all the output, is held until then). Once a piece was not passed on, none of
        that statement's later pieces are: the client would show text without its start
        (and then the result's whole output after it)."""
        chunk = event.chunk
        if self.on_output is None or chunk.index in self._unshown:
            return
        shown = self._doc_span(chunk)
        if shown is None:
            self._unshown.add(chunk.index)
            return
        self.on_output(*shown, event)

    def _shown_at(self, index: int) -> tuple[int, int] | None:
        """Where the running chunk `index` is in the document now (lsp/running.py `Where`)."""
        chunk = self._chunks.get(index)
        if chunk is None or self.cancelled:
            return None
        return self._doc_span(chunk)

    def _doc_span(self, chunk: Chunk) -> tuple[int, int] | None:
        """A running statement's run lines as document lines now (0-based); None when its
        text was edited (any line of it), or a generation has not written it yet."""
        if self.hold is not None and self.hold(chunk.end_line):
            return None
        return self._where(chunk.start_line, chunk.end_line, chunk.code)

    def _where(self, first_line: int, last_line: int, code: str) -> tuple[int, int] | None:
        """Where the statement `code` that ran at run lines first..last is shown now; None
        when the document no longer shows that text there (it was edited)."""
        lines = self.span(first_line, last_line)
        if lines is None or (self.check_text and not shows_code(self.doc, *lines, code)):
            return None
        return lines

    def place_waiting(self) -> None:
        """Before a didChange: the lines each statement that waits to run shows its text on
        now, for those not placed yet (one a generation has not written yet waits to be);
        `edited_before_running` follows them through the change."""
        if self.cancelled:
            return
        for index, chunk in self._waiting_to_run.items():
            if index in self._placed or (self.hold is not None and self.hold(chunk.end_line)):
                continue
            lines = self._where(chunk.start_line, chunk.end_line, chunk.code)
            if lines is not None and shows_code(self.doc, *lines, chunk.code):
                self._placed[index] = lines

    def edited_before_running(self, edits: Sequence[LineEdit]) -> tuple[Chunk, int] | None:
        """After a didChange of `edits`: the first statement that waits to run whose text they
        edited or deleted, with the line (0-based) it was on; None: none. The placed ones
        follow the change (lines above them added or taken, or a generation's text above
        them edited: its lines are the region's, `_to_doc`, not followed); one the change
        touched stays when its lines still show its text (spaces typed after it)."""
        found: tuple[Chunk, int] | None = None
        for index in sorted(self._placed):
            chunk = self._waiting_to_run.get(index)
            if chunk is None:  # begun, or done
                del self._placed[index]
                continue
            first, last = self._placed[index]
            moved, at = follow_lines(first, last, edits)
            if moved is None:
                height = last - first
                if not shows_code(self.doc, at, at + height, chunk.code):
                    del self._placed[index]
                    found = found or (chunk, at)
                    continue
                moved = (at, at + height)
            self._placed[index] = moved
        return found

    def running_edited(self) -> bool:
        """A statement running now has had its text edited (its result will be dropped)."""
        return any(self._doc_span(self._chunks[i]) is None for i in self._live if i in self._chunks)

    @property
    def running(self) -> int:
        """Chunks executing now (begun, no result yet)."""
        return max(0, min(self.started, self.released) - self.ran)

    @property
    def pending(self) -> int:
        """Chunks complete and waiting for the interpreter (or the gate)."""
        return max(0, self.released - self.done - self.running)

    def counts(self) -> dict[str, Any]:
        """The `eager/status` counts (docs/protocol.md), the first lines (0-based) of the
        statements running now (more than one when they run in parallel), and where the safe
        gate holds what waits, while it does."""
        counts: dict[str, Any] = {
            "chunksDone": self.done,
            "chunksRunning": self.running,
            "chunksPending": self.pending,
            "chunksTotal": self.released,
            "runningLines": self._doc_lines(self._live),
        }
        held = self._held
        line = self.mapper(held[0]) if held is not None and self.pending else None
        if held is not None and line is not None:
            # (a dotted name in the code is the model's to make long: sent with every status)
            counts["heldLine"], counts["heldReason"] = line, clip(held[1], HELD_REASON_CAP)
        return counts

    def _doc_lines(self, indices: set[int]) -> list[int]:
        lines = (self.mapper(self._chunks[i].start_line) for i in indices if i in self._chunks)
        return sorted(line for line in lines if line is not None)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    @property
    def _ledger(self) -> Ledger | None:
        return self.doc.store.ledger

    def _offer(self, sid: int | None, first: int, last: int) -> None:
        if self.hold is not None and self.hold(last):
            if sid is not None and self._ledger is not None:
                self._ledger.pin(sid)
            self._waiting.append((sid, first, last))
        else:
            self._add(sid, first)

    @property
    def held(self) -> int:
        """How many results wait for their text."""
        return len(self._waiting)

    def release_held(
        self, *, all_: bool = False, only: Callable[[Entry], bool] | None = None
    ) -> None:
        """Show held results whose text has arrived (or all of them; with `only`, those of
        them it accepts, the others are dropped)."""
        still = []
        for sid, first, last in self._waiting:
            if all_ or self.hold is None or not self.hold(last):
                self._add(sid, first, only)
                self._unpin(sid)
            else:
                still.append((sid, first, last))
        self._waiting = still

    def drop_held(self, *, from_run_line: int | None = None) -> None:
        """Forget held results (those of statements ending at or after `from_run_line`)."""
        keep = []
        for sid, first, last in self._waiting:
            if from_run_line is not None and last < from_run_line:
                keep.append((sid, first, last))
            else:
                self._unpin(sid)
        self._waiting = keep

    def _unpin(self, sid: int | None) -> None:
        if sid is not None and self._ledger is not None:
            self._ledger.unpin(sid)

    def _add(
        self, sid: int | None, first: int, only: Callable[[Entry], bool] | None = None
    ) -> None:
        entry = self.entry_for(sid, first)
        if entry is not None and (only is None or only(entry)):
            self.on_entry(entry)

    def entry_for(self, sid: int | None, run_line: int) -> Entry | None:
        """The store entry for the ledger's statement `sid` (None: this run's syntax error),
        which this run released at `run_line`, at the document lines it has now; None when
        its text was edited while it ran (any line of it: what is shown would not be what
        ran; `_where`). (The ledger's record may come from an earlier run, when this one
        skipped a statement that had run: its lines are taken as this run's.)"""
        store = self.doc.store
        if sid is None:
            item = self.syntax
            if item is None:
                return None
            line = self.mapper(item.line)
            if line is None:
                return None
            return store.entry(
                None,
                line,
                line,
                syntax=item,
                error_line=line,
                error_column=item.column,
                run_id=self.run_id,
            )
        rec = self._ledger.get(sid) if self._ledger is not None else None
        if rec is None:
            return None
        r = rec.result
        shift = run_line - r.chunk.start_line  # 0 unless the record is an earlier run's
        lines = self._where(run_line, r.chunk.end_line + shift, r.chunk.code)
        if lines is None:
            return None  # its text was edited while it ran (any line of it)
        first, last = lines
        error_line = None
        frames: tuple[int | None, ...] = ()
        if r.error is not None:
            error_line = first
            if r.error.line is not None:
                mapped = self._frame_line(r.error.line + shift, first)
                error_line = mapped if mapped is not None else first
            frames = tuple(
                self._frame_line(f.line + shift, None) if f.in_document else None
                for f in r.error.frames
            )
        return store.entry(
            sid,
            first,
            last,
            error_line=error_line,
            frame_lines=frames,
            run_id=self.run_id,
            timings=self.timings(r),
        )

    def _frame_line(self, run_line: int, fallback: int | None) -> int | None:
        """A traceback line: this run's lines map through the run; lines of code an earlier
        run defined are taken as document lines (best effort)."""
        mapped = self.mapper(run_line)
        if mapped is not None:
            return mapped
        return run_line - 1 if run_line >= 1 else fallback

    def timings(self, r: ChunkResult) -> dict[str, Any]:
        def ms(t: float) -> float:
            return round((t - self.t0) * 1000.0, 3) if t else 0.0

        return {
            "releasedMs": ms(r.chunk.released_at),
            "dispatchedMs": ms(r.dispatched_at),
            "startMs": ms(r.exec_start),
            "endMs": ms(r.exec_end),
            "resultMs": ms(r.result_at),
            "elapsedMs": round(max(0.0, r.exec_end - r.exec_start) * 1000.0, 3),
            # first lines (0-based) of the statements that ran at the same time as this one
            "parallelWith": self._doc_lines(self._overlap.get(r.chunk.index, set())),
        }
