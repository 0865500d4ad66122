"""The ledger: the one owner of what ran in a namespace.

Rules:
- One ledger per namespace (an `Interpreter` holds it). It is emptied whenever the namespace is
  (`Interpreter.reset`, `restart`, an interpreter lost), so it never claims a statement ran in a
  namespace that no longer has its effects.
- Every result a run reports is recorded here first (`Run._record` → `Ledger.record`); the
  run's own `results` is a view of what it recorded. The editor's result store only shows
  results in the document's current lines; what ran (attempted, failed, which text) is asked
  of the ledger (lsp/execution.prelude_code, follow mode, Fix with AI).
- A record is one top-level statement: the hash of its text, its document lines, the names
  it binds and reads (core/analysis.py; what it writes in place is core/dependencies.py's,
  from the same text), its result, how long it ran, and its status: `ok`, `failed`, `interrupted` (a KeyboardInterrupt
  or a lost interpreter), or `skipped` (never ran). ok, failed and interrupted count as
  *attempted*; skipped does not.
- A statement's identity is its text (`code_key`), not its lines: `match` pairs a text's
  statements with the records in order, so lines moved by edits above do not matter, and an
  edited statement is a new one (it has not run). Lines are those of the run that recorded
  it, made current again by every edit-aware re-run (`relocate`, core/rerun.py).
- Records are kept in line order; a new record replaces the records whose lines it overlaps
  (a statement re-run, or rewritten in place).
- Every record has a statement id (`sid`). A record that replaces one of the same text at the
  same lines (the statement ran again) keeps its sid; anything else gets a new one. `get(sid)`
  reads the current record of a statement: the editor's result store (lsp/store.py) keeps only
  sids and lines and reads every result through it, so the ledger is the one copy.
- A view `pin`s the sids it shows. A pinned record stays readable by `get` after it left the
  namespace (replaced, forgotten, `clear`ed: a lost interpreter, a reset before code above a
  generation), because the editor goes on showing it until its lines change or a new result
  replaces it; it no longer counts for `records`, `match`, `attempted` or the estimate. An
  unpinned record that leaves the namespace is gone.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable, Sequence
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
    start_line: int  # 1-based document lines when recorded (current after each re-run)
    end_line: int
    binds: tuple[str, ...]
    reads: tuple[str, ...]
    status: str
    result: ChunkResult
    duration: float  # seconds it ran (0 for skipped)
    seq: int  # order of recording in this ledger
    sid: int = 0  # the statement's id: kept when the same statement is recorded again

    @property
    def attempted(self) -> bool:
        return self.status in ATTEMPTED

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, INTERRUPTED)


@dataclass
class RunLog:
    """One run's results by chunk index: the ledger writes it, the run reads it."""

    results: dict[int, ChunkResult] = field(default_factory=dict)


LedgerListener = Callable[[str, "Record | None"], None]  # ("record" | "clear", record)


class Ledger:
    def __init__(self) -> None:
        self._records: list[Record] = []
        self._seq = 0
        self._sids = 0
        self._by_sid: dict[int, Record] = {}  # records in the namespace, and pinned ones
        self._pins: dict[int, int] = {}  # sid → how many views show it
        self.generation = 0  # bumped on every change
        self.listeners: list[LedgerListener] = []

    # -- reading --------------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        """Current records in document order."""
        return list(self._records)

    @property
    def seq(self) -> int:
        """The `seq` of the latest record: records made later have a greater one."""
        return self._seq

    def __len__(self) -> int:
        return len(self._records)

    def get(self, sid: int) -> Record | None:
        """The current record of statement `sid` (also after it left the namespace, while a
        view pins it); None when it is gone."""
        return self._by_sid.get(sid)

    # -- views ----------------------------------------------------------------------------------
    def pin(self, sid: int) -> None:
        """A view shows statement `sid`: keep its record readable until `unpin`."""
        if sid in self._by_sid:
            self._pins[sid] = self._pins.get(sid, 0) + 1

    def unpin(self, sid: int) -> None:
        n = self._pins.get(sid, 0) - 1
        if n > 0:
            self._pins[sid] = n
            return
        self._pins.pop(sid, None)
        rec = self._by_sid.get(sid)
        # (from the end: the record a view lets go of is usually the newest, found at once)
        if rec is not None and not any(r is rec for r in reversed(self._records)):
            del self._by_sid[sid]

    def _left(self, gone: Iterable[Record]) -> None:
        """These records left the namespace: forget the ones no view shows."""
        for r in gone:
            if r.sid not in self._pins and self._by_sid.get(r.sid) is r:
                del self._by_sid[r.sid]

    def at(self, start_line: int, end_line: int) -> Record | None:
        """The record for exactly these lines."""
        for r in self._records:
            if r.start_line == start_line and r.end_line == end_line:
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

    def record(self, result: ChunkResult, log: RunLog | None = None) -> Record | None:
        """Record one result (the first result for a chunk index of a run wins). Returns
        the record, or None when this run already recorded that chunk."""
        chunk = result.chunk
        if log is not None:
            if chunk.index in log.results:
                return None
            log.results[chunk.index] = result
        self._seq += 1
        status = status_of(result)
        key = code_key(chunk.code)
        if status == SKIPPED:
            # A statement that never ran changes nothing: an earlier record of the same text
            # at the same lines still describes the namespace.
            old = self.at(chunk.start_line, chunk.end_line)
            if old is not None and old.key == key:
                return old
        start, end = chunk.start_line, chunk.end_line
        keep: list[Record] = []
        gone: list[Record] = []
        if not self._records or self._records[-1].end_line < start:
            keep = self._records  # below every record (records do not overlap): the usual case
        else:
            for r in self._records:
                (keep if r.end_line < start or r.start_line > end else gone).append(r)
        same = next(
            (r for r in gone if r.key == key and r.start_line == start and r.end_line == end),
            None,
        )
        if same is not None:  # the same statement again: it keeps its id (the view follows)
            sid = same.sid
            gone.remove(same)
        else:
            self._sids += 1
            sid = self._sids
        rec = Record(
            key=key,
            code=chunk.code,
            start_line=chunk.start_line,
            end_line=chunk.end_line,
            binds=chunk.binds,
            reads=chunk.reads,
            status=status,
            result=result,
            duration=0.0 if status == SKIPPED else max(0.0, result.exec_end - result.exec_start),
            seq=self._seq,
            sid=sid,
        )
        keep.append(rec)
        if len(keep) > 1 and keep[-2].start_line > start:  # not below all the others
            keep.sort(key=lambda r: (r.start_line, r.seq))
        self._records = keep
        self._by_sid[rec.sid] = rec
        self._left(gone)
        self._changed("record", rec)
        return rec

    def forget(self, records: Iterable[Record]) -> None:
        """Drop records (statements deleted from the document whose names were removed)."""
        gone = {id(r) for r in records}
        if gone:
            left = [r for r in self._records if id(r) in gone]
            self._records = [r for r in self._records if id(r) not in gone]
            self._left(left)
            self._changed("forget", None)

    def relocate(self, moves: Iterable[tuple[Record, Chunk]]) -> None:
        """Unchanged statements found at new lines (core/rerun.py matched them by text)."""
        by_id = {id(r): c for r, c in moves}
        out = []
        for r in self._records:
            c = by_id.get(id(r))
            if c is not None:
                r = replace(r, start_line=c.start_line, end_line=c.end_line)
                self._by_sid[r.sid] = r
            out.append(r)
        out.sort(key=lambda r: (r.start_line, r.seq))
        self._records = out
        self._changed("relocate", None)

    def match(self, chunks: Sequence[Chunk]) -> list[Record | None]:
        """For each statement of a text (document order), the record of the same text that
        ran in this namespace, matched in order (difflib over the text hashes); None when
        that statement has not run here. Identity is the text, not the lines: lines move
        with every edit, and an edited statement is a new one."""
        keys = [r.key for r in self._records]
        matcher = difflib.SequenceMatcher(
            None, keys, [code_key(c.code) for c in chunks], autojunk=False
        )
        out: list[Record | None] = [None] * len(chunks)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                out[block.b + k] = self._records[block.a + k]
        return out

    def clear(self) -> None:
        """The namespace was emptied."""
        if self._records:
            gone, self._records = self._records, []
            self._left(gone)
            self._changed("clear", None)

    def _changed(self, kind: str, rec: Record | None) -> None:
        self.generation += 1
        for listener in list(self.listeners):
            listener(kind, rec)
