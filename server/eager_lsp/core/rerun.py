"""Edit-aware re-execution: bring a session's namespace to a new text by re-running only the
statements the edit affects (the plan is core/dependencies.py's).

Steps, in order:
1. split the new text into statements with the same detector every run uses;
2. plan against the session's ledger (what ran in this namespace);
3. a full plan (nothing ran yet, or something the graph cannot follow): a fresh namespace,
   then every statement; the status says why;
4. otherwise: delete the dirty names from the namespace (one small statement the executor
   runs, with no names reported), drop the ledger records of deleted and affected statements,
   move the unchanged ones to their new lines, then run the affected statements as one run
   of the document's text with every other statement's lines blanked out: line numbers,
   tracebacks and breakpoints stay the document's, and the run gates, batches and stops at
   an error like any other.
The ledger's recorded durations give the estimate of a full rebuild that the status shows.

`drop_unwritten` is the same plan for statements that ran but never reached the text (a
generation stopped by an edit inside its region, lsp/generation.py): they are the removed
statements, and only statements that ran and are in the text take part, so nothing that did
not run before (the user's edits, text that never ran) is run by it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eager_lsp.core.deleted import deleted_statements
from eager_lsp.core.dependencies import Plan, plan
from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.core.executor import ExecutorLost
from eager_lsp.core.ledger import Record
from eager_lsp.core.types import Chunk, ChunkResult, SyntaxIssue

if TYPE_CHECKING:
    from eager_lsp.core.interpreter import Interpreter
    from eager_lsp.core.run import Listener, RunReport

FORGET_ID = -2  # the id of the statement that deletes names (never a chunk index)


def statements(
    text: str, *, version: tuple[int, int] | None = None
) -> tuple[list[Chunk], SyntaxIssue | None]:
    """The top-level statements of `text` (document lines), and a syntax error that stops
    them; exactly the chunks a run of the whole text would release."""
    detector = BoundaryDetector(first_line=1, version=version)
    chunks = detector.feed(text)
    chunks += detector.end()
    return chunks, detector.error


def padded(text: str, keep: Sequence[Chunk], *, tail_from: int | None = None) -> str:
    """`text` with every line outside the `keep` statements blanked (line count kept);
    with `tail_from`, lines from that 0-based index on are kept too."""
    lines = text.splitlines(keepends=True)
    wanted: set[int] = set()
    for c in keep:
        wanted.update(range(c.start_line - 1, c.end_line))
    if tail_from is not None:
        wanted.update(range(tail_from, len(lines)))
    out = []
    for i, line in enumerate(lines):
        if i in wanted:
            out.append(line)
        else:
            out.append("\n" if line.endswith(("\n", "\r")) else "")
    return "".join(out)


def forget_code(names: Sequence[str]) -> str:
    return (
        f"for __eager_name in {tuple(names)!r}:\n"
        "    globals().pop(__eager_name, None)\n"
        "globals().pop('__eager_name', None)\n"
    )


@dataclass
class RerunReport:
    plan: Plan
    report: RunReport | None  # the run of the affected statements (None: nothing ran)
    elapsed: float  # seconds, planning to the last result
    rebuild_estimate: float  # seconds a full rebuild would take, by the ledger's durations
    syntax_error: SyntaxIssue | None
    deleted: int = 0  # drop_unwritten: written statements the user deleted since

    @property
    def results(self) -> list[ChunkResult]:
        return [] if self.report is None else list(self.report.results)

    @property
    def ran(self) -> int:
        return sum(1 for r in self.results if not r.skipped)

    def why(self, result: ChunkResult) -> str:
        """Why a statement of this re-run ran ("changed", "reads `x`", "full rebuild")."""
        return self.plan.why.get(result.chunk.start_line, "")

    @property
    def failed(self) -> ChunkResult | None:
        return None if self.report is None else self.report.failed

    def status(self) -> str:
        """One line for a person: what ran, how long, and what a full rebuild would cost."""
        p = self.plan
        secs = f"{self.elapsed:.2f} s"
        if p.full and p.reason:
            return f"full rebuild ({p.reason}): ran {self.ran} of {p.total} statements ({secs})"
        if p.full:
            return f"ran {self.ran} of {p.total} statements ({secs})"
        text = (
            f"re-ran {self.ran} of {p.total} statements "
            f"({secs}; a full rebuild would take ≈{self.rebuild_estimate:.1f} s)"
        )
        if p.halted_at is not None:
            what = "the interrupted statement" if p.halted_interrupted else "the error"
            text += f"; stopped at {what} on line {p.halted_at.start_line}, unchanged"
        return text

    def to_json(self) -> dict[str, Any]:
        p = self.plan
        return {
            "full": p.full,
            "reason": p.reason,
            "ran": self.ran,
            "total": p.total,
            "forgot": list(p.forget),
            "elapsed_s": round(self.elapsed, 6),
            "rebuild_estimate_s": round(self.rebuild_estimate, 6),
            "status": self.status(),
        }


async def rerun(
    session: Interpreter,
    text: str,
    *,
    listener: Listener | None = None,
    force_full: str | None = None,
    fresh_since: int | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> RerunReport:
    """Bring `session`'s namespace to `text` (see the module docstring). `force_full`: run
    everything from a fresh namespace, for this reason. `on_plan` sees the plan before anything
    runs (to label results with why they ran). `fresh_since`: see `dependencies.plan` (after
    Fix with AI, only the statements below the replaced ones that depend on them run)."""
    t0 = time.monotonic()
    ledger = session.ledger
    had = len(ledger)
    await session.executor()  # a dead one is replaced here, and the ledger emptied with it
    chunks, syntax = statements(text, version=session.python_version)
    the_plan = plan(
        ledger.records,
        chunks,
        halt_at_failure=session.config.stop_on_error,
        fresh_since=fresh_since,
    )
    if force_full:
        the_plan = plan([], chunks)
        the_plan.reason = force_full
    elif had and not len(ledger):
        the_plan.reason = "the interpreter was lost; its state is gone"
    if not the_plan.full and the_plan.forget:
        try:
            await forget_names(session, the_plan.forget)
        except Exception as exc:  # the interpreter went away: nothing of its state is left
            reason = exc.reason if isinstance(exc, ExecutorLost) else f"{type(exc).__name__}: {exc}"
            await session.executor_lost(reason)
            the_plan = plan([], chunks)
            the_plan.reason = f"the interpreter was lost ({reason})"
    if on_plan is not None:
        on_plan(the_plan)
    if the_plan.full:
        await _fresh_namespace(session)
    else:
        ledger.forget([*the_plan.removed, *(r for r, _ in the_plan.matched_affected)])
        ledger.relocate(the_plan.kept)
    report: RunReport | None = None
    if the_plan.run or syntax is not None:
        body = text
        if not the_plan.full:
            # Past the last statement is the syntax error, if any: keep it, so the run
            # reports it on its line as a whole run would.
            after = max((c.end_line for c in chunks), default=0)
            body = padded(text, the_plan.run, tail_from=after if syntax is not None else None)
        report = await _run_text(session, body, listener)
    return RerunReport(
        plan=the_plan,
        report=report,
        elapsed=time.monotonic() - t0,
        rebuild_estimate=ledger.rebuild_estimate(),
        syntax_error=syntax,
    )


async def drop_unwritten(
    session: Interpreter,
    text: str,
    *,
    since: int,
    now: str | None = None,
    from_line: int = 1,
    listener: Listener | None = None,
) -> RerunReport:
    """Take out of the namespace the statements recorded after ledger seq `since` whose text is
    not among `text`'s statements (they ran, but were never written), as if deleted from
    `text`: their names are deleted and the statements of `text` that ran and that they
    changed, or that read them, run again. Only statements of `text` that ran take part
    (`plan`'s rules, with the records restricted to those and the unwritten ones), so text
    that never ran (the user's edits, text below) never runs here. Their records leave the
    ledger. Statements this cannot follow (`exec`, ...): their names that no written
    statement binds are deleted, nothing runs, `plan.reason` says why.
    `now`: the document as it is now; the statements of `text` from line `from_line` on that
    it no longer holds (core/deleted.py) count as not written: they never run again."""
    t0 = time.monotonic()
    ledger = session.ledger
    chunks, _ = statements(text, version=session.python_version)
    matched = ledger.match(chunks)
    deleted: set[int] = set()  # ids of the records of written statements the user deleted
    if now is not None:
        ours = [c for c in chunks if c.start_line >= from_line]
        cut = {id(c) for c in deleted_statements(text, now, ours)}
        if cut:
            deleted = {id(r) for c, r in zip(chunks, matched, strict=True) if id(c) in cut and r}
            rest = [(c, r) for c, r in zip(chunks, matched, strict=True) if id(c) not in cut]
            chunks, matched = [c for c, _ in rest], [r for _, r in rest]
            text = padded(text, chunks)
    present = {id(r) for r in matched if r is not None}
    gone = [r for r in ledger.records if r.seq > since and id(r) not in present]
    ran = [r for r in gone if r.attempted]
    ledger.forget([r for r in gone if not r.attempted])  # never ran: nothing to undo
    pairs = [(c, r) for c, r in zip(chunks, matched, strict=True) if r is not None]
    ids = {id(r) for _, r in pairs} | {id(r) for r in ran}
    records = [r for r in ledger.records if id(r) in ids]
    written = [c for c, _ in pairs]
    the_plan = plan(records, written, halt_at_failure=False) if ran else _nothing(pairs)
    if the_plan.full:
        binds = set().union(*(r.binds for _, r in pairs)) if pairs else set()
        names = sorted(set().union(*(r.binds for r in ran)) - binds)
        reason = the_plan.reason
        the_plan = _nothing(pairs)
        the_plan.reason, the_plan.forget, the_plan.removed = reason, names, ran
    report: RunReport | None = None
    try:
        if the_plan.forget:
            await forget_names(session, the_plan.forget)
    except Exception as exc:  # the interpreter went away: nothing of its state is left
        reason = exc.reason if isinstance(exc, ExecutorLost) else f"{type(exc).__name__}: {exc}"
        await session.executor_lost(reason)
        the_plan = _nothing([])
        the_plan.reason = f"the interpreter was lost ({reason})"
    else:
        ledger.forget([*the_plan.removed, *(r for r, _ in the_plan.matched_affected)])
        ledger.relocate(the_plan.kept)
        if the_plan.run:
            report = await _run_text(session, padded(text, the_plan.run), listener)
    return RerunReport(
        plan=the_plan,
        report=report,
        elapsed=time.monotonic() - t0,
        rebuild_estimate=ledger.rebuild_estimate(),
        syntax_error=None,
        deleted=sum(1 for r in ran if id(r) in deleted),
    )


async def _run_text(session: Interpreter, body: str, listener: Listener | None) -> RunReport:
    """Run `body` (document lines, others blanked) as one run of the session."""
    run = session.new_run(first_line=1, listener=listener)
    run.feed(body)
    run.end()
    try:
        return await run.wait()
    except asyncio.CancelledError:
        await run.cancel()  # stopped: nothing more runs, a running statement is interrupted
        raise


def _nothing(pairs: Sequence[tuple[Chunk, Record]]) -> Plan:
    """A plan that keeps every statement of `pairs` as it is."""
    return Plan(False, "", [], {}, [], [(r, c) for c, r in pairs], [], len(pairs))


async def _fresh_namespace(session: Interpreter) -> None:
    try:
        await session.reset()
    except Exception:
        await session.restart()
    session.ledger.clear()


async def forget_names(session: Interpreter, names: Sequence[str]) -> None:
    """Delete `names` from the namespace (those that exist); nothing is reported back."""
    await session.run_own(forget_code(names), "forget names", FORGET_ID)
