"""Edit-aware re-execution in the editor: follow mode's edits and Fix with AI's dependents.

`EditRun` is an activity (lsp/execution.py): it brings the document's interpreter to a text
with core/rerun.py, so only the statements an edit affects run, and everything else keeps
its state and its results. Rules:
- results of the statements that run replace theirs in the store (the binding maps run
  lines through the edits made meanwhile, as every run does);
- a full rebuild (nothing ran yet, or something the graph cannot follow) clears the store
  first, like eager.runDocument;
- affected statements that do not run (below an unchanged error) have their results dropped
  and are reported stale: their values no longer hold;
- the status's message says what happened: "re-ran 2 of 14 statements (0.03 s; a full
  rebuild would take ≈4.1 s)", or "full rebuild (why): …"; "…; interrupted" (idle, no error)
  when the user interrupted a statement it ran, "…; interpreter restarted" when that interrupt
  had to kill the interpreter (its variables are gone).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from eager_lsp.core.dependencies import Plan
from eager_lsp.core.rerun import RerunReport, rerun
from eager_lsp.core.types import Event, ExecStart, ResultReady
from eager_lsp.lsp import methods
from eager_lsp.lsp.execution import (
    USER_STOP,
    Activity,
    replace_activity,
    run_error_text,
)
from eager_lsp.lsp.runs import LineMap, publishing

if TYPE_CHECKING:
    from eager_lsp.lsp.context import ExecutionContext
    from eager_lsp.lsp.documents import Document

log = logging.getLogger(__name__)


class EditRun(Activity):
    """Re-run what an edit affects (see the module docstring)."""

    kind = "follow"

    def __init__(
        self,
        server: ExecutionContext,
        doc: Document,
        text: str,
        linemap: LineMap,
        *,
        fresh_since: int | None = None,
        label: str = "follow",
    ) -> None:
        super().__init__(server, doc)
        self.text = text
        self.linemap = linemap  # taken with the text by run_edits, which detaches it
        self.fresh_since = fresh_since
        self.label = label
        self.report: RerunReport | None = None

    def running_edited(self) -> bool:
        """A statement it runs now was edited since: what it computes is for the old text."""
        return self.running and self.binding is not None and self.binding.running_edited()

    @property
    def halted(self) -> bool:
        """It stopped at an error (a new one, or an unchanged one below which nothing ran)."""
        r = self.report
        return r is not None and (r.failed is not None or r.plan.halted_at is not None)

    @property
    def released_upto(self) -> int:
        """The line after the last statement of the text (what follow mode counts as run)."""
        r = self.report
        chunks = [] if r is None else [*r.plan.run, *(c for _, c in r.plan.kept)]
        return max((c.end_line for c in chunks), default=0)

    async def main(self) -> None:
        server, doc = self.server, self.doc
        session = self._interpreter = await server.ensure_interpreter(doc)
        self.binding = publishing(server, doc, self.linemap.map, on_event=self._event)
        server.status(doc, "running", message=self.label)
        self.report = await rerun(
            session,
            self.text,
            listener=self.binding,
            fresh_since=self.fresh_since,
            on_plan=self._planned,
        )
        error = run_error_text(self.binding)
        message = self.report.status()
        if self.label != "follow":
            message = f"{self.label}: {message}"
        ran = self.report.report
        ended = self.ending(ran, ran.failed) if ran is not None else None
        if ended is not None:  # interrupted, or an interrupt that had to kill the interpreter
            error, message = None, f"{message}; {ended}"
        if error:
            server.status(doc, "error", message=f"{message}; {error}")
        elif self.label == "follow":
            # follow mode goes on: its idle state says so, then what re-ran (VS Code's status
            # bar showed plain "Eager" after a fixed error was re-run, as if follow mode were off)
            server.status(doc, "idle", message=f"{methods.FOLLOWING} · {message}")
        else:
            server.status(doc, "idle", message=message)

    async def stop(self, reason: str) -> None:
        """Cancel: nothing more of it runs (a running statement is interrupted) or is shown.
        The user's Stop first stops it as its user would (`stop_as_its_user`: its status then
        says how it ended; it stayed `running`)."""
        if reason == USER_STOP:
            await self.stop_as_its_user(reason)
        if self.binding is not None:
            self.binding.cancelled = True
        await super().stop(reason)

    def _event(self, event: Event) -> None:
        if isinstance(event, (ExecStart, ResultReady)):
            self.server.status(self.doc, "running", message=self.label)

    def _planned(self, plan: Plan) -> None:
        doc, server = self.doc, self.server
        if plan.full:
            if doc.store.clear():
                server.stale(doc, 0)
                server.republish(doc)
            return
        for chunk in plan.not_run:
            first, last = chunk.start_line - 1, chunk.end_line - 1
            if doc.store.drop(first, last):
                server.stale(doc, first, last)
                server.republish(doc)


async def run_edits(
    server: ExecutionContext,
    doc: Document,
    text: str | None = None,
    *,
    fresh_since: int | None = None,
    label: str = "follow",
) -> EditRun:
    """Start an EditRun (replacing what runs now, as any activity does) and wait for it.
    `text` (default: the document as it is when this is called) must be the document's text
    of this moment: the line map that places its results is taken now, before any await."""
    if text is None:
        text = doc.text.source
    linemap = LineMap(doc)
    try:
        await replace_activity(doc, "follow")
        run = EditRun(server, doc, text, linemap, fresh_since=fresh_since, label=label)
        run.start()
        if run.task is not None:
            try:
                await run.task
            except asyncio.CancelledError:
                if run.stop_reason is None:
                    raise  # this wait itself was cancelled
                # it was stopped (an edit of its running statement, another activity): the
                # caller (follow mode's loop) goes on, and must not end with it
            except Exception:  # the server's task wrapper logs and shows it
                log.debug("edit run failed", exc_info=True)
    finally:
        linemap.detach()  # however it ended: refused, stopped before it began, done
    return run


def after_fix(server: ExecutionContext, doc: Document, fresh_since: int | None) -> None:
    """Fix with AI replaced a statement and ran it: run the statements below that depend on
    it (and those the error had stopped), nothing else."""
    if fresh_since is None or doc.closed:
        return
    server.spawn(
        run_edits(server, doc, fresh_since=fresh_since, label="Fix with AI"),
        "re-running what depends on the fix",
    )
