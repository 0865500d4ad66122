"""Writing generated text into a document the user may be editing at the same time.

`Region` follows the generated text through every change: the user's edits above it move it,
an edit inside it (or at the insertion point while writing) is a conflict that stops the
generation. `EditWriter` sends the text with `workspace/applyEdit`, coalesced (whole lines, or
a partial line that has waited a while; at least ~50 ms apart) so each edit is a sensible undo
step, one edit at a time: it waits for the client's answer and for the didChange that echoes
the edit before computing the next position, so it only ever inserts at the tracked point.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.server import EagerServer

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.05  # at most ~20 edits per second
PARTIAL_LINE_WAIT_S = 0.25  # a partial line is written once it has waited this long
ECHO_TIMEOUT_S = 3.0  # how long the client may take to echo an applied edit as didChange
APPLY_TIMEOUT_S = 10.0
MAX_RETRIES = 5


class Region:
    """[start, end) offsets of text a generation wrote, followed through edits."""

    def __init__(self, doc: Document, start: int) -> None:
        self.doc = doc
        self.start = start
        self.end = start
        self.intact = True
        self.writing = True  # while writing, typing at the insertion point is a conflict
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
        before = e < self.start or (
            e == self.start and (s < e or (self.end > self.start and text.endswith("\n")))
        )
        if before:
            self.start += delta
            self.end += delta
            return
        after = s > self.end or (s == self.end and (e > s or not self.writing))
        if after:
            return
        self.intact = False
        if self.on_conflict is not None:
            self.on_conflict("the generated text was edited")

    def freeze(self) -> None:
        """Generation over: keep following edits (for "Fix with AI"), no more writing."""
        self.writing = False

    def detach(self) -> None:
        if self in self.doc.observers:
            self.doc.observers.remove(self)


@dataclass
class _Inflight:
    start: int
    end: int
    text: str
    expected: str  # the document text if exactly this edit is applied
    echoed: bool = False


class EditWriter:
    """Applies generated text at a Region's end, in order, coalesced."""

    def __init__(self, server: EagerServer, doc: Document, label: str = methods.EDIT_LABEL):
        self.server = server
        self.doc = doc
        self.label = label
        self.region: Region | None = None
        self.received = ""  # all generated text so far
        self.applied = 0  # how much of `received` is in the document
        self.limit: int | None = None  # never write past this many characters
        self.edits = 0
        self.failure: str | None = None
        self.on_applied: Callable[[], None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self._inflight: _Inflight | None = None
        self._first_unwritten_at: float | None = None
        self._last_edit_at = 0.0
        doc.writer = self
        doc.observers.append(self)

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
        if self.failure is None:
            self.failure = reason
        self._closing = True
        self._wake.set()
        self.doc.wake_waiters()

    @property
    def applied_text(self) -> str:
        return self.received[: self.applied]

    # -- own-edit recognition (Document asks) -------------------------------------------------
    def claims(self, start: int, end: int, text: str) -> tuple[int, int, str] | None:
        """Our in-flight edit, if this change is it. Clients may report an edit differently
        from how it was sent (Neovim diffs lines: an insertion at the start of a line can come
        back as a newline-led insertion at the end of the previous one), so a change counts
        as ours when it has the same effect. Returns our own form of it."""
        f = self._inflight
        if f is None or f.echoed:
            return None
        if (start, end, text) != (f.start, f.end, f.text):
            src = self.doc.text.source
            if src[:start] + text + src[end:] != src[: f.start] + f.text + src[f.end :]:
                return None
        f.echoed = True
        return (f.start, f.end, f.text)

    def expected_source(self) -> str | None:
        f = self._inflight
        return None if f is None or f.echoed else f.expected

    def own_edit(self) -> tuple[int, int, str] | None:
        f = self._inflight
        if f is None or f.echoed:
            return None
        f.echoed = True  # Document applies it as ours right after asking
        return (f.start, f.end, f.text)

    def on_change(self, s: int, e: int, text: str, edit: LineEdit, own: bool) -> None:
        """Follow the in-flight edit's position through the user's changes before it."""
        f = self._inflight
        if own or f is None or f.echoed:
            return
        if e < f.start or (e == f.start and (s < e or text.endswith("\n"))):
            delta = len(text) - (e - s)
            f.start += delta
            f.end += delta

    # -- sending ------------------------------------------------------------------------------
    async def setup(self, start: int, end: int, text: str) -> bool:
        """One preparatory edit (replace a selection, open a fresh line) before writing."""
        if start == end and not text:
            return True
        return await self._send(start, end, text)

    async def run(self) -> None:
        """Write until closed; returns when everything allowed has been written."""
        while True:
            if self.failure is not None or self.doc.closed:
                return
            chunk = self._next_chunk()
            if chunk is None:
                if self._closing:
                    return
                self._wake.clear()
                timeout = self._partial_due()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
                continue
            wait = self._last_edit_at + MIN_INTERVAL_S - time.monotonic()
            if wait > 0 and not self._closing:
                await asyncio.sleep(wait)
                continue  # more text may have arrived: take it too
            assert self.region is not None
            if not await self._send(self.region.end, self.region.end, chunk):
                return
            self.applied += len(chunk)
            self._first_unwritten_at = (
                time.monotonic() if self.applied < len(self.received) else None
            )
            if self.on_applied is not None:
                self.on_applied()

    async def finish(
        self, keep: int | None, writer_task: asyncio.Task[None] | None, *, trim_separator: bool
    ) -> None:
        """End of generation: write what is allowed, then remove our own text past `keep`,
        and the newline we opened before following text when the code ends with its own."""
        if keep is not None:
            self.truncate(keep)
        self._closing = True
        self._wake.set()
        if writer_task is not None:
            try:
                await writer_task
            except Exception as exc:
                log.warning("writer failed: %s", exc)
        region = self.region
        limit = self.limit
        if (
            limit is not None
            and region is not None
            and region.intact
            and self.failure is None
            and not self.doc.closed
            and self.applied > limit
        ):
            excess_start = region.start + limit
            if region.text() == self.applied_text and await self._send(
                excess_start, region.end, ""
            ):
                self.applied = limit
        if (
            trim_separator
            and region is not None
            and region.intact
            and self.failure is None
            and not self.doc.closed
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

    def _target(self) -> int:
        n = len(self.received)
        return n if self.limit is None else min(n, self.limit)

    def _next_chunk(self) -> str | None:
        pending = self.received[self.applied : self._target()]
        if not pending:
            return None
        if self._closing:
            return pending
        nl = pending.rfind("\n")
        if nl >= 0:
            return pending[: nl + 1]
        if self._partial_due() == 0:
            return pending
        return None

    def _partial_due(self) -> float | None:
        """Seconds until a partial line should be written (0: now; None: nothing waiting)."""
        if self._first_unwritten_at is None or self.applied >= self._target():
            return None
        return max(0.0, self._first_unwritten_at + PARTIAL_LINE_WAIT_S - time.monotonic())

    async def _send(self, start: int, end: int, text: str) -> bool:
        """Apply one edit and wait for its echo; retries when the user's typing raced it."""
        doc = self.doc
        for _ in range(MAX_RETRIES):
            if doc.closed or self.failure is not None:
                return False
            if self.region is not None and start == end == self.region.end:
                start = end = self.region.end  # recomputed after every echo
            version = doc.version
            source = doc.text.source
            self._inflight = f = _Inflight(start, end, text, source[:start] + text + source[end:])
            params = self._params(start, end, text, version)
            self.edits += 1
            self._last_edit_at = time.monotonic()
            try:
                result = await asyncio.wait_for(
                    self.server.workspace_apply_edit_async(params), APPLY_TIMEOUT_S
                )
            except Exception as exc:
                self._inflight = None
                self.abort(f"the editor did not apply the edit ({type(exc).__name__}: {exc})")
                return False
            if not result.applied:
                # A rejection because the user typed first: their didChange may still be
                # on its way, so give it a moment before calling the refusal final.
                await doc.wait_until(functools.partial(_version_changed, doc, version), 0.5)
                raced = doc.version != version and not f.echoed
                self._inflight = None
                if raced:  # the user typed meanwhile: recompute the position and retry
                    start, end = self._moved(start, end, version)
                    continue
                reason = result.failure_reason or "no reason given"
                self.abort(f"the editor refused the edit ({reason})")
                return False
            await doc.wait_until(functools.partial(self._settled, f), ECHO_TIMEOUT_S)
            self._inflight = None
            if f.echoed:
                return True
            if self.failure is None:
                # Never guess and resend: if the edit did land, a resend would duplicate it.
                why = "no didChange" if doc.version == version else "changes did not match it"
                self.abort(f"lost track of the edit in the editor ({why})")
            return False
        self.abort("the edit kept racing with other changes")
        return False

    def _settled(self, f: _Inflight) -> bool:
        return f.echoed or self.failure is not None

    def _moved(self, start: int, end: int, version: int) -> tuple[int, int]:
        """Where an edit meant for [start, end) belongs now."""
        if self.region is not None and start == end:
            return self.region.end, self.region.end
        if self.region is not None and end == self.region.end:
            return self.region.start + (start - self.region.start), self.region.end
        return start, end

    def _params(
        self, start: int, end: int, text: str, version: int
    ) -> lsp.ApplyWorkspaceEditParams:
        rng = self.doc.text.range(start, end)
        edit = lsp.TextEdit(range=rng, new_text=text)
        if self.server.client_supports("workspace", "workspace_edit", "document_changes"):
            ws = lsp.WorkspaceEdit(
                document_changes=[
                    lsp.TextDocumentEdit(
                        text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                            uri=self.doc.uri, version=version
                        ),
                        edits=[edit],
                    )
                ]
            )
        else:
            ws = lsp.WorkspaceEdit(changes={self.doc.uri: [edit]})
        return lsp.ApplyWorkspaceEditParams(edit=ws, label=self.label)


def _version_changed(doc: Document, version: int) -> bool:
    return doc.version != version
