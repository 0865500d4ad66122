"""pygls's LSP protocol with its hot paths made cheaper; what goes on the wire is unchanged.

A server generating into ten documents sends thousands of messages a second and reads about as
many, and each costs CPU on the one core the event loop has (docs/benchmarks.md, "Many
documents at once"). These per-message costs in pygls were worth removing:

- **Our own notifications** (`eager/*`) carry plain JSON dicts (lsp/payloads.to_wire). pygls
  wraps them in an attrs object, so `json.dumps` hands the whole tree to cattrs, which walks
  every dict and list again. Here they are wrapped in a dict, so the encoder reaches cattrs only
  for an attrs object it does not know (none, for our payloads). LSP's own notifications keep
  pygls's path: their parameters are lsprotocol types. A chunk result, whose JSON text is made
  anyway to measure it against its cap (lsp/publish.chunk_result_json), is sent as that text
  (`notify_json`), not encoded a second time.
- **Dispatch of what the client sends.** pygls tells a request from a notification or a
  response with `isinstance` against `typing.Protocol` classes, which inspects the class's
  members on every call. The answer depends only on the message's class (pygls structures each
  message into one attrs class per method), so it is computed once per class.
- **One copy of each document.** pygls keeps its own copy of every open document in its
  workspace and applies each change to it before our handler applies it again to ours
  (lsp/documents.py), which is the one the server reads. Nothing reads pygls's copy, so the
  open, change and close notifications go straight to our handlers and pygls's workspace holds
  no documents.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCNotification, RPCRequest, RPCResponse
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)

_REQUEST, _NOTIFICATION, _RESPONSE, _ERROR = range(4)
_KINDS: dict[type, int] = {}  # message class → which of the four it is


class EagerProtocol(LanguageServerProtocol):
    """`LanguageServerProtocol` with a dict-wrapped path for custom notifications and a
    per-class cache for message dispatch (see the module docstring)."""

    def notify(self, method: str, params: Any | None = None) -> None:
        if self.get_message_type(method) is not None:  # an LSP method: lsprotocol params
            super().notify(method, params)
            return
        self._send_data({"jsonrpc": self.VERSION, "method": method, "params": params})

    def notify_json(self, method: str, params_json: str) -> None:
        """A custom notification whose parameters are already JSON text (ASCII, as pygls
        writes): sent without encoding them again."""
        if self.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        body = (
            f'{{"jsonrpc":"{self.VERSION}","method":{json.dumps(method)},"params":{params_json}}}'
        )
        if self._include_headers:
            body = (
                f"Content-Length: {len(body)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n{body}"
            )
        self.writer.write(body.encode(self.CHARSET))

    def handle_message(self, message: Any) -> None:
        kind = _KINDS.get(type(message))
        if kind is None:
            kind = _KINDS[type(message)] = _kind_of(message)
        if message.jsonrpc != self.VERSION:
            log.warning('Unknown message "%s"', message)
            return
        if self._shutdown and getattr(message, "method", "") != "exit":
            log.warning("Server shutting down. No more requests!")
            return
        ctx = contextvars.copy_context()  # each handler in its own context, as in pygls
        if kind == _REQUEST:
            ctx.run(self._handle_request, message.id, message.method, message.params)
        elif kind == _NOTIFICATION:
            ctx.run(self._handle_notification, message.method, message.params)
        elif kind == _RESPONSE:
            ctx.run(self._handle_response, message.id, message.result)
        else:
            ctx.run(self._handle_response, message.id, None, message.error)

    # -- documents: ours only (see the module docstring) ------------------------------------------
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> _Handled:
        yield from self._ours(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> _Handled:
        yield from self._ours(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> _Handled:
        yield from self._ours(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _ours(self, method: str, params: Any) -> _Handled:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None


_Handled = Generator[Any, Any, None]


def _kind_of(message: Any) -> int:
    """pygls's own order of checks (JsonRPCProtocol.handle_message)."""
    if isinstance(message, RPCRequest):
        return _REQUEST
    if isinstance(message, RPCNotification):
        return _NOTIFICATION
    if isinstance(message, RPCResponse):
        return _RESPONSE
    return _ERROR
