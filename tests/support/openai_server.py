"""A scriptable OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, stdlib only.

Why real HTTP: the things that break in practice (connection refused, a socket dropped in the
middle of a chunked body, a client that hangs up when cancelled) only show up on a socket.

In-process use::

    with FakeOpenAIServer() as srv:
        srv.enqueue(pieces=["x = 1\\n", "print(x)\\n"], delay=0.01)
        config = LLMConfig(provider="openai", base_url=srv.url, api_key="sk-test")
        ...
        assert srv.chat_requests[0].body["messages"][1]["content"].startswith(...)

or the `fake_openai` pytest fixture (import it into a conftest.py).

As a process (editor end-to-end tests)::

    python -m tests.support.openai_server --port 0 --script replies.json [--log requests.jsonl]

prints its base URL (``http://127.0.0.1:PORT/v1``) as the first stdout line, then serves until
killed (SIGTERM/SIGINT), or until stdin closes with ``--exit-on-stdin-eof``. ``--log`` appends one JSON object per
finished request (method, path, body, pieces_sent, disconnected).

Script JSON format: either a list of replies, or ``{"replies": [...], "default": {...},
"model": "fake-model"}``. Replies are used in order, one per chat request; when they run out
the default reply is used (itself defaulting to ``print('hello')``). A reply is an object with
any of these keys (all optional):

* ``pieces``: list of content strings, one SSE chunk each; or ``text`` plus ``chunk_chars``
  (default 4) to split a string into pieces.
* ``delay``: seconds to sleep before each piece after the first (a token rate);
  ``first_delay``: seconds before the first piece (time to first token).
* ``status`` (default 200) with ``error_message`` / ``error_type``: an OpenAI-style JSON error
  (``{"error": {"message", "type", "code"}}``) instead of a stream; ``retry_after`` adds that
  header.
* ``malformed_after``: after that many pieces send ``data: {not json`` and end the stream.
* ``drop_after``: after that many pieces close the socket without ``[DONE]`` or the final
  chunk of the chunked body.
* ``not_stream``: a 200 that is no event stream: ``"html"`` (a web page with a
  Content-Length) or ``"json"`` (one ``chat.completion``, ``stream: true`` ignored).
* ``finish_reason`` (default ``"stop"``; ``null`` to omit it).
* ``usage``: object sent as the last chunk when the client asked for
  ``stream_options.include_usage`` (a default with token counts is sent otherwise).
* ``reject_stream_options``: answer 400 if the request carries ``stream_options``.

An empty completion is ``{"pieces": []}``; fenced output is just pieces containing fences.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAIServer", "RecordedRequest", "Reply", "fake_openai"]


@dataclass
class Reply:
    """What the server does for one chat request (see the module docstring)."""

    pieces: list[str] | None = None
    text: str | None = None
    chunk_chars: int = 4
    delay: float = 0.0
    first_delay: float = 0.0
    status: int = 200
    error_message: str = "scripted error"
    error_type: str | None = None
    retry_after: str | None = None
    malformed_after: int | None = None
    drop_after: int | None = None
    finish_reason: str | None = "stop"
    usage: dict[str, Any] | None = None
    reject_stream_options: bool = False
    # Set: after the first piece, the server waits (at most 30 s) until the test sets it.
    hold_after_first: threading.Event | None = None
    # How each SSE line ends (LF by default; CRLF and CR are valid too).
    line_end: bytes = b"\n"
    # Set: the whole event stream is built first and sent in slices of this many bytes, each
    # `delay` apart, cutting events, lines and UTF-8 characters anywhere.
    split_every: int | None = None
    unterminated_end: bool = False  # with split_every: the last line has no line end
    raw_replace: tuple[bytes, bytes] | None = None  # with split_every: bytes swapped in the body
    bom: bool = False  # with split_every: the body starts with a UTF-8 byte-order mark
    pings: int = 0  # with split_every: this many `: ping` comments first, `delay` apart
    # Set: a 200 that is no event stream: "html" (a web page), "json" (one chat.completion,
    # as a server that ignores `stream: true` sends).
    not_stream: str | None = None

    def content_pieces(self) -> list[str]:
        if self.pieces is not None:
            return list(self.pieces)
        if self.text is not None:
            n = max(1, self.chunk_chars)
            return [self.text[i : i + n] for i in range(0, len(self.text), n)]
        return ["print('hello')\n"]

    @classmethod
    def coerce(cls, value: Reply | dict[str, Any] | None) -> Reply:
        if value is None:
            return cls()
        if isinstance(value, Reply):
            return value
        return cls(**value)


@dataclass
class RecordedRequest:
    """One request as the server saw it, updated while it is being answered."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    pieces_sent: int = 0
    disconnected: bool = False  # the client went away before the reply was complete
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_done(self, timeout: float = 5.0) -> bool:
        return self.done.wait(timeout)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items() if k != "authorization"},
            "body": self.body,
            "pieces_sent": self.pieces_sent,
            "disconnected": self.disconnected,
        }


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -- routing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        rec = self._record(None)
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            model = self.server.owner.model
            self._json(
                200,
                {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "fake"}]},
            )
        elif path.endswith("/health"):
            self._json(200, {"status": "ok"})
        else:
            self._json(404, _error_body("not found", "invalid_request_error"))
        rec.done.set()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = self._record(body)
        try:
            if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                self._json(404, _error_body("not found", "invalid_request_error"))
                return
            reply = self.server.owner._next_reply()
            self._answer(rec, reply, body if isinstance(body, dict) else {})
        except (BrokenPipeError, ConnectionResetError, _ClientGone):
            rec.disconnected = True
            self.close_connection = True
        finally:
            rec.done.set()

    def _record(self, body: Any) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        rec = RecordedRequest(self.command, self.path, headers, body)
        with self.server.owner._lock:
            self.server.owner.requests.append(rec)
        return rec

    # -- answers ---------------------------------------------------------------------------

    def _answer(self, rec: RecordedRequest, reply: Reply, req: dict[str, Any]) -> None:
        if reply.reject_stream_options and "stream_options" in req:
            self._json(
                400,
                _error_body(
                    "Unrecognized request argument: stream_options", "invalid_request_error"
                ),
            )
            return
        if reply.status != 200:
            headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
            self._json(
                reply.status,
                _error_body(reply.error_message, reply.error_type, reply.status),
                headers,
            )
            return
        pieces = reply.content_pieces()
        model = req.get("model") or self.server.owner.model
        if reply.not_stream == "html":
            page = b"<html><body>Welcome to nginx!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            self.wfile.flush()
            return
        if not req.get("stream") or reply.not_stream == "json":
            self._json(200, _completion(model, "".join(pieces), reply.finish_reason))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        cid = "chatcmpl-" + uuid.uuid4().hex[:12]
        if reply.split_every is not None:
            self._sliced(reply, cid, model, pieces)
            return
        self._event(_chunk(cid, model, {"role": "assistant", "content": ""}, None))
        for i, piece in enumerate(pieces):
            if reply.drop_after is not None and i >= reply.drop_after:
                self._drop()
                return
            if reply.malformed_after is not None and i >= reply.malformed_after:
                self._raw(b"data: {not json\n\n")
                self._end_chunked()
                return
            wait = reply.first_delay if i == 0 else reply.delay
            if wait:
                time.sleep(wait)
            self._event(_chunk(cid, model, {"content": piece}, None))
            rec.pieces_sent += 1
            if i == 0 and reply.hold_after_first is not None:
                reply.hold_after_first.wait(30)
        if reply.drop_after is not None:
            self._drop()
            return
        if reply.malformed_after is not None:
            self._raw(b"data: {not json\n\n")
            self._end_chunked()
            return
        self._event(_chunk(cid, model, {}, reply.finish_reason))
        if (req.get("stream_options") or {}).get("include_usage"):
            usage = reply.usage or {
                "prompt_tokens": 10,
                "completion_tokens": len(pieces),
                "total_tokens": 10 + len(pieces),
            }
            final = _chunk(cid, model, {}, None)
            final["choices"] = []
            final["usage"] = usage
            self._event(final)
        self._raw(b"data: [DONE]\n\n")
        self._end_chunked()

    def _sliced(self, reply: Reply, cid: str, model: str, pieces: list[str]) -> None:
        end = reply.line_end
        events = [_chunk(cid, model, {"content": p}, None) for p in pieces]
        events.append(_chunk(cid, model, {}, reply.finish_reason))
        body = b"".join(
            b"data: " + json.dumps(e, ensure_ascii=False).encode() + end + end for e in events
        )
        if reply.unterminated_end:  # the finish event is the last line, without its line end
            body = body.rstrip(b"\r\n")
        if not reply.unterminated_end:
            body += b"data: [DONE]" + end + end
        if reply.raw_replace is not None:
            body = body.replace(*reply.raw_replace)
        if reply.bom:
            body = b"\xef\xbb\xbf" + body
        for _ in range(reply.pings):
            self._raw(b": ping" + end + end)
            time.sleep(reply.delay)
        n = max(1, reply.split_every or 1)
        for i in range(0, len(body), n):
            if i and reply.delay:
                time.sleep(reply.delay)
            self._raw(body[i : i + n])
        self._end_chunked()

    def _event(self, obj: dict[str, Any]) -> None:
        self._raw(b"data: " + json.dumps(obj).encode() + b"\n\n")

    def _raw(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError as e:
            raise _ClientGone() from e

    def _end_chunked(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError as e:
            raise _ClientGone() from e

    def _drop(self) -> None:
        """Hang up in the middle of the body, like a crashed or restarted server."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping idle keep-alive connections is normal; anything else is a bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """An OpenAI-style chat endpoint on an ephemeral port, answering from a script."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "fake-model",
        default: Reply | dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.default = Reply.coerce(default)
        self.requests: list[RecordedRequest] = []
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to configure clients with (ends in /v1)."""
        return f"http://{self._host}:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, reply: Reply | dict[str, Any] | None = None, /, **kwargs: Any) -> Reply:
        """Queue the reply for the next chat request: `enqueue(pieces=[...], delay=0.01)`."""
        r = Reply.coerce(reply) if reply is not None else Reply(**kwargs)
        with self._lock:
            self._queue.append(r)
        return r

    def script(self, replies: list[Reply | dict[str, Any]]) -> None:
        """Replace the queue with these replies, answered in order."""
        with self._lock:
            self._queue = [Reply.coerce(r) for r in replies]

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.pop(0) if self._queue else self.default

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def wait_for_chat_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.chat_requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.chat_requests


def _error_body(message: str, type_: str | None, status: int = 400) -> dict[str, Any]:
    default_type = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(
        status, "server_error"
    )
    return {
        "error": {"message": message, "type": type_ or default_type, "param": None, "code": None}
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(model: str, text: str, finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": max(1, len(text) // 4),
            "total_tokens": 10,
        },
    }


try:  # the fixture is optional so the module also runs as a plain script
    import pytest

    @pytest.fixture
    def fake_openai() -> Iterator[FakeOpenAIServer]:
        """A started FakeOpenAIServer, stopped after the test."""
        with FakeOpenAIServer() as srv:
            yield srv

except ImportError:  # pragma: no cover
    pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scriptable fake OpenAI chat server (for tests).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", help="JSON file with replies (see module docstring)")
    ap.add_argument("--log", help="append one JSON line per finished request to this file")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes")
    args = ap.parse_args(argv)

    replies: list[Any] = []
    default: Any = None
    model = "fake-model"
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            spec = json.load(f)
        if isinstance(spec, list):
            replies = spec
        else:
            replies = spec.get("replies", [])
            default = spec.get("default")
            model = spec.get("model", model)

    srv = FakeOpenAIServer(host=args.host, port=args.port, model=model, default=default)
    srv.script(replies)
    srv.start()
    print(srv.url, flush=True)

    logged = 0
    stop = threading.Event()
    if args.exit_on_stdin_eof:

        def watch_stdin() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        while not stop.wait(0.05):
            # log in arrival order, each request once it is finished
            while args.log and logged < len(srv.requests) and srv.requests[logged].done.is_set():
                with open(args.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(srv.requests[logged].to_json()) + "\n")
                logged += 1
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
