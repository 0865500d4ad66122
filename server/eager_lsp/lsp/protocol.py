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
- **The two messages an editor sends per edit** (a `didChange`, the answer to
  `workspace/applyEdit`) are built as cattrs builds them, without cattrs (about 0.05 ms each
  in place); anything else, or anything unusual in these, takes pygls's way, which also says
  what is wrong with it. Our own requests with parameters made as JSON text
  (`request_json`: applyEdit, streamEdit, inlayHint/refresh) and a generation's `$/progress`
  reports skip pygls's encoding of lsprotocol objects.
- **Dispatch of what the client sends.** pygls tells a request from a notification or a
  response with `isinstance` against `typing.Protocol` classes, which inspects the class's
  members on every call. The answer depends only on the message's class (pygls structures each
  message into one attrs class per method), so it is computed once per class.
- **One copy of each document.** pygls keeps its own copy of every open document in its
  workspace and applies each change to it before our handler applies it again to ours
  (lsp/documents.py), which is the one the server reads. Nothing reads pygls's copy, so the
  open, change and close notifications go straight to our handlers and pygls's workspace holds
  no documents.
- **A notification whose handler is a plain function is called at once** (the document
  notifications, `eager/cursor`), errors reported as pygls reports them. pygls wraps each in a
  future with a fresh UUID and, for the document notifications, in its own generator step,
  whose future it also keeps in a table it never empties: one entry per keystroke and per line
  a generation writes, for as long as the server runs. A document notification with another
  kind of handler (async, or on a thread; none of ours) is run by pygls's handler executor,
  without pygls's own document handler.
- **What the client sends for a method lsprotocol does not know** (the answer to our
  `eager/streamEdit`, the `eager/cursor` notification) stays the JSON it was. pygls turned
  each such result or params into named tuples by encoding it and decoding it again with a
  new `namedtuple` class for every object, about a third of a millisecond per answer and half
  the server's extra CPU with stream-edit clients; a key that is not an identifier was renamed
  on the way (`_0`). lsp/payloads.from_wire reads it.

Two behaviours are changed. **`shutdown` leaves a pending `exit` alone.** pygls's shutdown,
as it finishes, cancels the handler of every message still pending. Our `exit` handler waits for the
shutdown's answer when both come at once (lsp/handlers.py), so pygls cancelled it, and the
process, told to exit, lived on while the editor kept stdin open.

**A request whose id is NaN or infinite** (Python's JSON reader takes them) is refused with
an Invalid Request error and a null id: pygls echoed the id, writing `NaN`, which is not JSON.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import itertools
import json
import logging
import math
import sys
import uuid
from collections.abc import Callable, Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidRequest,
)
from pygls.feature_manager import is_thread_function
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)
from pygls.protocol.json_rpc import RPCNotification, RPCRequest, RPCResponse
from pygls.protocol.language_server import lsp_method

log = logging.getLogger(__name__)

_REQUEST, _NOTIFICATION, _RESPONSE, _ERROR = range(4)
_KINDS: dict[type, int] = {}  # message class → which of the four it is


class EagerProtocol(LanguageServerProtocol):
    """`LanguageServerProtocol` with a dict-wrapped path for custom notifications, a
    per-class cache for message dispatch, and a shutdown that spares `exit` (see the module
    docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exit_ids: set[Any] = set()  # the futures of an `exit` being handled
        self._direct_handlers: dict[str, Callable[[Any], Any] | None] = {}
        self._request_ids = itertools.count(1)
        # pygls keeps the requests it handles and those it sends in one map by id: a client
        # request may not take the id of one of ours (its answer would find nothing), so
        # ours carry a part no client can guess, as pygls's own UUIDs do.
        self._request_id_prefix = f"eager-{uuid.uuid4().hex[:12]}-"

    def notify(self, method: str, params: Any | None = None) -> None:
        if method == types.PROGRESS and type(params) is types.ProgressParams:
            value = params.value
            if type(value) is types.WorkDoneProgressReport:  # a generation's, every 100 ms
                report = {"kind": value.kind}  # (what cattrs writes: the fields that are set)
                for name in _REPORT_FIELDS:
                    if (v := getattr(value, name)) is not None:
                        report[name] = v
                data = {"token": params.token, "value": report}
                self._send_data({"jsonrpc": self.VERSION, "method": method, "params": data})
                return
        if self.get_message_type(method) is not None:  # an LSP method: lsprotocol params
            super().notify(method, params)
            return
        self._send_data({"jsonrpc": self.VERSION, "method": method, "params": params})

    def notify_json(self, method: str, params_json: str) -> None:
        """A custom notification whose parameters are already JSON text (ASCII, as pygls
        writes): sent without encoding them again."""
        self._write_json(
            f'{{"jsonrpc":"{self.VERSION}","method":{json.dumps(method)},"params":{params_json}}}'
        )

    def request_json(self, method: str, params_json: str | None) -> concurrent.futures.Future[Any]:
        """A request whose parameters are already JSON text (ASCII; None: a request without
        parameters), answered as pygls's `send_request` is (the same future, the answer read
        into the method's result type). pygls builds an lsprotocol message around the
        parameters and encodes it with cattrs: about 0.1 ms per `workspace/applyEdit`, one per
        document every edit interval, and per `inlayHint/refresh`."""
        msg_id = f"{self._request_id_prefix}{next(self._request_ids)}"
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._request_futures[msg_id] = future
        self._result_types[msg_id] = self.get_result_type(method)
        params = "" if params_json is None else f',"params":{params_json}'
        self._write_json(
            f'{{"jsonrpc":"{self.VERSION}","id":"{msg_id}","method":{json.dumps(method)}{params}}}'
        )
        return future

    def _write_json(self, body: str) -> None:
        if self.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        if self._include_headers:
            body = (
                f"Content-Length: {len(body)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n{body}"
            )
        self.writer.write(body.encode(self.CHARSET))

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name != types.EXIT:
            super()._handle_notification(method_name, params)
            return
        before = set(self._request_futures)
        super()._handle_notification(method_name, params)
        self._exit_ids.update(set(self._request_futures) - before)  # its futures, to spare

    async def exit_handled(self, timeout: float) -> None:
        """Wait (bounded) while an `exit` is being handled: pygls ends the process from it by
        raising SystemExit in a callback. The stdio loop waits here when stdin ended: a main
        task that finished in the same loop turn as that SystemExit left asyncio's
        `run_until_complete` callback scheduled, which stopped asyncio's own clean-up early
        (a RuntimeError, exit code 1)."""
        pending = [  # (pygls keeps concurrent.futures futures and asyncio tasks there)
            asyncio.wrap_future(f)
            for i in self._exit_ids
            if (f := self._request_futures.get(i)) is not None and not f.done()
        ]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> _Handled:
        """pygls's, sparing `exit` (see the module docstring)."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id  # this request's own future is not cancelled either
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and msg_id not in self._exit_ids and not future.done():
                future.cancel()
        self._shutdown = True

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls's, with the two messages an editor sends per edit built directly (module
        docstring): a `didChange` and the answer to `workspace/applyEdit`. Anything else, or
        anything these do not read as plainly valid, takes pygls's way (cattrs), which also
        reports what is wrong with it."""
        if "jsonrpc" not in data:
            return data  # (pygls's JSON hook sees every object: this is one inside a message)
        try:
            if data.get("method") == types.TEXT_DOCUMENT_DID_CHANGE and "id" not in data:
                return _did_change(data)
            if "result" in data and "method" not in data and "error" not in data:
                kind = self._result_types.get(data["id"])
                if kind is types.ApplyWorkspaceEditResponse:
                    message = _apply_edit_answer(data)
                    self._result_types.pop(data["id"], None)
                    return message
        except (TypeError, ValueError, KeyError, AttributeError):
            pass  # pygls's way: it says what is wrong
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            # A request whose parameters cattrs cannot read (a position on line -1): pygls
            # logged it and answered nothing, so the editor waited forever. It is answered
            # with the error now; a notification has nobody to answer.
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool):
                return _Refused(msg_id, exc.code, f"{exc.message} for {data['method']!r}")
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Refused):
            error = {"code": message.code, "message": message.message}
            self._send_data({"jsonrpc": self.VERSION, "id": message.id, "error": error})
            return
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
            if isinstance(message.id, float) and not math.isfinite(message.id):
                self._refuse_id(message.method)
                return
            ctx.run(self._handle_request, message.id, message.method, message.params)
        elif kind == _NOTIFICATION:
            direct = self._direct(message.method)
            if direct is not None:
                ctx.run(self._notify_handler, direct, message.method, message.params)
            else:
                ctx.run(self._handle_notification, message.method, message.params)
        elif kind == _RESPONSE:
            ctx.run(self._handle_response, message.id, message.result)
        else:
            ctx.run(self._handle_response, message.id, None, message.error)

    def _refuse_id(self, method: str) -> None:
        """A request whose id is NaN or infinite (Python's JSON reader accepts them): answered
        with an Invalid Request error and a null id, as JSON-RPC says for an id that cannot be
        read. Echoing the id, as pygls did, wrote `NaN` into the output, which is not JSON."""
        log.warning("refused a %r request with a non-finite id", method)
        error = {"code": JsonRpcInvalidRequest.CODE, "message": "Invalid Request: id is not finite"}
        self._send_data({"jsonrpc": self.VERSION, "id": None, "error": error})

    def _direct(self, method: str) -> Callable[[Any], Any] | None:
        """The handler to call at once for notification `method`, or None for pygls's path
        (see the module docstring); worked out once per method."""
        if method in self._direct_handlers:
            return self._direct_handlers[method]
        handler = self.fm.features.get(method)
        plain = (
            handler is not None
            and (method in _DOCUMENTS or method not in self.fm.builtin_features)
            and not inspect.iscoroutinefunction(handler)
            and not inspect.isgeneratorfunction(handler)
            and not is_thread_function(handler)
        )
        if plain:
            direct = handler
        elif method not in _DOCUMENTS:
            direct = None
        elif handler is None:
            direct = _ignore
        else:  # async, or on a thread (none of ours): run by pygls's executor, not its copy
            direct = functools.partial(self._execute_user_handler, handler)
        self._direct_handlers[method] = direct
        return direct

    def _execute_user_handler(self, handler: Callable[[Any], Any], params: Any) -> None:
        self._execute_handler(
            msg_id=str(uuid.uuid4()),
            handler=handler,
            args=(params,),
            callback=self._check_handler_result,
        )

    def _notify_handler(self, handler: Callable[[Any], Any], method: str, params: Any) -> None:
        try:
            handler(params)
        except Exception:  # reported as pygls reports a failed notification handler
            log.exception("Failed to handle notification %r", method)
            error = JsonRpcInternalError.of(sys.exc_info())
            self._server._report_server_error(error, FeatureNotificationError)


def eager_converter() -> Any:
    """pygls's converter, with the params or result of a message for a method lsprotocol does
    not know left as the JSON it was (module docstring). LSP's own messages keep their
    lsprotocol types: pygls structures those with the method's own classes, not with these
    generic ones."""
    converter = default_converter()
    for generic in (JsonRPCResponseMessage, JsonRPCNotification, JsonRPCRequestMessage):
        converter.register_structure_hook(generic, _as_sent)
    return converter


def _as_sent(obj: dict[str, Any], cls: type) -> Any:
    return cls(**obj)


class _Refused:
    """A request `structure_message` could not read: answered with this error (handle_message)."""

    __slots__ = ("code", "id", "message")

    def __init__(self, msg_id: int | str, code: int, message: str) -> None:
        self.id, self.code, self.message = msg_id, code, message


def _did_change(data: dict[str, Any]) -> types.DidChangeTextDocumentNotification:
    """A didChange as cattrs builds it, for the plain shape (lsprotocol's validators check the
    values; a wrong type raises, and pygls's way then reports it)."""
    params = data["params"]
    document = params["textDocument"]
    changes: list[Any] = []
    for change in params["contentChanges"]:
        if "range" not in change:  # (a `"range": null` is no whole-document change to cattrs)
            changes.append(types.TextDocumentContentChangeWholeDocument(text=change["text"]))
            continue
        rng = change["range"]
        start, end = rng["start"], rng["end"]
        changes.append(
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=start["line"], character=start["character"]),
                    end=types.Position(line=end["line"], character=end["character"]),
                ),
                text=change["text"],
                range_length=change.get("rangeLength"),
            )
        )
    return types.DidChangeTextDocumentNotification(
        params=types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                version=document["version"], uri=document["uri"]
            ),
            content_changes=tuple(changes),  # (a tuple, as cattrs builds it)
        ),
        jsonrpc=data["jsonrpc"],
    )


def _apply_edit_answer(data: dict[str, Any]) -> types.ApplyWorkspaceEditResponse:
    result = data["result"]
    return types.ApplyWorkspaceEditResponse(
        id=data["id"],
        result=types.ApplyWorkspaceEditResult(
            applied=result["applied"],
            failure_reason=result.get("failureReason"),
            failed_change=result.get("failedChange"),
        ),
        jsonrpc=data["jsonrpc"],
    )


_Handled = Generator[Any, Any, None]

# a $/progress report's optional fields (their lsprotocol names are their wire names)
_REPORT_FIELDS = ("cancellable", "message", "percentage")

# pygls's own handlers of these keep its copy of each document: never run (module docstring)
_DOCUMENTS = frozenset(
    {types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE}
)


def _ignore(params: Any) -> None:
    """A document notification with no handler of ours."""


def _kind_of(message: Any) -> int:
    """pygls's own order of checks (JsonRPCProtocol.handle_message)."""
    if isinstance(message, RPCRequest):
        return _REQUEST
    if isinstance(message, RPCNotification):
        return _NOTIFICATION
    if isinstance(message, RPCResponse):
        return _RESPONSE
    return _ERROR
