"""Writing generated text into a document the user may be editing at the same time.

`Region` follows the generated text through every change: the user's edits before it move it,
text typed at its boundaries stays outside it, an edit inside it is a conflict that stops the
generation (keeping both texts). Two write paths share the coalescing `Writer`:
- `EditWriter` (any LSP client): `workspace/applyEdit` with versioned edits, one at a time,
  rebased and retried when the user's typing got there first (docs/architecture.md);
- `stream_edits.StreamEditWriter` (clients with `experimental.eagerStreamEdits`): the client
  inserts at a mark that moves with edits and tells the server where the text is.
On both, an edit that replaces text (a selection, the statement a fix replaces, our own text
trimmed at the end) is rebased over the user's typing only while the text it replaces is
unchanged: typed inside it, it is given up (`EDITED_MEANWHILE`) rather than overwriting what
the user typed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eager_lsp import limits
from eager_lsp.lsp import methods
from eager_lsp.lsp.edit_pace import EditPace
from eager_lsp.lsp.text import LineEdit
from eager_lsp.lsp.waits import Wake, on_loop, wait_done

if TYPE_CHECKING:
    from eager_lsp.lsp.context import EditClient
    from eager_lsp.lsp.documents import Document

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.05  # at most ~20 edits per second
PARTIAL_LINE_WAIT_S = 0.25  # a partial line is written once it has waited this long
ECHO_TIMEOUT_S = 3.0  # how long the client may take to echo an applied edit as didChange


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0.1 <= value <= 3600 else default


# How long the server waits for the editor to answer one edit request. The editor may be slow
# for good reasons (a busy renderer retries an edit the user's typing beat, a remote window);
# giving up ends the generation, so the wait is long. `EAGER_LSP_EDIT_TIMEOUT` (seconds)
# changes it: tests, and editors slower still.
APPLY_TIMEOUT_S = _seconds("EAGER_LSP_EDIT_TIMEOUT", 60.0)
# How long a refused edit waits for the didChange that says why before the refusal is final.
# Neovim holds didChange back while the user types until it has sent a first one (its
# debounce restarts with each change), so a refusal's cause can arrive seconds later; the
# wait ends as soon as it does. Only a client that refuses for good waits it out; once the
# generation is stopped the wait is STOPPED_REFUSAL_WAIT_S. `EAGER_LSP_REFUSAL_WAIT`
# (seconds) changes it.
REFUSAL_WAIT_S = _seconds("EAGER_LSP_REFUSAL_WAIT", 5.0)
STOPPED_REFUSAL_WAIT_S = 0.5


async def client_answer(
    request: Awaitable[Any] | concurrent.futures.Future[Any], timeout: float | None = None
) -> Any:
    """The editor's answer to a request the server sent, waited for at most `timeout` seconds
    (APPLY_TIMEOUT_S by default). Every request the server sends an editor is awaited so.

    The request itself is never cancelled, not on a timeout, not when the awaiting task is: pygls
    fails on an answer to a cancelled request (InvalidStateError, shown to the user as "Error in
    server: CANCELLED"), and a late answer is harmless once nobody waits for it."""
    if isinstance(request, concurrent.futures.Future):
        fut: asyncio.Future[Any] = on_loop(request)
    else:
        fut = asyncio.ensure_future(request)  # a coroutine (pygls's *_async) runs as a task
    try:
        if not await wait_done(fut, APPLY_TIMEOUT_S if timeout is None else timeout):
            raise asyncio.TimeoutError
    finally:
        if not fut.done():
            fut.add_done_callback(_retrieve)  # nobody will read a late failure
    return fut.result()


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # read, so that asyncio does not log a late failure nobody awaits


EDITED_MEANWHILE = "the text it was to replace was edited meanwhile; it was left as it is"
EDITED_BY_USER = "the generated text was edited"  # an edit inside it stopped the writing
MAX_RETRIES = 30  # rebase-and-retry rounds for one edit before giving up cleanly


class Region:
    """[start, end) offsets of text a generation wrote, followed through edits.

    Text someone else inserts exactly at a boundary stays outside the region: at the start it
    goes before it (an empty region included: a line typed at the insertion point just as
    the generation starts stays above the generated code), at the end it goes after it (the
    generation keeps writing before it). Any other change that touches the region's text is
    a conflict, when `judge` is on; a client that applies stream edits itself judges that
    instead (`judge` off), and its answers set `start`/`end` (`adopt`)."""

    def __init__(self, doc: Document, start: int, *, judge: bool = True) -> None:
        self.doc = doc
        self.start = start
        self.end = start
        self.intact = True
        self.judge = judge
        self.writing = True
        self.on_conflict: Callable[[str], None] | None = None
        doc.observers.append(self)

    def text(self) -> str:
        return self.doc.text.source[self.start : self.end]

    def on_change(self, s: int, e: int, text: str, edit: LineEdit, own: bool) -> None:
        delta = len(text) - (e - s)
        if not self.intact:
            return
        if own:
            if self.start <= s and e <= self.end:
                self.end += delta
            return
        if e < self.start or (e == self.start and (s < e or s == self.start)):
            self.start += delta  # before (an insertion at the start included)
            self.end += delta
            return
        if s == e == self.end - 1 and self.end > self.start and text[:1] == "\n" and self.judge:
            src = self.doc.text.source
            if src[s + len(text) : s + len(text) + 1] == "\n":
                # a line opened below the region's last line, as a line-diffing client (Neovim)
                # reports `o` there: "\nX" inserted before its final line break, the same text
                # as "X\n" inserted after it: after it (it was a conflict, so a later Fix with
                # AI replaced only the failing statement)
                return
        if s >= self.end:
            at_end = s == e == self.end and self.judge and self.writing
            if not (at_end and text[:1] not in ("", "\r", "\n")):
                return  # after (an insertion at the end included)
            if self.end == self.start or self.doc.text.source[self.end - 1] in "\r\n":
                return  # at the insertion point: the user's text goes after ours
            # typed at the end of the unfinished line we are writing: on that line (the rest
            # of the model's line would go between: `e = d - 100` then the user's ` + 5`)
        if not self.judge:
            # The client judges edits inside; keep a best guess until its next answer.
            self.end = max(s + len(text), self.end + delta)
            self.start = min(self.start, self.end)
            return
        self.intact = False
        if self.on_conflict is not None:
            self.on_conflict(EDITED_BY_USER)

    def adopt(self, start: int, end: int) -> None:
        """The client said where the region is (rebased to the current version)."""
        self.start, self.end = start, max(start, end)

    def lost(self) -> None:
        """The client says the text was edited inside (or is gone): stop following it."""
        self.intact = False

    def freeze(self) -> None:
        """Generation over: keep following edits (for "Fix with AI"), no more writing."""
        self.writing = False
        self.judge = True

    def detach(self) -> None:
        if self in self.doc.observers:
            self.doc.observers.remove(self)


class Writer:
    """What both write paths share: the generated text arrives with `push`, is coalesced
    (whole lines, or a partial line that has waited a while; at least ~50 ms apart) and
    written one piece at a time by `_write`, in order. The end of a generation (or an abort)
    cuts the wait between edits short: the last line is not held back by the interval.
    `pace`, the server's shared budget, lengthens the interval while many documents are
    written into at once."""

    min_interval_s = MIN_INTERVAL_S

    def __init__(self, doc: Document, pace: EditPace | None = None) -> None:
        self.doc = doc
        self.pace = pace
        self.region: Region | None = None
        self.received = ""  # all generated text so far
        self.applied = 0  # how much of `received` is in the document
        self.limit: int | None = None  # never write past this many characters
        self.edits = 0
        self.failure: str | None = None
        self.on_applied: Callable[[], None] | None = None
        self.on_abort: Callable[[str], None] | None = None  # once, with the first reason
        self._closing = False
        self._stopped = False  # the generation was stopped: a refused edit waits less
        # The model's text ended whole (core EndOfStream.whole): its last line is finished,
        # with or without a line break, and runs. Stream edits' `end` says so (`complete`).
        self.whole = False
        self._wake = Wake()
        self._closed_wake = Wake()  # set once closing or aborted: ends the interval wait
        self._first_unwritten_at: float | None = None
        self._last_edit_at = 0.0
        # The document version in which the client declined a partial line we thought fitted
        # (it sees text after the insertion point that we do not): until the text changes,
        # partial lines wait for their line end.
        self._disputed_at: int | None = None

    # -- input ------------------------------------------------------------------------------
    def push(self, text: str) -> None:
        if not text:
            return
        if self._first_unwritten_at is None:
            self._first_unwritten_at = time.monotonic()
        self.received += text
        self._wake.set()

    def truncate(self, keep: int) -> None:
        """Write nothing past `keep` characters of the generated text (an error stopped it)."""
        self.limit = keep if self.limit is None else min(self.limit, keep)
        self._wake.set()

    def abort(self, reason: str) -> None:
        """Stop writing at once (a conflict or a refused edit); nothing more is sent."""
        first = self.failure is None
        if first:
            self.failure = reason
        self._closing = True
        self._wake.set()
        self._closed_wake.set()
        self.doc.wake_waiters()
        if first and self.on_abort is not None:
            self.on_abort(reason)

    def stop_partial(self) -> None:
        """The generation was stopped: complete lines are still written, an unfinished last
        line is not (and `finish` removes it if it was written), so no half statement stays."""
        self.truncate(self.received[: self._target()].rfind("\n") + 1)
        self._stopped = True
        self.doc.wake_waiters()

    @property
    def applied_text(self) -> str:
        return self.received[: self.applied]

    # -- writing ------------------------------------------------------------------------------
    async def open(
        self, start: int, end: int, before: str, after: str, *, trim_trailing: bool = False
    ) -> Region | None:
        """Place the region at [start, end) between `before` and `after`; `trim_trailing` is
        what `finish` will be told (`trim_separator`), known now for a client that removes an
        unfinished line itself (stream edits, docs/protocol.md)."""
        raise NotImplementedError

    async def _write(self, text: str) -> bool | None:
        """Write `text` at the region's end. True: written; False: failed (the writer has
        aborted); None: not written, a partial line that would have been glued in front of
        text the user had just typed at the insertion point (the client knew it, we did not
        yet). `_run` then decides again on the text as it is now (`_partial_fits`)."""
        raise NotImplementedError

    async def finish(
        self, keep: int | None, writer_task: asyncio.Task[None] | None, *, trim_separator: bool
    ) -> None:
        """End of generation: write what is allowed, remove our own text past `keep`, and the
        newline opened before following text when the code ends with its own."""
        raise NotImplementedError

    async def run(self) -> None:
        """Write until closed; returns when everything allowed has been written."""
        try:
            await self._run()
        finally:
            if self.pace is not None:
                self.pace.leave(self)

    async def _run(self) -> None:
        while True:
            if self.failure is not None or self.doc.closed:
                return
            chunk = self._next_chunk()
            if chunk is None:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait(self._partial_due())
                continue
            now = time.monotonic()
            pace = self.pace
            interval = self.min_interval_s if pace is None else pace.interval(self, now)
            wait = self._last_edit_at + interval - now
            if wait > 0 and not self._closing:
                await self._closed_wake.wait(wait)
                continue  # more text may have arrived: take it too
            self._last_edit_at = now
            if pace is not None:
                pace.edited(self, now)
            wrote = await self._write(chunk)
            if wrote is None:
                # Declined (its answer placed the region): decide again. Still fitting in our
                # eyes, we disagree with the client; it sees the text, so it is right.
                if self._partial_fits():
                    self._disputed_at = self.doc.version
                continue
            if not wrote:
                return
            self.applied += len(chunk)
            self._first_unwritten_at = (
                time.monotonic() if self.applied < len(self.received) else None
            )
            if self.on_applied is not None:
                self.on_applied()

    async def _drain(self, keep: int | None, writer_task: asyncio.Task[None] | None) -> None:
        if keep is not None:
            self.truncate(keep)
        self._closing = True
        self._wake.set()
        self._closed_wake.set()
        if writer_task is not None:
            try:
                await writer_task
            except Exception as exc:
                log.warning("writer failed: %s", exc)

    def _end_glued_line(self) -> None:
        """At the end: the last line to write has no line end and the user's text follows the
        insertion point: end the line (within `limit` too: an error on that line keeps it),
        or it would be glued in front of their text."""
        t = self._target()
        if t == 0 or not is_partial_line(self.received[t - 1 : t]) or self._partial_fits():
            return
        if self.received[t : t + 1] != "\n":
            self.received = self.received[:t] + "\n" + self.received[t:]
        if self.limit is not None:
            self.limit = t + 1

    def _usable(self) -> bool:
        region = self.region
        return region is not None and region.intact and self.failure is None and not self.doc.closed

    def detach(self) -> None:
        pass

    def _target(self) -> int:
        n = len(self.received)
        return n if self.limit is None else min(n, self.limit)

    def _next_chunk(self) -> str | None:
        pending = self.received[self.applied : self._target()]
        if not pending:
            return None
        if self._closing:
            self._end_glued_line()
            return self.received[self.applied : self._target()]
        nl = pending.rfind("\n")
        if nl >= 0:
            return pending[: nl + 1]
        if self._partial_due() == 0:
            return pending
        return None

    def _partial_due(self) -> float | None:
        """Seconds until a partial line should be written (0: now; None: nothing waiting).
        One that would not fit (`_partial_fits`) is looked at again every PARTIAL_LINE_WAIT_S
        while the model stalls: the user's text after the insertion point may go (deleted,
        undone), and a didChange does not wake the writer."""
        if self._first_unwritten_at is None or self.applied >= self._target():
            return None
        if not self._partial_fits():
            return PARTIAL_LINE_WAIT_S
        return max(0.0, self._first_unwritten_at + PARTIAL_LINE_WAIT_S - time.monotonic())

    def _partial_fits(self) -> bool:
        """A partial line is written only where it ends a line of its own: when the user
        typed at the end of the generated text (a line opened at the insertion point), the
        partial line would be glued in front of their text until its newline came, and a
        person typing at that line would be typing inside the generated code."""
        region = self.region
        if region is None:
            return True
        if self._disputed_at == self.doc.version:
            return False
        source = self.doc.text.source
        return region.end >= len(source) or source[region.end] in "\r\n"


def is_partial_line(text: str) -> bool:
    """`text` ends inside a line (no line break at its end): written now, it would be glued
    in front of whatever follows the insertion point on its line."""
    return text[-1:] not in ("\n", "\r")


class _GiveWay(Exception):
    """A partial line rebased onto text the user typed after the insertion point meanwhile:
    written now it would be glued in front of theirs (`Writer._write` returns None)."""


@dataclass
class _Inflight:
    start: int
    end: int
    text: str
    expected: str  # the document text if exactly this edit is applied
    version: int  # the document version the edit was made for
    echoed: bool = False
    missed: bool = False  # the first didChange after `version` did not contain it


class EditWriter(Writer):
    """Generic clients: workspace/applyEdit, one versioned edit at a time.

    Each edit is sent as a versioned TextDocumentEdit (and, for clients that only know
    `changes`, the same edit unversioned). The client applies it only if its document is at
    that version; then it is the next change the client makes, so the first didChange after
    that version contains it. If that didChange does not (the user typed first and the client
    skipped or refused the edit), the edit is rebased onto the new text and sent again, at
    most MAX_RETRIES times; it is never resent once it may have landed, so text is never
    duplicated. Neovim's own handler skips a stale edit yet answers `applied: true`; this
    rule catches that too."""

    def __init__(
        self,
        server: EditClient,
        doc: Document,
        label: str = methods.EDIT_LABEL,
        pace: EditPace | None = None,
    ):
        super().__init__(doc, pace)
        self.server = server
        self.label = label
        self._inflight: _Inflight | None = None
        doc.writer = self
        doc.observers.append(self)

    # -- own-edit recognition (Document asks) -------------------------------------------------
    def claims(self, start: int, end: int, text: str) -> tuple[int, int, str] | None:
        """Our in-flight edit, if this change is it. Clients may report an edit differently
        from how it was sent (Neovim diffs lines: an insertion at the start of a line can come
        back as a newline-led insertion at the end of the previous one), so a change counts
        as ours when it has the same effect. Returns our own form of it."""
        f = self._inflight
        if f is None or f.echoed or f.missed:
            return None
        if (start, end, text) != (f.start, f.end, f.text):
            src = self.doc.text.source
            if src[:start] + text + src[end:] != src[: f.start] + f.text + src[f.end :]:
                return None
        f.echoed = True
        return (f.start, f.end, f.text)

    def expected_source(self) -> str | None:
        f = self._inflight
        return None if f is None or f.echoed or f.missed else f.expected

    def own_edit(self) -> tuple[int, int, str] | None:
        f = self._inflight
        if f is None or f.echoed or f.missed:
            return None
        f.echoed = True  # Document applies it as ours right after asking
        return (f.start, f.end, f.text)

    def after_did_change(self, previous_version: int, claimed: bool) -> None:
        f = self._inflight
        if f is not None and not f.echoed and not claimed and previous_version >= f.version:
            f.missed = True

    def on_change(self, s: int, e: int, text: str, edit: LineEdit, own: bool) -> None:
        """Follow the in-flight edit's position through the user's changes before it."""
        f = self._inflight
        if own or f is None or f.echoed:
            return
        if e < f.start or (e == f.start and (s < e or s == f.start)):
            delta = len(text) - (e - s)
            f.start += delta
            f.end += delta

    # -- sending ------------------------------------------------------------------------------
    async def open(
        self, start: int, end: int, before: str, after: str, *, trim_trailing: bool = False
    ) -> Region | None:
        """Replace [start, end) with `before + after` (unless there is nothing to do) and
        place the region between them."""
        if start != end or before or after:
            sent = await self._send(start, end, before + after)
            if sent is None:
                return None
            start = sent
        region = Region(self.doc, start + len(before))
        self.region = region
        return region

    async def _write(self, text: str) -> bool | None:
        assert self.region is not None
        partial = is_partial_line(text)
        try:
            return await self._send(self.region.end, self.region.end, text, partial) is not None
        except _GiveWay:
            return None

    async def finish(
        self, keep: int | None, writer_task: asyncio.Task[None] | None, *, trim_separator: bool
    ) -> None:
        """End of generation: write what is allowed, then remove our own text past `keep`,
        and the newline we opened before following text when the code ends with its own."""
        await self._drain(keep, writer_task)
        region = self.region
        limit = self.limit
        if (
            limit is not None
            and region is not None
            and self._usable()
            and self.applied > limit
            and region.text() == self.applied_text
            and await self._send(region.start + limit, region.end, "")
        ):
            self.applied = limit
        if (
            trim_separator
            and region is not None
            and self._usable()
            and self.applied_text.endswith("\n")
            and self.doc.text.source[region.end : region.end + 1] == "\n"
        ):
            await self._send(region.end, region.end + 1, "")
        self.detach()

    def detach(self) -> None:
        if self.doc.writer is self:
            self.doc.writer = None
        if self in self.doc.observers:
            self.doc.observers.remove(self)

    async def _send(
        self, start: int, end: int, text: str, partial_line: bool = False
    ) -> int | None:
        """Apply one edit and wait until it shows in a didChange; rebase and retry when the
        user's typing got there first. Returns where it landed (its start), or None. Raises
        _GiveWay when a `partial_line` no longer fits after a rebase (`_partial_fits`)."""
        doc = self.doc
        replaced = doc.text.source[start:end]
        for _ in range(MAX_RETRIES):
            if doc.closed or self.failure is not None:
                return None
            version = doc.version
            source = doc.text.source
            if source[start:end] != replaced:
                self.abort(EDITED_MEANWHILE)  # rebased over an edit inside what it replaces
                return None
            f = _Inflight(start, end, text, source[:start] + text + source[end:], version)
            self._inflight = f
            params = self._params_json(start, end, text, version)
            self.edits += 1
            try:
                result = await client_answer(self.server.apply_edit_json(params))
            except asyncio.TimeoutError:
                self._inflight = None
                self.abort(f"the editor did not answer the edit in {APPLY_TIMEOUT_S:g} s")
                return None
            except Exception as exc:
                self._inflight = None
                self.abort(f"the editor did not apply the edit ({type(exc).__name__}: {exc})")
                return None
            if result.applied:
                await doc.wait_until(functools.partial(self._settled, f), ECHO_TIMEOUT_S)
            else:
                # A refusal because the user typed first: their didChange may still be on
                # its way (REFUSAL_WAIT_S), so wait for it before calling the refusal final.
                # A stop cuts the wait to STOPPED_REFUSAL_WAIT_S (a stop is not held up by it;
                # the lines complete when it came are still written if the change comes).
                await doc.wait_until(functools.partial(self._refusal_ends, f), REFUSAL_WAIT_S)
                if self._stopped and not self._settled(f):
                    await doc.wait_until(
                        functools.partial(self._settled, f), STOPPED_REFUSAL_WAIT_S
                    )
            self._inflight = None
            if f.echoed:
                return f.start
            if self.failure is not None or doc.closed:
                return None
            if f.missed or (not result.applied and doc.version != version):
                start, end = self._moved(f, version)  # rebased onto the new text: retry
                if partial_line and not self._partial_fits():
                    raise _GiveWay
                continue
            if not result.applied:
                reason = result.failure_reason or "no reason given"
                self.abort(f"the editor refused the edit ({reason})")
            else:
                # Never guess and resend: if the edit did land, a resend would duplicate it.
                self.abort("lost track of the edit in the editor (no didChange)")
            return None
        self.abort(f"the edit kept racing with other changes ({MAX_RETRIES} tries)")
        return None

    def _settled(self, f: _Inflight) -> bool:
        return f.echoed or f.missed or self.failure is not None

    def _refusal_ends(self, f: _Inflight) -> bool:
        return self._settled(f) or self._stopped

    def _moved(self, f: _Inflight, version: int) -> tuple[int, int]:
        """Where an edit meant for [start, end) of `version` belongs now."""
        region = self.region
        if region is not None and f.start == f.end:
            return region.end, region.end  # the insertion point, followed by the region
        start = self.doc.map_offset(f.start, version, stay_before=False)
        end = self.doc.map_offset(f.end, version, stay_before=True)
        if start is None or end is None:
            return f.start, f.end  # on_change followed it
        return start, max(start, end)

    def _params_json(self, start: int, end: int, text: str, version: int) -> str:
        """LSP's `ApplyWorkspaceEditParams` for one edit of the document at `version`, as JSON
        text (lsprotocol's objects and pygls's cattrs encoding of them cost more than the rest
        of an edit; protocol.request_json)."""
        rng = self.doc.text.range(start, end)
        edit = {
            "range": {
                "start": {"line": rng.start.line, "character": rng.start.character},
                "end": {"line": rng.end.line, "character": rng.end.character},
            },
            "newText": text,
        }
        ws: dict[str, Any] = {
            "documentChanges": [
                {"textDocument": {"uri": self.doc.uri, "version": version}, "edits": [edit]}
            ]
        }
        if not self.server.client_supports("workspace", "workspace_edit", "document_changes"):
            ws["changes"] = {self.doc.uri: [edit]}  # for a client that ignores documentChanges
        return limits.json_text({"edit": ws, "label": self.label})
