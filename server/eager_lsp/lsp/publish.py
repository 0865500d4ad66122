"""Results → what editors show: diagnostics, inlay hints, inline values, `eager/chunkResult`.

Publishing is throttled on the leading edge: the first result after a quiet moment goes out
at once (publishDiagnostics on the next loop turn, inlayHint/refresh right after it), and
only a burst that follows within the window is coalesced into one trailing send, because
redrawing per result is what makes live tools feel laggy. (Fixed 20 ms + 50 ms timers in front
of every refresh used to make a value reach the editor 70 ms late.) The two windows are
separate: a result whose diagnostics must wait for the publish window (opened, while code
streams in, by the didChange that brought the statement's text) asks for the refresh at once
if the refresh window allows; it used to wait for the diagnostics, 20 ms median in
`eager-lsp bench --editor` (docs/benchmarks.md, "A value in the editor"). The refresh
window is 25 ms: at 50 ms a value that came just after a refresh waited up to that long for
Neovim to ask again.
Everything is computed from the document's ResultStore, which is always in current lines,
so every diagnostic carries the version it was computed for. The store is a view of the
interpreter's ledger: each result is read from the ledger here, never from a copy.

Diagnostics are sent when results change or move, stamped with the server's version at that
moment. Typing that moves nothing (a character within a line) sends none, so the last ones
sent can name a version older than the client's last: a client that reads `version` may drop
them as outdated, and nothing newer would follow. So a didChange that leaves the published
version behind sends them again for the current version once typing pauses (`catch_up`,
CATCH_UP_S after the last change): the last diagnostics always name the last version.
An empty list after an empty list is left to that catch-up too: the client shows nothing
either way, and code running without errors sent one per publish window per document.

Every payload built here is bounded by eager_lsp/limits.py (executed code decides how long its
output and its tracebacks are, never how much we send): related information per diagnostic,
diagnostics per publish and their total size, hints per request, tooltip and chunkResult size.
The longer text is available on request through `eager.resultDetail` (`result_detail`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from eager_lsp import limits
from eager_lsp.core.run import ended_by_user
from eager_lsp.core.types import ChunkOutput, ChunkResult, Frame, Value, failure_text
from eager_lsp.executors.worker.capture import cut_output
from eager_lsp.lsp import methods
from eager_lsp.lsp import payloads as P
from eager_lsp.lsp.payloads import DiagnosticData, SyntaxErrorDetail, SyntaxErrorInfo, to_wire
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.text import Text, screen_line, units

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document

log = logging.getLogger(__name__)

PUBLISH_WINDOW_S = 0.02  # at most one publishDiagnostics round per window
# At most one inlayHint/refresh per window. 50 ms held a value that came just after a refresh
# up to 50 ms (Neovim shows a value on its next inlay-hint request): the slowest value of a
# bench --editor run was 27-41 ms after its token, 16 ms with 25 ms (docs/benchmarks.md).
REFRESH_WINDOW_S = 0.025
CATCH_UP_S = 0.2  # after a pause in typing, re-send diagnostics for the current version
TOOLTIP_LIMIT = limits.TOOLTIP_CAP


# -- labels ---------------------------------------------------------------------------------


def value_label(v: Value) -> str:
    """`x = 42`, or `df: DataFrame 1000×3` when the summary already names the type."""
    summary = v.summary or v.repr
    if v.type_name and summary.startswith(v.type_name):
        return f"{v.name}: {summary}"
    return f"{v.name} = {summary}"


def hint_label(result: ChunkResult, max_length: int) -> str:
    """The inline text for one executed statement, or "" when it produced nothing to show."""
    parts = [value_label(v) for v in result.values]
    if result.expr is not None:
        parts.append(f"→ {result.expr.summary or result.expr.repr}")
    # its first line with text, as a terminal shows it (a bar's latest state, not "0%")
    shown = (screen_line(ln) for ln in result.stdout.split("\n"))
    first_out = next((ln for ln in shown if ln.strip()), "")
    if first_out:
        parts.append(f"» {first_out.strip()}{_more_lines(result.stdout)}")
    label = "  ".join(parts)
    if len(label) > max_length:
        label = label[: max(1, max_length - 1)].rstrip() + "…"
    return label


def _more_lines(output: str) -> str:
    """How many lines the output has, when more than one: a loop that printed 1 to 25 showed
    "» 1" as if that were all (the tooltip and the hover have the whole output). Output that
    was cut (the worker's note at its end, or a middle left out by `limits.clip_middle`, as
    the kernel backend cuts) has at least that many ("25+ lines"). Blank lines at the end do
    not count. (vscode-extension/src/decorations.ts says it the same way.)"""
    text, cut = cut_output(output)
    lines = text.count("\n") + 1
    if limits.CLIPPED_MARKER.search(text):
        lines -= 1  # (the marker's own line)
    if cut:
        return f" … ({lines}+ lines)"
    return f" … ({lines} lines)" if lines > 1 else ""


def tooltip(result: ChunkResult) -> str:
    """Markdown with the full values and output."""
    blocks: list[str] = []
    for v in result.values:
        blocks.append(f"**{v.name}**: `{v.type_name}`\n```\n{v.repr}\n```")
    if result.expr is not None:
        blocks.append(f"**value**: `{result.expr.type_name}`\n```\n{result.expr.repr}\n```")
    if result.stdout:
        blocks.append(f"**stdout**\n```\n{result.stdout.rstrip()}\n```")
    if result.stderr:
        blocks.append(f"**stderr**\n```\n{result.stderr.rstrip()}\n```")
    text = "\n\n".join(blocks)
    return text if len(text) <= TOOLTIP_LIMIT else text[:TOOLTIP_LIMIT] + "\n…"


def error_message(entry: Entry) -> str:
    return failure_text(entry.syntax or entry.result) or "Error"


# -- LSP objects ----------------------------------------------------------------------------


def _line_range(text: Text, line: int, column: int | None = None) -> lsp.Range:
    content = text.line(line)
    if column is None:
        column = len(content) - len(content.lstrip())
    start = text.offset(lsp.Position(line=line, character=0)) + min(column, len(content))
    end = text.line_start(line) + len(content)
    if end <= start:  # an empty line: still a visible, non-empty range where possible
        end = start
    return text.range(start, end)


def diagnostics(doc: Document) -> list[lsp.Diagnostic]:
    out: list[lsp.Diagnostic] = []
    text = doc.text
    budget = limits.DIAGNOSTICS_PAYLOAD_CAP - 1024  # the envelope: uri, version
    for e in doc.store.failing:
        if len(out) >= limits.DIAGNOSTICS_CAP:
            break
        line = e.error_line if e.error_line is not None else e.first
        if line >= text.line_count:
            continue
        if e.syntax is not None:
            rng = _line_range(text, line, e.error_column)
            code, kind = methods.CODE_SYNTAX, "syntax"
        else:
            rng = _line_range(text, line)
            code, kind = methods.CODE_RUNTIME, "runtime"
        message = limits.clip_middle(error_message(e), limits.MESSAGE_CAP)
        related = _related(doc, e)
        cost = _estimate(message, related)
        if cost > budget:  # the later ones still show, with less detail
            related, message = [], limits.clip_middle(message, 200)
            cost = _estimate(message, related)
            if cost > budget:
                break
        budget -= cost
        out.append(
            lsp.Diagnostic(
                range=rng,
                message=message,
                severity=severity(e),
                source=methods.SOURCE,
                code=code,
                related_information=related or None,
                data=to_wire(DiagnosticData(kind=kind, line=line, statementLine=e.first)),
            )
        )
    return out


def severity(e: Entry) -> lsp.DiagnosticSeverity:
    """Error, but Information for a statement the user ended (core/run.py `ended_by_user`: its
    KeyboardInterrupt, or its interpreter killed on request): an interrupted statement is not
    wrong. It is still shown where it stopped, and its traceback says where that was."""
    if e.syntax is None and ended_by_user(e.result):
        return lsp.DiagnosticSeverity.Information
    return lsp.DiagnosticSeverity.Error


def _estimate(message: str, related: list[lsp.DiagnosticRelatedInformation]) -> int:
    """Bytes this diagnostic takes as JSON, roughly (escaping can double a string)."""
    return (
        400
        + 2 * len(message)
        + sum(150 + 2 * (len(r.location.uri) + len(r.message)) for r in related)
    )


def frame_label(frame: Frame) -> str:
    """`in f`, and how often a collapsed frame repeated (CPython's wording)."""
    label = f"in {frame.function}" if frame.function else "here"
    if frame.repeated:
        label += f" [previous line repeated {frame.repeated} more times]"
    return label


def _related(doc: Document, e: Entry) -> list[lsp.DiagnosticRelatedInformation]:
    out: list[lsp.DiagnosticRelatedInformation] = []
    omitted = e.result.error.frames_omitted if e.result and e.result.error else 0
    for frame, doc_line in e.frames:
        if len(out) >= limits.RELATED_CAP - 1:
            omitted += 1
            continue
        if frame.in_document:
            if doc_line is None or doc_line >= doc.text.line_count:
                continue
            uri, rng = doc.uri, _line_range(doc.text, doc_line)
        else:
            # The path comes from executed code: no filesystem calls on it (resolve() raised on
            # a symlink loop and hid every diagnostic of the document), just make it absolute.
            try:
                uri = pathlib.Path(os.path.abspath(frame.path)).as_uri()
            except (ValueError, TypeError):
                continue
            ln = max(0, frame.line - 1)
            rng = lsp.Range(lsp.Position(ln, 0), lsp.Position(ln, 0))
        out.append(
            lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=uri, range=rng),
                message=limits.clip_middle(frame_label(frame), 300),
            )
        )
    if omitted and out:  # said where the chain was cut: after the outermost frames
        out.append(
            lsp.DiagnosticRelatedInformation(
                location=out[-1].location,
                message=f"[{omitted} more frames not shown; eager.resultDetail has the text]",
            )
        )
    return out


def _shown(e: Entry, text: Text) -> bool:
    r = e.result
    return r is not None and r.ok and not r.skipped and e.last < text.line_count


def inlay_hints(doc: Document, rng: lsp.Range | None, max_length: int) -> list[lsp.InlayHint]:
    out: list[lsp.InlayHint] = []
    for e in doc.store.entries:
        if len(out) >= limits.INLAY_HINTS_CAP:
            break
        if not _shown(e, doc.text) or (rng is not None and not _in(e.last, rng)):
            continue
        assert e.result is not None
        label = hint_label(e.result, max_length)
        if not label:
            continue
        tip = tooltip(e.result)
        out.append(
            lsp.InlayHint(
                position=doc.text.end_of_line(e.last),
                label=label,
                padding_left=True,
                tooltip=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=tip) if tip else None,
            )
        )
    return out


def inline_values(doc: Document, rng: lsp.Range, max_length: int) -> list[lsp.InlineValue]:
    out: list[lsp.InlineValue] = []
    for e in doc.store.entries:
        if len(out) >= limits.INLAY_HINTS_CAP:
            break
        if not _shown(e, doc.text) or not _in(e.last, rng):
            continue
        assert e.result is not None
        label = hint_label(e.result, max_length)
        if label:
            end = doc.text.end_of_line(e.last)
            out.append(lsp.InlineValueText(range=lsp.Range(end, end), text=label))
    return out


def _in(line: int, rng: lsp.Range) -> bool:
    return rng.start.line <= line <= rng.end.line


def chunk_result(doc: Document, e: Entry) -> dict[str, Any]:
    """The `eager/chunkResult` payload (docs/protocol.md), in current 0-based lines, at most
    limits.PAYLOAD_CAP bytes of JSON; `truncated` says whether anything was cut. (The server
    sends `chunk_result_json`; this is that text as a client reads it.)"""
    result: dict[str, Any] = json.loads(chunk_result_json(doc, e))
    return result


def result_detail(doc: Document, e: Entry) -> dict[str, Any]:
    """`eager.resultDetail`: the same payload with the whole stored traceback and output (each
    already bounded by the worker), at most limits.DETAIL_CAP bytes."""
    detail: dict[str, Any] = json.loads(
        _bounded_json(doc, e, limits.TRACEBACK_CAP, limits.DETAIL_CAP)
    )
    return detail


def chunk_result_json(doc: Document, e: Entry) -> str:
    """`chunk_result` as the JSON text that goes on the wire: the encoding that measured the
    payload against the cap is the one sent (one encoding per result, not two)."""
    return _bounded_json(doc, e, limits.SHOWN_TRACEBACK_CAP, limits.PAYLOAD_CAP)


def _bounded_json(doc: Document, e: Entry, traceback_cap: int, cap: int) -> str:
    """A result's payload as JSON text of at most `cap` bytes, `truncated` included."""
    payload: dict[str, Any] = to_wire(_result_payload(doc, e, traceback_cap))
    payload["truncated"] = False
    text = limits.json_text(payload)
    if len(text) <= cap:
        return text
    fitted: dict[str, Any] = limits.fit_json(payload, cap - 32)
    fitted["truncated"] = True
    return limits.json_text(fitted)


def detail_at(doc: Document, line: Any) -> dict[str, Any] | None:
    """`eager.resultDetail {uri, line}`: the result shown at 0-based `line` (a failure's error
    line first, then any statement covering the line), or None when there is none."""
    if isinstance(line, bool) or not isinstance(line, int):
        from eager_lsp.lsp.errors import RequestError

        raise RequestError("eager.resultDetail needs a 0-based `line` number", "invalid")
    entries = doc.store.entries
    found = next((e for e in entries if e.failed and e.error_line == line), None)
    found = found or next((e for e in entries if line in e.lines()), None)
    if found is None:
        return None
    if found.result is None:  # a syntax error: all there is to say is in the diagnostic
        assert found.syntax is not None
        return to_wire(
            SyntaxErrorDetail(
                uri=doc.uri,
                version=doc.version,
                syntaxError=SyntaxErrorInfo(
                    line=found.first,
                    column=found.error_column,
                    message=limits.clip_middle(found.syntax.message, limits.MESSAGE_CAP),
                ),
            )
        )
    return result_detail(doc, found)


def _result_payload(doc: Document, e: Entry, traceback_cap: int) -> P.ChunkResultParams:
    r = e.result
    assert r is not None
    text = doc.text
    error = None
    if r.error is not None:
        error = P.ErrorInfo(
            type=r.error.type,
            message=r.error.message,
            line=e.error_line,
            traceback=limits.clip_middle(r.error.traceback, traceback_cap),
            stateLost=r.error.state_lost,
            byUser=ended_by_user(r),
            frames=[
                P.FrameInfo(
                    path=f.path,
                    line=ln if f.in_document else f.line - 1,
                    function=f.function,
                    inDocument=f.in_document,
                    repeated=f.repeated,
                )
                for f, ln in e.frames
            ],
            framesOmitted=r.error.frames_omitted,
        )
    return P.ChunkResultParams(
        uri=doc.uri,
        version=doc.version,
        chunk=P.ChunkInfo(
            index=r.chunk.index,
            startLine=e.first,
            endLine=e.last,
            range=_lines_range(text, e.first, e.last),
        ),
        ok=r.ok,
        skipped=r.skipped,
        values=[_value_payload(v) for v in r.values],
        expr=_value_payload(r.expr) if r.expr is not None else None,
        stdout=r.stdout,
        stderr=r.stderr,
        error=error,
        images=[P.ImageInfo(path=i.path, label=i.label, size=i.size) for i in r.images],
        timings=P.Timings(**e.timings),
        statementId=e.sid if e.sid is not None else P.OMIT,
    )


OUTPUT_PIECE = 4096  # characters of output per eager/output: its JSON stays under PAYLOAD_CAP


def output_params(doc: Document, first: int, last: int, out: ChunkOutput) -> list[P.OutputParams]:
    """`eager/output` for a running statement's new output at document lines `first`..`last`:
    one notification, or several when the text is long (OUTPUT_PIECE each, in order)."""
    chunk = P.ChunkInfo(
        index=out.chunk.index,
        startLine=first,
        endLine=last,
        range=_lines_range(doc.text, first, last),
    )
    pieces = [
        ("", out.stderr[i : i + OUTPUT_PIECE]) for i in range(0, len(out.stderr), OUTPUT_PIECE)
    ]
    pieces[:0] = [
        (out.stdout[i : i + OUTPUT_PIECE], "") for i in range(0, len(out.stdout), OUTPUT_PIECE)
    ]
    return [
        P.OutputParams(uri=doc.uri, version=doc.version, chunk=chunk, stdout=o, stderr=e)
        for o, e in pieces
    ]


def _value_payload(v: Value) -> P.ValueInfo:
    return P.ValueInfo(
        name=v.name,
        type=v.type_name,
        repr=v.repr,
        summary=v.summary,
        table=v.table or P.OMIT,
    )


def _lines_range(text: Text, first: int, last: int) -> P.Range:
    """From the start of line `first` to the end of line `last` (without its newline)."""
    if 0 <= first <= last < text.line_count:
        return P.Range(
            start=P.Position(line=first, character=0),
            end=P.Position(line=last, character=units(text.line(last), text.encoding)),
        )
    start = text.line_start(first)  # lines the text no longer has: clamped, as positions are
    return _range_payload(text.range(start, text.line_start(last) + len(text.line(last))))


def _range_payload(r: lsp.Range) -> P.Range:
    return P.Range(
        start=P.Position(line=r.start.line, character=r.start.character),
        end=P.Position(line=r.end.line, character=r.end.character),
    )


# -- coalesced sending ----------------------------------------------------------------------


class Publisher:
    """Sends diagnostics per document and inlay-hint refreshes, coalesced."""

    def __init__(
        self,
        send_diagnostics: Callable[[lsp.PublishDiagnosticsParams], None],
        refresh_hints: Callable[[], Any] | None,
    ) -> None:
        self._send = send_diagnostics
        self._refresh = refresh_hints
        self._pending: dict[str, Document] = {}
        self._handle: asyncio.Handle | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self._refresh_again = False
        self._refresh_wanted = False
        self._last_flush = -1e9  # loop time of the last publish round
        self._last_refresh = -1e9  # loop time the last refresh was sent
        self._published: dict[str, int] = {}  # uri → the version its last diagnostics named
        self._empty: dict[str, bool] = {}  # uri → the last diagnostics sent were none
        self._due: set[str] = set()  # uris whose next flush sends even an unchanged empty list
        self._catch_up: dict[str, asyncio.TimerHandle] = {}

    def schedule(self, doc: Document, *, refresh: bool = True) -> None:
        """Publish this document's diagnostics now, or at the end of the current window if
        one was just published; with `refresh`, also ask the client to re-request inlay hints
        (new or removed results; moved ones move with the text)."""
        self._pending[doc.uri] = doc
        self._refresh_wanted = self._refresh_wanted or refresh
        if self._handle is None:
            loop = asyncio.get_running_loop()
            wait = self._last_flush + PUBLISH_WINDOW_S - loop.time()
            if wait <= 0:  # leading edge: the caller finishes its turn, then this goes out
                self._handle = loop.call_soon(self.flush)
            else:
                self._handle = loop.call_later(wait, self.flush)
        if self._refresh_wanted and isinstance(self._handle, asyncio.TimerHandle):
            # The diagnostics wait for their window (typically opened by the didChange that
            # brought this statement's text); the hints need not: they are read from the
            # store, which has the result already. The refresh keeps its own window.
            self._refresh_wanted = False
            self._request_refresh()

    def flush(self) -> None:
        self._handle = None
        docs, self._pending = list(self._pending.values()), {}
        if docs:
            self._last_flush = asyncio.get_running_loop().time()
        for doc in docs:
            if doc.closed:
                continue
            found = diagnostics(doc)
            if not found and self._empty.get(doc.uri) and doc.uri not in self._due:
                continue  # none then, none now; `catch_up` still stamps the last version
            self._due.discard(doc.uri)
            self._published[doc.uri] = doc.version
            self._empty[doc.uri] = not found
            self._send(
                lsp.PublishDiagnosticsParams(uri=doc.uri, version=doc.version, diagnostics=found)
            )
        if docs and self._refresh_wanted:
            self._refresh_wanted = False
            self._request_refresh()

    def catch_up(self, doc: Document) -> None:
        """A didChange arrived: once typing pauses, send the diagnostics again if the last ones
        named an older version (see the module docstring)."""
        if doc.uri not in self._published:
            return  # nothing was published: nothing to bring up to date
        handle = self._catch_up.pop(doc.uri, None)
        if handle is not None:
            handle.cancel()
        self._catch_up[doc.uri] = asyncio.get_running_loop().call_later(
            CATCH_UP_S, self._caught_up, doc
        )

    def _caught_up(self, doc: Document) -> None:
        self._catch_up.pop(doc.uri, None)
        if not doc.closed and self._published.get(doc.uri, doc.version) != doc.version:
            self._due.add(doc.uri)
            self.schedule(doc, refresh=False)

    def clear(self, uri: str) -> None:
        self._pending.pop(uri, None)
        self._published.pop(uri, None)
        self._empty.pop(uri, None)
        self._due.discard(uri)
        handle = self._catch_up.pop(uri, None)
        if handle is not None:
            handle.cancel()
        self._send(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def _request_refresh(self) -> None:
        if self._refresh is None:
            return
        if self._refresh_task is not None and not self._refresh_task.done():
            self._refresh_again = True  # one more after the outstanding one
            return
        self._refresh_task = asyncio.ensure_future(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        assert self._refresh is not None
        loop = asyncio.get_running_loop()
        while True:
            wait = self._last_refresh + REFRESH_WINDOW_S - loop.time()
            if wait > 0:  # one was sent within the window: this one trails the burst
                await asyncio.sleep(wait)
            self._refresh_again = False  # this one covers every request made until now
            self._last_refresh = loop.time()
            try:
                await asyncio.wait_for(self._refresh(), 5.0)
            except Exception as exc:  # an old client may not know the request
                log.debug("inlayHint/refresh failed: %s", exc)
            if not self._refresh_again:
                return
