"""Follow mode: statements appended to a document, by anyone, run once complete.

Rule for edits (docs/configuration.md, "Follow mode"):
- text appended at the end streams into the current run, so each statement runs as soon as
  the detector knows it is complete;
- an edit to text that has not run yet (the statement being typed) restarts the stream from
  the first statement that has not run, without touching the interpreter;
- an edit to a statement that already ran makes its results stale and, after a short pause
  in typing, re-runs it and the statements that depend on it, in document order, keeping
  everything else's state (lsp/incremental.py, core/rerun.py; a full rebuild, from a fresh
  namespace, only when the dependency graph cannot follow the code, and the status says so).
After an error (with `execution.stopOnError`) nothing more runs until the failing statement
(or something before it) is edited.

A statement runs only once the user has moved past it. The last line with text, when the
user's latest edit is on or after it, is the line being typed: it is held back (not fed to the
run) until a later line is started, or until a newline follows it and the cursor (from
`eager/cursor`, for the document version the server has) is on another line. A pause in the
middle of a line never runs it, even when the document text ends in a newline after it (Neovim
always sends one). Without cursor notifications only "a later line started" counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from eager_lsp.core.interpreter import StreamFailed
from eager_lsp.core.types import Event
from eager_lsp.lsp.execution import Activity, reset_namespace
from eager_lsp.lsp.payloads import FollowResult
from eager_lsp.lsp.runs import RunBinding
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.server import EagerServer

log = logging.getLogger(__name__)

REBUILD_PAUSE_S = 0.3  # wait for a pause in typing before re-running from the top


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on equal prefixes (fast for long documents)
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class Epoch(Activity):
    """One stream of the document's text through one run (an Activity, so a generation or a
    whole-document run replaces it)."""

    kind = "follow"

    def __init__(self, server: EagerServer, doc: Document, follower: Follower, base: int):
        super().__init__(server, doc)
        self.follower = follower
        # Imported here: the providers package loads the openai SDK (see server.warm_up).
        from eager_lsp.providers.document import DocumentStream

        self.base = base  # 0-based document line where this stream's text begins
        self.stream = DocumentStream()
        self.binding = RunBinding(
            doc,
            lambda r: r - 1,  # this stream's text is the document's own from line `base`
            on_entry=lambda e: server.add_entry(doc, e),
            on_event=self._on_event,
        )
        self.reset_first = False
        self.ready = asyncio.Event()  # the interpreter is there; pushing text makes sense

    def _on_event(self, event: Event) -> None:
        if event.kind == "release":
            self.follower.released_upto = max(
                self.follower.released_upto, event.data["chunk"].end_line
            )
        if event.kind in ("release", "exec_start", "result"):  # "running" only while it does
            busy = self.binding.running or self.binding.pending
            self.server.status(self.doc, "running" if busy else "idle", message="following")

    async def main(self) -> None:
        server, doc = self.server, self.doc
        interpreter = await server.ensure_interpreter(doc)
        if self.reset_first:
            await reset_namespace(interpreter)
        self.ready.set()
        server.status(doc, "idle", message="following")  # "running" once a statement does
        try:
            report = await interpreter.run_stream(
                self.stream, first_line=self.base + 1, listener=self.binding
            )
            stopped = report.stopped_early
        except StreamFailed:
            stopped = False  # abandoned: a newer stream takes over
        if stopped and not self.binding.cancelled:
            self.follower.halted = True
            server.status(doc, "error", message="follow: stopped at an error; edit it to re-run")
        elif not self.binding.cancelled:
            server.status(doc, "idle", message="following")

    async def stop(self, reason: str) -> None:
        """Cancel: nothing more from this stream is run or shown."""
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

    def __init__(self, server: EagerServer, doc: Document) -> None:
        self.server = server
        self.doc = doc
        self.snapshot = ""  # the text the current state corresponds to
        self.released_upto = 0  # lines before this have run (or been released to run)
        self.halted = False
        self.suspended = False
        self.epoch: Epoch | None = None
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rebuild_next = True  # the first round runs the whole document
        self.edit_line: int | None = None  # line where the user's latest edit ended
        doc.observers.append(self)

    def start(self) -> None:
        self._task = self.server.spawn(self._loop(), "follow mode")
        self._dirty.set()

    def rebuild_soon(self) -> None:
        """The interpreter was replaced: run everything again from the top."""
        self.suspended = False
        self._rebuild_next = True
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
        self.halted = False
        self.snapshot = self.doc.text.source
        self.released_upto = self.doc.text.line_count - (
            0 if self.snapshot.endswith("\n") or not self.snapshot else 1
        )
        self._rebuild_next = False
        self.edit_line = None

    def cursor_moved(self) -> None:
        if not self.suspended:
            self._dirty.set()

    # -- what may run ---------------------------------------------------------------------------
    def settled_text(self) -> str:
        """The document's text without the line being typed (see the module docstring)."""
        text = self.doc.text
        source = text.source
        last = text.line_count - 1
        while last >= 0 and not text.line(last).strip():
            last -= 1
        if last < 0 or self.edit_line is None or self.edit_line < last:
            return source
        newline_after = last + 1 < text.line_count
        cursor = self.doc.cursor
        if (
            newline_after
            and cursor is not None
            and self.doc.cursor_version == self.doc.version
            and cursor[0] != last
        ):
            return source  # a newline typed and the cursor off that line
        return source[: text.line_start(last)]

    # -- watching ---------------------------------------------------------------------------------
    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None:
        if not own:
            self.edit_line = self.doc.text.line_of(start + len(text))
        if not self.suspended:
            self._dirty.set()

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
        new = self.settled_text()
        if self._rebuild_next:
            await self._rebuild(new, from_line=0)
            return
        old = self.snapshot
        if new == old:
            return
        epoch = self.epoch
        if new.startswith(old) and epoch is not None and epoch.running and not self.halted:
            epoch.stream.push(new[len(old) :])
            self.snapshot = new
            return
        if epoch is not None and epoch.running:
            await epoch.stream.drained()  # what was pushed has been fed and released
        line = self.doc.text.line_of(_common_prefix(old, new))
        if line < self.released_upto:
            # A statement that already ran changed: wait for a pause, then re-run it and
            # what depends on it (lsp/incremental.py); the rest keeps its state.
            await asyncio.sleep(REBUILD_PAUSE_S)
            if self._dirty.is_set():
                return  # still typing: the next round re-runs
            await self._rerun_edits()
            return
        if self.halted:
            self.snapshot = new  # nothing runs after an error until it is edited
            return
        await self._restart_tail(new)

    async def _rerun_edits(self) -> None:
        """Bring the interpreter to the settled text, re-running only what the edit
        affects; then follow from its end."""
        from eager_lsp.lsp.incremental import run_edits

        if self.epoch is not None:
            await self.epoch.stop("re-running an edit")
            self.epoch = None
        text = self.settled_text()
        run = await run_edits(self.server, self.doc, text)
        if self.suspended or run.report is None:
            return  # another activity took over (it resumes us), or it failed
        self.snapshot = text
        self.released_upto = run.released_upto
        self.halted = run.halted
        self._dirty.set()  # the text may have moved on meanwhile

    async def _rebuild(self, text: str, *, from_line: int) -> None:
        """Fresh namespace, then the whole document from the top."""
        self._rebuild_next = False
        if self.epoch is not None:
            await self.epoch.stop("rebuilding")
        self.halted = False
        self.released_upto = 0
        self.doc.store.clear(from_line)
        await self._new_epoch(text, base=0, reset=True)

    async def _restart_tail(self, text: str) -> None:
        """The unrun tail changed: let complete statements finish, then stream from the
        first statement that has not run."""
        if self.epoch is not None:
            await self.epoch.finish()
        self.halted = False
        base = min(self.released_upto, self.doc.text.line_count)
        await self._new_epoch(text, base=base, reset=False)

    async def _new_epoch(self, text: str, *, base: int, reset: bool) -> None:
        from eager_lsp.lsp.execution import replace_activity

        await replace_activity(self.doc, "follow")
        epoch = Epoch(self.server, self.doc, self, base)
        epoch.reset_first = reset
        self.epoch = epoch
        epoch.start()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(epoch.ready.wait(), 120.0)
        # The text may have moved on while the interpreter was getting ready.
        text = self.settled_text()
        epoch.stream.push(text[self.doc.text.line_start(base) :])
        self.snapshot = text


async def set_follow(server: EagerServer, doc: Document, enabled: bool) -> FollowResult:
    """eager.follow: on runs the document from a fresh namespace, then follows it."""
    if not enabled:
        if doc.follower is not None:
            follower, doc.follower = doc.follower, None
            await follower.stop()
        return FollowResult(enabled=False)
    if doc.follower is None:
        follower = Follower(server, doc)
        doc.follower = follower
        if doc.activity is not None and doc.activity.running:
            follower.suspended = True  # a generation is writing; follow from its end
            follower._rebuild_next = False
        follower.start()
    return FollowResult(enabled=True)


def set_cursor(server: EagerServer, params: Any) -> None:
    """eager/cursor `{"uri", "position": {line, character}, "version"?}`: where the user is.
    Without `version` it is taken to be for the text the server has now."""
    from eager_lsp.lsp.stream_edits import plain

    data = plain(params)
    if not isinstance(data, dict):
        return
    doc = server.documents.get(str(data.get("uri")))
    pos = data.get("position")
    if doc is None or doc.closed or not isinstance(pos, dict):
        return
    try:
        line, character = int(pos["line"]), int(pos["character"])
    except (KeyError, TypeError, ValueError):
        return
    version = data.get("version")
    doc.cursor = (line, character)
    doc.cursor_version = version if isinstance(version, int) else doc.version
    if doc.follower is not None:
        doc.follower.cursor_moved()
