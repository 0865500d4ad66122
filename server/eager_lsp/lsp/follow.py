"""Follow mode in the editor: the edge of `app/follow.py`, which holds the rules (what may
run, what an edit means, stopping at an error) and decides each step.

This module feeds those rules a document: its settled text (the line being typed from each
didChange, `typed_line`, and what that line held before typing on it began; the cursor from
`eager/cursor` for the document version the server has: Neovim sends it on CursorMoved and
CursorMovedI, VS Code on a selection change; a cursor past the line being typed ends it), and
carries out the steps: a stream of the document's text through one run (`Epoch`, an
Activity, so a generation or a whole-document run replaces it), a re-run of edited
statements (lsp/incremental.py), a rebuild from a fresh namespace. It publishes the status
and binds results to lines (RunBinding); it decides nothing about what runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from eager_lsp.app.follow import FollowState, follow_step, settled_text, typed_line
from eager_lsp.core.interpreter import StreamFailed
from eager_lsp.core.text_lines import TextLines
from eager_lsp.core.types import Event, Release
from eager_lsp.lsp import methods
from eager_lsp.lsp.execution import USER_STOP, Activity, reset_namespace
from eager_lsp.lsp.payloads import OMIT, CursorParams, FollowResult, from_wire
from eager_lsp.lsp.runs import RunBinding, publishing
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.lsp.context import ExecutionContext, OpenDocuments
    from eager_lsp.lsp.documents import Document

log = logging.getLogger(__name__)


class Epoch(Activity):
    """One stream of the document's text through one run (an Activity, so a generation or a
    whole-document run replaces it)."""

    kind = "follow"

    def __init__(self, server: ExecutionContext, doc: Document, follower: Follower, base: int):
        super().__init__(server, doc)
        self.follower = follower
        # Imported here: lsp/ reaches the providers only when a stream is made (warm_up).
        from eager_lsp.providers.document import DocumentStream

        self.base = base  # 0-based document line where this stream's text begins
        self.stream = DocumentStream()
        self.binding: RunBinding = publishing(
            server,
            doc,
            lambda r: r - 1,  # this stream's text is the document's own from line `base`
            on_event=self._on_event,
        )
        self.reset_first = False
        self.ready = asyncio.Event()  # the interpreter is there; pushing text makes sense

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Release):
            self.follower.state.released(event.chunk.end_line)
        if event.kind in ("release", "exec_start", "result"):  # "running" only while it does
            busy = self.binding.running or self.binding.pending
            self.server.status(self.doc, "running" if busy else "idle", message=methods.FOLLOWING)

    async def main(self) -> None:
        server, doc = self.server, self.doc
        interpreter = self._interpreter = await server.ensure_interpreter(doc)
        if self.reset_first:
            await reset_namespace(interpreter)
        self.ready.set()
        server.status(doc, "idle", message=methods.FOLLOWING)  # "running" once a statement does
        try:
            report = await interpreter.run_stream(
                self.stream, first_line=self.base + 1, listener=self.binding
            )
            stopped = report.stopped_early
            interrupted = report.interrupted  # by the user: it halts, but is no error
            # ...and it had to kill the interpreter: its variables are gone (lsp/execution.py
            # `user_ending`: the document's run says so too)
            restarted = report.restarted
            # Stopped by a syntax error alone: nothing at or after it was released or ran, so
            # it does not halt follow mode (an edit anywhere in the unrun tail restarts the
            # stream from there; released_upto, which `plan` checks edits against, is before
            # the error), as after a re-run that meets one (EditRun.halted).
            syntax_only = report.failed is None and report.syntax_error is not None
        except StreamFailed:
            # abandoned: a newer stream takes over
            stopped = syntax_only = interrupted = restarted = False
        by_user = self.stop_reason == USER_STOP  # eager.stop (Epoch.stop)
        if stopped and not self.binding.cancelled and by_user and not interrupted:
            # stopped between statements: nothing was cut short, following goes on
            server.status(doc, "idle", message=f"{methods.FOLLOWING} · {methods.STOPPED}")
        elif stopped and not self.binding.cancelled:
            if not syntax_only:
                self.follower.state.stopped_at_error()
            if interrupted:
                ended = methods.INTERRUPTED if not by_user else methods.STOPPED
                ended = methods.RESTARTED if restarted else ended
                message = f"{methods.FOLLOWING} · {ended}; edit it to re-run"
                server.status(doc, "idle", message=message)
            else:
                message = "follow: stopped at an error; edit it to re-run"
                server.status(doc, "error", message=message)
        elif not self.binding.cancelled:
            server.status(doc, "idle", message=methods.FOLLOWING)

    async def stop(self, reason: str) -> None:
        """Cancel: nothing more from this stream is run or shown. The user's Stop first stops
        it as its user would (`stop_as_its_user`): the statement it cut short shows that,
        and the status says how it ended (it stayed `running`, and the answer said nothing)."""
        if reason == USER_STOP:
            await self.stop_as_its_user(reason)
        self.binding.cancelled = True
        self.stream.abandon()
        await super().stop(reason)

    async def finish(self) -> None:
        """Abandon the unfinished tail but let complete statements run to the end."""
        self.stream.abandon()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self.task), 60.0)


class Follower:
    """Watches one document while follow mode is on."""

    def __init__(self, server: ExecutionContext, doc: Document, *, suspended: bool = False):
        """`suspended`: another activity feeds the interpreter now (a generation writing):
        follow from its end (`resume_after_run`), without running the document first."""
        self.server = server
        self.doc = doc
        # What ran; else the first round runs the whole document.
        self.state = FollowState(rebuild_next=not suspended)
        self.suspended = suspended
        self.epoch: Epoch | None = None
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.edit_line: int | None = None  # the line being typed (app.follow.typed_line)
        self.held = ""  # what that line held before the user began typing on it
        self._source = doc.text.source  # the text before the next change (typed_line reads it)
        doc.observers.append(self)

    def start(self) -> None:
        self._task = self.server.spawn(self._loop(), "follow mode")
        self._dirty.set()

    def rebuild_soon(self) -> None:
        """The interpreter was replaced (the user's restart): run everything again from the
        top, the text as it is shown. The line being typed is no longer held: its old text
        would run unseen (a user tour: `b = 2` beside `a = 5`; after an undo left the cursor
        on a line, its undone `1 / 0` failed with no diagnostic anywhere). An unfinished line
        is then a syntax error at that line, shown there, until it is finished."""
        self.suspended = False
        self.edit_line, self.held = None, ""
        self.state.interpreter_replaced()
        self._dirty.set()

    async def stop(self) -> None:
        if self in self.doc.observers:
            self.doc.observers.remove(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.epoch is not None:
            await self.epoch.stop("follow mode off")
            self.epoch = None

    # -- hooks for other activities --------------------------------------------------------------
    def suspend(self) -> None:
        """Another activity is feeding the interpreter: ignore edits until it is done."""
        self.suspended = True
        if self.epoch is not None:
            self.epoch.binding.cancelled = True
            self.epoch.stream.abandon()

    def resume_after_run(self) -> None:
        """The other activity ran the document's text: everything in it counts as run."""
        self.suspended = False
        self.epoch = None
        self.state.ran_elsewhere(self.doc.text)
        self.edit_line, self.held = None, ""

    def cursor_moved(self) -> None:
        doc = self.doc
        cursor = doc.cursor if doc.cursor_version == doc.version else None
        if cursor is not None and self.edit_line is not None and cursor[0] > self.edit_line:
            self.edit_line, self.held = None, ""  # moved past the line: nothing is being typed
        if not self.suspended:
            self._dirty.set()

    # -- what may run ---------------------------------------------------------------------------
    def settled_text(self) -> str:
        """The document's text without the line being typed (app.follow.settled_text)."""
        doc = self.doc
        cursor = doc.cursor if doc.cursor_version == doc.version else None
        return settled_text(
            doc.text,
            edit_line=self.edit_line,
            cursor_line=None if cursor is None else cursor[0],
            held=self.held,
        )

    # -- watching ---------------------------------------------------------------------------------
    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None:
        before, self._source = self._source, self.doc.text.source
        if not own:
            line = typed_line(before, start, end, text, self.doc.text, self.edit_line)
            if line is None or "\n" in text or "\n" in before[start:end]:
                if line != self.edit_line:
                    self.held = ""  # a new line (or lines joined): it held nothing
            elif line != self.edit_line:  # typing begins on this line: what it held
                first = self.doc.text.line_start(line)
                last = before.find("\n", start)
                self.held = before[first : len(before) if last < 0 else last]
            self.edit_line = line
        if not self.suspended:
            self._dirty.set()
            if not own:
                self._stop_an_edited_rerun()

    def _stop_an_edited_rerun(self) -> None:
        """A re-run of an edit (lsp/incremental.py) whose running statement was edited again
        is interrupted, so the loop re-runs the new text at once: it waited for the old text
        to end (a `while True:` never did). An Epoch is stopped by the loop itself."""
        from eager_lsp.lsp.incremental import EditRun

        run = self.doc.activity
        if isinstance(run, EditRun) and run.stop_reason is None and run.running_edited():
            self.server.spawn(run.stop("its running statement was edited"), "follow")

    async def _loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self.suspended or self.doc.closed:
                continue
            try:
                await self._sync()
            except Exception:
                log.exception("follow mode failed to catch up")

    async def _sync(self) -> None:
        await follow_step(self.state, self)

    # -- app.follow.FollowEdge: the steps, on this document ----------------------------------------
    def settled(self) -> str:
        return self.settled_text()

    def streaming(self) -> bool:
        return self.epoch is not None and self.epoch.running

    def push(self, text: str) -> None:
        assert self.epoch is not None
        self.epoch.stream.push(text)

    async def drained(self) -> None:
        if self.epoch is not None:
            await self.epoch.stream.drained()

    def typing(self) -> bool:
        return self._dirty.is_set()

    async def rerun(self) -> None:
        """Bring the interpreter to the settled text, re-running only what the edit
        affects (lsp/incremental.py); then follow from its end."""
        from eager_lsp.lsp.incremental import run_edits

        if self.epoch is not None:
            await self.epoch.stop("re-running an edit")
            self.epoch = None
        text = self.settled_text()
        run = await run_edits(self.server, self.doc, text)
        if self.suspended or run.report is None:
            return  # another activity took over (it resumes us), or it failed
        self.state.reran(text, released_upto=run.released_upto, halted=run.halted)
        self._dirty.set()  # the text may have moved on meanwhile

    async def rebuild(self) -> None:
        """Fresh namespace, then the whole document from the top."""
        if self.epoch is not None:
            await self.epoch.stop("rebuilding")
        self.doc.store.clear(0)
        await self._new_epoch(base=0, reset=True)

    async def restart(self, base: int) -> None:
        """The unrun tail changed: let complete statements finish, then stream from the
        first statement that has not run."""
        if self.epoch is not None:
            await self.epoch.finish()
        await self._new_epoch(base=min(base, self.doc.text.line_count), reset=False)

    async def _new_epoch(self, *, base: int, reset: bool) -> None:
        from eager_lsp.lsp.execution import replace_activity

        await replace_activity(self.doc, "follow")
        epoch = Epoch(self.server, self.doc, self, base)
        epoch.reset_first = reset
        self.epoch = epoch
        epoch.start()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(epoch.ready.wait(), 120.0)
        # The text may have moved on while the interpreter was getting ready.
        text = self.settled_text()  # its lines are the document's (a held line is blanked)
        epoch.stream.push(text[TextLines(text).line_start(base) :])
        self.state.streamed(text)


async def set_follow(server: ExecutionContext, doc: Document, enabled: bool) -> FollowResult:
    """eager.follow: on runs the document from a fresh namespace, then follows it; when its
    interpreter already ran statements of it (a run, a generation), only what differs from
    them runs (lsp/incremental.py), the rest keeps its state and results."""
    if not enabled:
        if doc.follower is not None:
            follower, doc.follower = doc.follower, None
            await follower.stop()
        return FollowResult(enabled=False)
    if doc.follower is None:
        busy = doc.activity is not None and doc.activity.running
        follower = Follower(server, doc, suspended=busy)
        interpreter = doc.interpreter
        if not busy and interpreter is not None and len(interpreter.ledger):
            follower.state.ran_before()  # re-run only what differs from what ran
        doc.follower = follower
        follower.start()
    return FollowResult(enabled=True)


def set_cursor(server: OpenDocuments, params: Any) -> None:
    """eager/cursor `{"uri", "position": {line, character}, "version"?}`: where the user is.
    Without `version` it is taken to be for the text the server has now."""
    from eager_lsp.lsp.payloads import PayloadError

    try:
        cursor = from_wire(CursorParams, params)
    except PayloadError as exc:
        log.info("ignoring a malformed %s: %s", "eager/cursor", exc)
        return
    doc = server.documents.get(cursor.uri)
    if doc is None or doc.closed:
        return
    doc.cursor = (cursor.position.line, cursor.position.character)
    doc.cursor_version = doc.version if cursor.version is OMIT else cursor.version
    if doc.follower is not None:
        doc.follower.cursor_moved()
