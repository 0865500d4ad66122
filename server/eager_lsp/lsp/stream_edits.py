"""eager/streamEdit: a client that can write generated text itself does, at a mark of its own.

Why: with workspace/applyEdit the server computes every position from its copy of the text,
which lags behind the editor while the user types; every edit then races the user's typing.
A client that declares `capabilities.experimental.eagerStreamEdits` (or
`initializationOptions.streamEdits`) instead gets requests that name no position after the
first: `begin` places a region (two marks that move with edits), each `insert` appends at the
region's end wherever that is now, `end` closes the undo group. Nothing can land in the wrong
place, and the client joins the inserts into one undo step.

Rules (docs/protocol.md, docs/architecture.md):
- One request in flight at a time, in order (`seq`); inserts are coalesced like applyEdit's.
- Every answer says where the region is, in the document version the client had just sent
  (`version`; the client sends that didChange before answering). The answer is read the moment
  it arrives, before any later message, so the server's copy is at exactly that version; the
  range is turned into offsets then and rebased over later didChanges (`Document.map_offset`).
  Between answers `Region` keeps a best guess; the client's answers are authoritative.
- `begin` refers to a document version; a client that has moved on answers `conflict` and the
  server rebases the position and tries again (at most MAX_RETRIES times).
- An `insert` of a partial line (no line break at its end) that would be glued in front of
  text the user typed after the region's end, on its line, before we knew, is declined with
  `conflict`, with the region's range: the server places it there and writes the line once
  whole.
- `edited` (the user changed text inside the region) or `closed` stops the generation
  cleanly: nothing more is written, both texts stay.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eager_lsp import limits
from eager_lsp.lsp import methods
from eager_lsp.lsp.edit_pace import EditPace
from eager_lsp.lsp.edits import (
    APPLY_TIMEOUT_S,
    EDITED_BY_USER,
    EDITED_MEANWHILE,
    MAX_RETRIES,
    Region,
    Writer,
    client_answer,
    is_partial_line,
)
from eager_lsp.lsp.payloads import (
    OMIT,
    STREAM_OPS,
    Position,
    Range,
    StreamEditResult,
    from_wire,
    to_wire,
)

if TYPE_CHECKING:
    from eager_lsp.lsp.context import StreamEditClient
    from eager_lsp.lsp.documents import Document

log = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.03  # the client joins inserts into one undo step: they can be frequent
REASONS = {
    "edited": EDITED_BY_USER,
    "closed": "the document was closed",
    "conflict": "the document kept changing under the edit",
}


class _Answer:
    """One answer, with its range already in offsets of the version it names."""

    def __init__(self) -> None:
        self.ok = False
        self.reason = ""
        self.version: int | None = None
        self.offsets: tuple[int, int] | None = None
        self.error: str | None = None
        # An answer for a version whose didChange has not arrived yet: converts the range
        # when it does (Document.wait_until calls it right after each didChange).
        self.pending: Callable[[], bool] | None = None


class StreamEditWriter(Writer):
    min_interval_s = STREAM_INTERVAL_S

    def __init__(
        self, server: StreamEditClient, doc: Document, pace: EditPace | None = None
    ) -> None:
        super().__init__(doc, pace)
        self.server = server
        self.generation_id = uuid.uuid4().hex[:16]
        self.seq = 0
        self.begun = False
        self.ended = False

    # -- requests -------------------------------------------------------------------------------
    async def _request(self, op: str, **fields: Any) -> _Answer | None:
        doc = self.doc
        # payloads.StreamBeginParams / StreamInsertParams / StreamEndParams
        params = to_wire(
            STREAM_OPS[op](
                uri=doc.uri, generationId=self.generation_id, seq=self.seq, op=op, **fields
            )
        )
        self.seq += 1
        self.edits += 1
        answer = _Answer()
        fut: concurrent.futures.Future[Any] = self.server.request_json(
            methods.STREAM_EDIT, limits.json_text(params)
        )
        # Runs as the response is read, before any later didChange: the server's text is at
        # the version the answer names (the client sent that didChange first).
        fut.add_done_callback(lambda f: self._read(f, answer))
        try:
            await client_answer(fut)
        except asyncio.TimeoutError:
            if answer.error is None:
                answer.error = f"no answer in {APPLY_TIMEOUT_S:g} s"
        except Exception as exc:
            if answer.error is None:
                answer.error = f"{type(exc).__name__}: {exc}"
        if answer.error is None and answer.pending is not None:
            await doc.wait_until(answer.pending, APPLY_TIMEOUT_S)
        if answer.error is not None:
            self.abort(f"the editor did not apply the edit ({answer.error})")
            return None
        return answer

    def _read(self, fut: concurrent.futures.Future[Any], answer: _Answer) -> None:
        try:
            if fut.cancelled():
                answer.error = "cancelled"
                return
            exc = fut.exception()
            if exc is not None:
                answer.error = str(exc) or type(exc).__name__
                return
            result = from_wire(StreamEditResult, fut.result())  # or PayloadError
            answer.ok = result.ok
            answer.reason = result.reason or ""
            version, rng = result.version, result.range
            if version is not OMIT and rng is not OMIT:  # ok, or a declined insert
                answer.version = version
                if version == self.doc.version:
                    answer.offsets = self._offsets(rng)
                elif version > self.doc.version:
                    # Sent before the didChange of its version reached us (the client's wait
                    # for it timed out): read the range once the text is at that version.
                    answer.pending = functools.partial(self._when_at, version, rng, answer)
        except Exception as exc:  # a malformed answer (PayloadError) must not take the server down
            answer.error = f"a malformed answer to {methods.STREAM_EDIT} ({exc})"[:300]

    def _when_at(self, version: int, rng: Range, answer: _Answer) -> bool:
        doc = self.doc
        if doc.version == version and answer.offsets is None:
            answer.offsets = self._offsets(rng)
        return doc.version >= version or doc.closed or self.failure is not None

    def _offsets(self, rng: Range) -> tuple[int, int]:
        text = self.doc.text

        def pos(p: Position) -> int:
            return text.offset_at(max(0, p.line), max(0, p.character))

        start, end = pos(rng.start), pos(rng.end)
        return start, max(start, end)

    def _adopt(self, answer: _Answer) -> bool:
        """Place the region where the answer says (rebased to now); False if it cannot be."""
        region = self.region
        if region is None or answer.offsets is None or answer.version is None:
            self.abort(
                f"lost track of the generated text (the editor answered for version "
                f"{answer.version}, the server had {self.doc.version})"
            )
            return False
        s, e = answer.offsets
        start = self.doc.map_offset(s, answer.version, stay_before=False)
        end = self.doc.map_offset(e, answer.version, stay_before=True)
        if start is None or end is None:
            self.abort("lost track of the generated text (too many changes meanwhile)")
            return False
        region.adopt(start, end)
        return True

    def _refused(self, answer: _Answer) -> None:
        why = REASONS.get(answer.reason, f"the editor refused the edit ({answer.reason})")
        if self.region is not None:
            self.region.lost()
            if answer.reason in ("edited", "closed") and self.region.on_conflict is not None:
                self.region.on_conflict(why)
        self.ended = True  # the client has dropped the generation
        self.abort(why)

    # -- the three operations -------------------------------------------------------------------
    async def open(
        self, start: int, end: int, before: str, after: str, *, trim_trailing: bool = False
    ) -> Region | None:
        doc = self.doc
        replaced = doc.text.source[start:end]
        for _ in range(MAX_RETRIES):
            if doc.closed or self.failure is not None:
                return None
            if doc.text.source[start:end] != replaced:
                self.abort(EDITED_MEANWHILE)  # rebased over an edit inside what it replaces
                return None
            version = doc.version
            fields: dict[str, Any] = {
                "position": _pos(doc.text.position(start)),
                "version": version,
            }
            if end > start:
                fields["replace"] = {
                    "start": _pos(doc.text.position(start)),
                    "end": _pos(doc.text.position(end)),
                }
            if before:
                fields["before"] = before
            if after:
                fields["after"] = after
            if trim_trailing:
                fields["trimTrailing"] = True
            # Until the answer: where the region will start if the client does what we ask.
            self.region = Region(doc, start + len(before), judge=False)
            answer = await self._request("begin", **fields)
            if answer is None:
                self.region.detach()
                return None
            if answer.ok:
                self.begun = True
                if not self._adopt(answer):
                    return None
                return self.region
            self.region.detach()
            self.region = None
            if answer.reason != "conflict":
                self._refused(answer)
                return None
            # The editor had moved on: wait for its didChange, rebase, try again.
            await doc.wait_until(functools.partial(_moved_on, doc, version), 0.5)
            moved_start = doc.map_offset(start, version, stay_before=False)
            moved_end = doc.map_offset(end, version, stay_before=True)
            if moved_start is None or moved_end is None:
                break
            if start == end and not before and _at_line_start(doc, version, start):
                moved_start = _below_typed_line(doc, version, start, moved_start)
                moved_end = moved_start
            start, end = moved_start, max(moved_start, moved_end)
        self.abort(f"the document kept changing under the edit ({MAX_RETRIES} tries)")
        return None

    async def _write(self, text: str) -> bool | None:
        answer = await self._request("insert", text=text)
        if answer is None:
            return False
        if not answer.ok:
            declined = answer.reason == "conflict" and answer.version is not None
            if declined and is_partial_line(text):
                # A partial line the client declined: the user typed at the insertion point
                # before we knew, and it would be glued in front of their text. The answer
                # says where the region is (our guess may have taken their line in: Neovim
                # reports a line opened there as a line break inserted before the region's
                # last one); the writer then decides again (`_partial_fits`).
                if answer.offsets is not None and not self._adopt(answer):
                    return False
                return None
            self._refused(answer)
            return False
        return self._adopt(answer)

    async def finish(
        self, keep: int | None, writer_task: asyncio.Task[None] | None, *, trim_separator: bool
    ) -> None:
        """Write what is allowed, then `end`: the client removes our lines past `keep` (they
        end at a line end) and the newline opened before following text, in the same undo
        step."""
        await self._drain(keep, writer_task)
        if not self.begun or self.ended or self.doc.closed:
            return
        self.ended = True
        fields: dict[str, Any] = {}
        limit = self.limit
        usable = self._usable()
        if usable and limit is not None and self.applied > limit:
            fields["keepLines"] = self.received[:limit].count("\n")
        kept = self.received[: self.applied if limit is None else min(self.applied, limit)]
        if usable and trim_separator and kept.endswith("\n"):
            fields["trimTrailing"] = True
        if self.whole and (limit is None or limit >= len(self.received)):
            # The model's last line is finished and ran (an error on it included): an
            # "edited" answer keeps it (a stop or an error above it cuts it: then it may go).
            fields["complete"] = True
        answer = await self._request("end", **fields)
        if answer is None or self.failure is not None:
            return
        if not answer.ok:
            if answer.reason in ("edited", "closed") and self.region is not None:
                self.region.lost()
            return
        if "keepLines" in fields and limit is not None:
            self.applied = limit
        self._adopt(answer)


def _pos(p: Any) -> dict[str, int]:
    return {"line": p.line, "character": p.character}


def _at_line_start(doc: Document, version: int, offset: int) -> bool:
    """Whether `offset` of `version` was at a line start (the history knows the text then only
    through the changes since, so: the current text at the offset mapped to stay before)."""
    here = doc.map_offset(offset, version, stay_before=True)
    return here is not None and (here == 0 or doc.text.source[here - 1] in "\r\n")


def _below_typed_line(doc: Document, version: int, point: int, moved: int) -> int:
    """A point at a line start, moved past text the user typed there meanwhile: whole lines of
    that text stay above it, an unfinished last line goes below it (the generated text goes
    above the line the user is still typing, never joined to its end; the client's marks keep
    later typing at the point above the code, as before)."""
    anchor = doc.map_offset(point, version, stay_before=True)
    if anchor is None or anchor >= moved:
        return moved
    typed = doc.text.source[anchor:moved]
    if typed.endswith(("\n", "\r")):
        return moved
    return anchor + max(typed.rfind("\n"), typed.rfind("\r")) + 1


def _moved_on(doc: Document, version: int) -> bool:
    return doc.version != version
