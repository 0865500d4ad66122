"""The ledger: the one owner of what ran in a namespace.

Rules:
- One ledger per namespace (a `Session` holds it). It is emptied whenever the namespace is
  (`Session.reset`, `restart`, an interpreter lost), so it never claims a statement ran in a
  namespace that no longer has its effects.
- Every result a run reports is recorded here first (`Run._record` → `Ledger.record`); the
  run's own `results` and the editor's result store are views of these records, not copies
  with their own truth.
- A record is one top-level statement: the hash of its text, its document lines, the names
  it binds, reads and writes (core/analysis.py plus core/dependencies.py's writes), its
  result, how long it ran, and its status: `ok`, `failed`, `interrupted` (a KeyboardInterrupt
  or a lost interpreter), or `skipped` (never ran). ok, failed and interrupted count as
  *attempted*; skipped does not.
- Records are kept in document order; a new record replaces the records whose lines it
  overlaps (a statement re-run, or a statement rewritten in place). Lines move with edits
  through `remap` (the editor knows about edits, the core does not); a record whose own lines
  were edited is kept, marked `edited`: the namespace still holds its effects, which is what
  edit-aware re-execution needs to know (core/rerun.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from eager_lsp.core.types import Chunk, ChunkResult

OK, FAILED, INTERRUPTED, SKIPPED = "ok", "failed", "interrupted", "skipped"
ATTEMPTED = frozenset({OK, FAILED, INTERRUPTED})
_INTERRUPTS = frozenset({"KeyboardInterrupt", "InterpreterLost"})


def code_key(code: str) -> str:
    """A statement's identity: its text without trailing whitespace on each line (an editor
    trimming spaces does not make it a new statement)."""
    norm = "\n".join(line.rstrip() for line in code.strip("\n").splitlines())
    return hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest()


def status_of(result: ChunkResult) -> str:
    if result.skipped:
        return SKIPPED
    if result.ok:
        return OK
    if result.error is not None and (result.error.type in _INTERRUPTS or result.error.state_lost):
        return INTERRUPTED
    return FAILED


@dataclass(frozen=True)
class Record:
    """What the namespace knows about one statement."""

    key: str  # code_key(code)
    code: str
    start_line: int  # 1-based document lines, kept current by `remap` (approximate if edited)
    end_line: int
    binds: tuple[str, ...]
    reads: tuple[str, ...]
    writes: tuple[str, ...]  # names mutated in place: `x.a = 1`, `x[0] = 1`, `x.append(1)`
    status: str
    result: ChunkResult
    duration: float  # seconds it ran (0 for skipped)
    seq: int  # order of recording in this ledger
    edited: bool = False  # its lines were edited after it ran: the text is no longer there

    @property
    def attempted(self) -> bool:
        return self.status in ATTEMPTED

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, INTERRUPTED)

    @property
    def names(self) -> frozenset[str]:
        """Every name whose value this statement may have set."""
        return frozenset(self.binds) | frozenset(self.writes)


@dataclass
class RunLog:
    """One run's results by chunk index: the ledger writes it, the run reads it."""

    results: dict[int, ChunkResult] = field(default_factory=dict)


LedgerListener = Callable[[str, "Record | None"], None]  # ("record" | "clear", record)


class Ledger:
    def __init__(self) -> None:
        self._records: list[Record] = []
        self._seq = 0
        self.generation = 0  # bumped on every change
        self.listeners: list[LedgerListener] = []

    # -- reading --------------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        """Current records in document order."""
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def at(self, start_line: int, end_line: int) -> Record | None:
        """The record for exactly these lines whose text is still there."""
        for r in self._records:
            if r.start_line == start_line and r.end_line == end_line and not r.edited:
                return r
        return None

    def attempted(self, start_line: int, end_line: int, code: str | None = None) -> bool:
        """True when the statement at these lines (with this text, if given) was attempted
        in this namespace: it ran, failed or was interrupted."""
        r = self.at(start_line, end_line)
        if r is None or not r.attempted:
            return False
        return code is None or r.key == code_key(code)

    def rebuild_estimate(self) -> float:
        """Seconds a full rebuild would take: the recorded durations of every statement."""
        return sum(r.duration for r in self._records)

    # -- writing --------------------------------------------------------------------------------
    def open_run(self) -> RunLog:
        return RunLog()

    def record(
        self, result: ChunkResult, log: RunLog | None = None, *, writes: Iterable[str] = ()
    ) -> Record | None:
        """Record one result (the first result for a chunk index of a run wins). Returns
        the record, or None when this run already recorded that chunk."""
        chunk = result.chunk
        if log is not None:
            if chunk.index in log.results:
                return None
            log.results[chunk.index] = result
        if not writes:
            from eager_lsp.core.dependencies import writes_of

            writes = writes_of(chunk)
        self._seq += 1
        status = status_of(result)
        rec = Record(
            key=code_key(chunk.code),
            code=chunk.code,
            start_line=chunk.start_line,
            end_line=chunk.end_line,
            binds=chunk.binds,
            reads=chunk.reads,
            writes=tuple(writes),
            status=status,
            result=result,
            duration=0.0 if status == SKIPPED else max(0.0, result.exec_end - result.exec_start),
            seq=self._seq,
        )
        if status == SKIPPED:
            # A statement that never ran changes nothing: an earlier record of the same text
            # at the same lines still describes the namespace.
            old = self.at(chunk.start_line, chunk.end_line)
            if old is not None and old.key == rec.key:
                return old
        keep = [
            r
            for r in self._records
            if r.edited or r.end_line < rec.start_line or r.start_line > rec.end_line
        ]
        # An edited record whose text this statement replaces is superseded too.
        keep = [r for r in keep if not (r.edited and _overlaps(r, rec))]
        keep.append(rec)
        keep.sort(key=lambda r: (r.start_line, r.seq))
        self._records = keep
        self._changed("record", rec)
        return rec

    def forget(self, records: Iterable[Record]) -> None:
        """Drop records (statements deleted from the document whose names were removed)."""
        gone = {id(r) for r in records}
        if gone:
            self._records = [r for r in self._records if id(r) not in gone]
            self._changed("forget", None)

    def relocate(self, moves: Iterable[tuple[Record, Chunk]]) -> None:
        """Unchanged statements found at new lines (core/rerun.py matched them by text)."""
        by_id = {id(r): c for r, c in moves}
        out = []
        for r in self._records:
            c = by_id.get(id(r))
            out.append(r if c is None else replace(r, start_line=c.start_line, end_line=c.end_line))
        out.sort(key=lambda r: (r.start_line, r.seq))
        self._records = out
        self._changed("relocate", None)

    def remap(self, map_line: Callable[[int], int | None]) -> list[Record]:
        """Move records through a text change: `map_line` takes a 1-based line to its new
        line, or None when that line's text changed. Returns the records newly edited."""
        out: list[Record] = []
        edited: list[Record] = []
        for r in self._records:
            first, last = map_line(r.start_line), map_line(r.end_line)
            if (
                not r.edited
                and first is not None
                and last is not None
                and last - first == r.end_line - r.start_line
            ):
                out.append(replace(r, start_line=first, end_line=last))
                continue
            # Keep it where it was, as well as it can be placed.
            start = first if first is not None else r.start_line
            end = last if last is not None else max(start, r.end_line)
            moved = replace(r, start_line=start, end_line=max(start, end), edited=True)
            if not r.edited:
                edited.append(moved)
            out.append(moved)
        self._records = out
        if edited:
            self._changed("edited", None)
        return edited

    def clear(self) -> None:
        """The namespace was emptied."""
        if self._records:
            self._records = []
            self._changed("clear", None)

    def _changed(self, kind: str, rec: Record | None) -> None:
        self.generation += 1
        for listener in list(self.listeners):
            listener(kind, rec)


def _overlaps(a: Record, b: Record) -> bool:
    return not (a.end_line < b.start_line or a.start_line > b.end_line)
