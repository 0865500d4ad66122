"""A streamed chat response read by an asyncio protocol: HTTP/1.1 and server-sent events parsed
where the bytes arrive.

Why not the SDK's transport for the body: between a socket read and our code, httpx, httpcore,
h11 and AnyIO each add an async layer, and h11 hands out one event per chunk of a chunked body,
which servers send per token. Reading ten streams at 200 tokens/s that way cost 0.08-0.11 ms of
CPU per token, against 0.025-0.045 here, where the event loop calls `data_received` once per
read and the framing, the event lines and the JSON are handled in that call; in the whole
server, 10-18 % of its CPU (docs/benchmarks.md, "The model's stream read where it arrives").

Rules this module keeps:
- It speaks only what a chat stream needs: one POST, `Transfer-Encoding: chunked`, a
  `Content-Length` or a body that ends with the connection; gzip or deflate if a server
  compresses though asked not to. Proxies are left to the SDK (openai_chat decides).
- Everything is bounded: the status line and headers (64 KiB), interim (1xx) answers (8), a
  chunk-size line, one event line (the caller's cap), an error body (1 MiB), what one read of a
  compressed body may expand to (8 MiB), and events read ahead of a slow consumer (reading
  pauses at `max_ahead` bytes until the consumer takes them). Nothing the server sends can
  raise out of the protocol's callbacks: it fails the response instead.
- Header values are checked for line breaks, so a key or a URL cannot inject a header. Error
  messages never quote what the server sent (a hostile server has the key and may echo it).
- With several streams, each read waits for the shared read tick (openai_chat.ReadClock): the
  transport pauses after a read, and the tick reads what came meanwhile (resuming the
  transport only when nothing did), so one wake-up reads every stream.
- A consumer may take the events as each read parses them (`Response.on_events`) instead of
  waiting for them in `take`: no task wakes per read (openai_chat hands the text straight to
  the code that reads the stream).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import ssl
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

TAIL_WAIT_S = 1.0  # how long a connection waits for its body's end after `[DONE]`, to be kept
INFLATE_CAP = 8 << 20  # bytes one read of a compressed body may expand to, at most
HEADERS_CAP = 64 << 10  # bytes of the status line and headers together, at most
ERROR_BODY_CAP = 1 << 20  # bytes of an error answer kept for its message, at most
_CHUNK_LINE_CAP = 1024  # bytes of one chunk-size line (with extensions), at most
_INTERIM_CAP = 8  # interim (1xx) answers before the real one, at most
_MESSAGE_CAP = 300  # characters of a server's own message in an error, at most
_HEAD_CAP = 1024  # bytes of a body's start kept to tell what it is
_MEDIA = re.compile(r"[a-z0-9!#$&^_.+-]{1,40}/[a-z0-9!#$&^_.+-]{1,60}")  # a media type, bounded
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
# asyncio's transport for a plain TCP socket (Response._read_now reads through it on a tick)
_PLAIN_TRANSPORT: Any = getattr(
    importlib.import_module("asyncio.selector_events"), "_SelectorSocketTransport", None
)


class Dropped(Exception):
    """The connection ended (or broke) before the response did."""


class Malformed(ValueError):
    """The server's answer is not HTTP or server-sent events this module can read."""

    @property
    def message(self) -> str:
        return str(self)


class EventError(Malformed):
    """An `error` object inside the event stream (the server gave up mid-answer)."""


class StatusError(Exception):
    """A non-2xx answer: its status and the start of its body."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body

    def detail(self) -> str:
        """The server's own message: `error.message` of a JSON body, else the body's text
        (whole: the caller hides the key in it before cutting it short)."""
        text = self.body.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return text.strip()
        error = obj.get("error") if isinstance(obj, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(obj, dict) and isinstance(obj.get("message"), str):
            return str(obj["message"])
        return text.strip()


# What `json.loads` calls in the end (the C scanner), made once. (typeshed does not list the
# decoder's `scan_once`, which CPython has set in `JSONDecoder.__init__` since 2.6.)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class EventLines:
    """The bytes of an event stream in, the JSON objects of its `data:` lines out.

    Lines end at LF, CRLF or CR; an incomplete line waits for the rest (appended to, so a line
    that comes a byte at a time costs time in proportion to its length). Shared by both ways
    of reading a response, so they cannot disagree about what an event is.
    """

    def __init__(self, line_cap: int) -> None:
        self.line_cap = line_cap
        self.done = False  # `data: [DONE]` came
        self.lines = 0  # complete lines seen (each feed that completes one adds one)
        self.events = 0  # `data:` lines seen (none: the body may be no event stream at all)
        self.head = b""  # the body's first bytes (to name what came instead of events)
        self._rest = bytearray()  # the start of a line whose end has not come
        self._first = True

    def feed(self, data: bytes, out: list[dict[str, Any]]) -> None:
        """Append the events completed by `data` to `out`. On a bad event, the good ones
        before it are in `out` when the error is raised."""
        if self.done:
            return
        if self._first and data:
            self._first = False
            self.head = data[:_HEAD_CAP]
            data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark (SSE allows one)
        if b"\r" in data:  # (a CRLF cut between reads adds an empty line: ignored)
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        rest = self._rest
        if b"\n" not in data:
            rest += data
            if len(rest) > self.line_cap:  # a server that never ends its line
                raise Malformed(f"an event line is over {self.line_cap} bytes")
            return
        if rest:
            rest += data
            lines = bytes(rest).split(b"\n")
        else:
            lines = data.split(b"\n")
        self._rest = bytearray(lines.pop())
        if len(self._rest) > self.line_cap:
            raise Malformed(f"an event line is over {self.line_cap} bytes")
        self.lines += 1
        for line in lines:
            if not line.startswith(b"data:"):
                continue  # comments (keep-alives), other fields, the blank line between events
            self.events += 1
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self.done = True
                return
            out.append(_event(payload))

    def end(self, out: list[dict[str, Any]]) -> None:
        """The body ended: a last line without its line end counts too."""
        if self._rest and not self.done:
            self.feed(b"\n", out)


def not_a_stream(content_type: str, lines: EventLines) -> str | None:
    """Why a 2xx answer whose body ended with no event is no event stream, as a sentence; None
    if it may still be one (labelled `text/event-stream`, or a `data:` line came).

    Named from the media type (cut to a token: the rest is the server's) and the body's first
    bytes, never quoted: a completion sent whole (`stream: true` ignored), else anything else
    (a web page where the API was expected)."""
    if lines.events:
        return None
    media = content_type.partition(";")[0].strip().lower()
    if media == "text/event-stream":
        return None
    head = lines.head.lstrip()
    if (
        media.endswith("json")
        and head.startswith(b"{")
        and (b'"chat.completion"' in head or b'"choices"' in head)
    ):
        return (
            "The endpoint answered with one JSON completion, not an event stream: the server"
            " ignored `stream: true`"
        )
    if not _MEDIA.fullmatch(media):
        media = "none" if not media else "unreadable"
    return (
        f"The endpoint did not answer with an event stream (Content-Type: {media}):"
        " is llm.baseUrl an OpenAI-compatible /v1 URL?"
    )


def _event(payload: bytes) -> dict[str, Any]:
    # Invalid UTF-8 becomes U+FFFD, as httpx's text decoding did, not an exception.
    text = payload.decode("utf-8", "replace")
    try:
        # `json.loads` without its wrappers (an event per token): one value, nothing after it
        # (the payload is stripped, so no whitespace is around it to skip).
        obj, end = _SCAN(text, 0)
    except (StopIteration, ValueError, RecursionError):
        raise Malformed("an event is not JSON") from None
    if end != len(text):
        raise Malformed("an event is not JSON")
    if not isinstance(obj, dict):
        raise Malformed("an event is not an object")
    error = obj.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        raise EventError(str(message)[: 4 * _MESSAGE_CAP])  # (scrubbed, then cut, by the caller)
    return obj


def has_control(text: str) -> bool:
    """Whether `text` has a control character (a line break in a header would inject one)."""
    return any(c < " " or c == "\x7f" for c in text)


class Request:
    """One POST of JSON to a URL, checked before anything is sent."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        if has_control(url):
            raise ValueError("the URL contains a control character")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        authority = host if self.port == default else f"{host}:{self.port}"
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
        target = path + (f"?{parts.query}" if parts.query else "")
        fields = {
            "Host": authority,
            "Accept": "text/event-stream",
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
            **headers,
            "Content-Length": str(len(body)),
        }
        for name, value in [("target", target), *fields.items()]:
            if any(c in value for c in "\r\n\0") or (name == "target" and " " in value):
                raise ValueError(f"the request's {name} contains a line break or a space")
            if not value.isascii():
                raise ValueError(f"the request's {name} has a character HTTP headers cannot carry")
        head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        self.data = head.encode("ascii") + b"\r\n" + body
        self.key = (self.host, self.port, self.tls)


def tls_context() -> ssl.SSLContext:
    """What the SDK's transport trusts: its own default context where it has one
    (`SSL_CERT_FILE`/`SSL_CERT_DIR`, the system's trust store on macOS and Windows, else
    OpenSSL's paths), else Python's default context."""
    for name in ("httpcore2", "httpcore"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        make = getattr(module, "default_ssl_context", None)
        if callable(make):
            context = make()
            if isinstance(context, ssl.SSLContext):
                return context
    return ssl.create_default_context()


class Response(asyncio.Protocol):
    """One connection and the response being read on it.

    `connect()` opens it; `send()` writes a request and waits for the status and headers;
    `take()` waits for events. A connection whose response ended cleanly can `send()` again
    (openai_chat keeps such connections for the next request to the same server).
    """

    # The state of one response, set by `_reset()` (described there).
    received_any: bool
    status: int
    headers: dict[str, str]
    _head: bytearray
    _interim: int
    _in_body: bool
    _framing: str
    _left: int
    _chunk_state: str
    _chunk_buf: bytearray
    _decompress: Any
    _lines: EventLines | None
    _error_body: bytearray
    _events: list[dict[str, Any]]
    _news: bool
    _ahead: int
    _ended: bool
    _failure: BaseException | None

    def __init__(self, line_cap: int, max_ahead: int) -> None:
        self._line_cap = line_cap
        self._max_ahead = max_ahead
        self.transport: asyncio.Transport | None = None
        self.key: tuple[str, int, bool] | None = None  # (host, port, tls) of the server
        self.closed = False  # the connection is gone (or being closed)
        self.reusable = False  # the last response ended cleanly; the server keeps the connection
        self._headers_ready: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._clock: Any = None  # a ReadClock while this response is paced
        self._held_by_tick = False
        self._held_by_consumer = False
        self._reads = 0  # data_received calls (a read on the tick tells by it whether it read)
        # Who takes the events as they are parsed, instead of waiting in `take` for them:
        # called with each read's events (empty: only a sign of life), it returns True when
        # it holds too much (reading pauses until `consumer_ready`). `take` then only says
        # when the body ends or fails.
        self.on_events: Callable[[list[dict[str, Any]]], bool] | None = None
        self._lost: asyncio.Future[None] | None = None  # set once the socket is closed
        self._active = False  # a request is out and its response not released
        self._keep: Callable[[Response], None] | None = None  # who takes it once its body ends
        self._keep_timer: asyncio.TimerHandle | None = None
        self._reset()

    # -- the event loop's side ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._lost = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        _wake(self._lost)
        self._drop_keep()
        self.reusable = False
        if not self._ended:
            if self._in_body and self._framing == "close" and exc is None:
                self._end_body()  # the end of a body without length or chunks
            else:
                cause = exc or ConnectionResetError("the server closed the connection")
                self._fail(Dropped(str(cause) or type(cause).__name__))
        self._unpace()

    def eof_received(self) -> bool | None:
        return None  # close our side too: connection_lost follows

    def data_received(self, data: bytes) -> None:
        if not self._active:  # no request is out: an idle connection talking
            self.abort()
            return
        self.received_any = True
        self._reads += 1
        try:
            if not self._in_body:
                data = self._read_head(data)
                if not self._in_body:
                    return
            if data:
                self._read_body(data)
        except Exception as e:
            self._fail(_as_malformed(e))
            self.abort()
            return
        if self._ended:
            return
        if self.on_events is not None and self._news:
            self._deliver()
        # (Only while something waits to be taken: the bytes of one unfinished line are bounded
        # by the line cap, and the consumer cannot take them to make room.)
        elif self._ahead >= self._max_ahead and self._news and not self._held_by_consumer:
            self._held_by_consumer = True  # the consumer stopped taking: stop reading
            self._pause()
        clock = self._clock
        if clock is not None and not self._held_by_tick and clock.at_tick(self._tick):
            self._held_by_tick = True
            self._pause()

    # -- parsing ---------------------------------------------------------------------------

    def _read_head(self, data: bytes) -> bytes:
        while not self._in_body:
            self._head += data
            data = b""
            end = self._head.find(b"\r\n\r\n")
            cut = 4
            if end < 0:
                end, cut = self._head.find(b"\n\n"), 2
            if end < 0:
                if len(self._head) > HEADERS_CAP:
                    raise Malformed(f"the response headers are over {HEADERS_CAP} bytes")
                return b""
            head, data = bytes(self._head[:end]), bytes(self._head[end + cut :])
            self._head = bytearray()
            lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
            status_line = lines[0].split(None, 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
                raise Malformed("the answer is not an HTTP/1 response")
            try:
                status = int(status_line[1]) if status_line[1].isdigit() else -1
            except ValueError:
                status = -1
            if not 100 <= status <= 999:
                raise Malformed("the answer's HTTP status is not a number")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    key = name.strip().lower()
                    value = value.strip()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
            if status == 101:
                raise Malformed("the server switched protocols")
            if 100 <= status < 200:
                self._interim += 1  # an interim answer (100 Continue): the real one follows
                if self._interim > _INTERIM_CAP:
                    raise Malformed("the server sent too many interim (1xx) answers")
                continue
            self.status, self.headers = status, headers
            self._start_body(status_line[0] == "HTTP/1.0")
        return data

    def _start_body(self, http10: bool) -> None:
        h = self.headers
        conn = h.get("connection", "").lower()
        keep = "keep-alive" in conn if http10 else "close" not in conn
        encoding = h.get("transfer-encoding", "").lower()
        if encoding:
            if encoding.strip() != "chunked":
                raise Malformed("an unsupported transfer encoding")
            self._framing = "chunked"
            if "content-length" in h:
                keep = False  # both framings: read as chunked, never reused (RFC 9112, 6.3)
        elif "content-length" in h:
            length = h["content-length"].strip()
            if not length.isdigit() or not length.isascii():
                raise Malformed("a Content-Length that is not a number")
            self._left = int(length)
            self._framing = "length"
        else:
            self._framing = "close"
            keep = False
        self.reusable = keep
        coding = h.get("content-encoding", "identity").lower().strip()
        if coding in ("gzip", "x-gzip"):
            self._decompress = zlib.decompressobj(wbits=31)
        elif coding == "deflate":
            self._decompress = zlib.decompressobj()
        elif coding not in ("identity", ""):
            raise Malformed("an unsupported content encoding")
        self._lines = EventLines(self._line_cap) if 200 <= self.status < 300 else None
        self._in_body = True
        _wake(self._headers_ready)
        if self._framing == "length" and self._left == 0:
            self._end_body()

    def _read_body(self, data: bytes) -> None:
        if self._framing == "length":
            if len(data) > self._left:
                data = data[: self._left]  # (anything after the body is not ours)
                self.reusable = False
            self._left -= len(data)
            self._payload(data)
            if self._left == 0:
                self._end_body()
        elif self._framing == "chunked":
            self._dechunk(data)
        else:
            self._payload(data)

    def _dechunk(self, data: bytes) -> None:
        buf = self._chunk_buf
        buf += data
        pos = 0
        parts: list[bytes] = []
        try:
            while pos < len(buf) and not self._ended:
                state = self._chunk_state
                if state == "data":
                    take = min(self._left, len(buf) - pos)
                    parts.append(bytes(buf[pos : pos + take]))
                    pos += take
                    self._left -= take
                    if self._left == 0:
                        self._chunk_state = "data_end"
                    continue
                end = buf.find(b"\n", pos)
                if end < 0:
                    if len(buf) - pos > _CHUNK_LINE_CAP:
                        raise Malformed("a chunk-size line is too long")
                    break
                line = bytes(buf[pos:end]).rstrip(b"\r")
                pos = end + 1
                if state == "data_end":
                    if line:
                        raise Malformed("a chunk does not end with a line break")
                    self._chunk_state = "size"
                elif state == "size":
                    digits = line.split(b";", 1)[0].strip()
                    if not _HEX.fullmatch(digits):
                        raise Malformed("a chunk size that is not a hexadecimal number")
                    size = int(digits, 16)
                    if size == 0:
                        self._chunk_state = "trailer"
                    else:
                        self._left, self._chunk_state = size, "data"
                elif not line:  # "trailer": the blank line after the trailers ends the body
                    if parts:
                        joined, parts = b"".join(parts), []  # (handed over once, even if bad)
                        self._payload(joined)
                    del buf[:pos]
                    if buf:
                        self.reusable = False
                    self._end_body()
                    return
        except Malformed:
            if parts:  # the good chunks before the bad framing come first, as `take` says
                self._payload(b"".join(parts))
            raise
        del buf[:pos]
        if parts:
            self._payload(parts[0] if len(parts) == 1 else b"".join(parts))

    def _payload(self, data: bytes) -> None:
        if self._decompress is not None:
            data = self._decompress.decompress(data, INFLATE_CAP)
            if self._decompress.unconsumed_tail:
                raise Malformed(f"a compressed body expands to over {INFLATE_CAP} bytes per read")
        if self._lines is None:  # an error answer: keep its start for the message
            room = ERROR_BODY_CAP - len(self._error_body)
            self._error_body += data[:room]
            if len(data) >= room:  # enough for a message: the rest is not read
                self.reusable = False
                self._end_body()
            return
        self._ahead += len(data)
        lines = self._lines.lines
        try:
            self._lines.feed(data, self._events)
        finally:
            if self._lines.lines != lines or self._events:
                # A whole line (a keep-alive comment too) is a sign of life for the stall
                # watchdog; bytes of a line that never ends are not.
                self._news = True
                if self.on_events is None or self._lines.done:
                    _wake(self._waiter)

    def _end_body(self) -> None:
        if self._ended:
            return
        try:
            if self._decompress is not None and self._lines is not None:
                tail = self._decompress.flush()
                if tail:
                    self._lines.feed(tail, self._events)
            if self._lines is not None:
                self._lines.end(self._events)
        except Exception as e:
            self._fail(_as_malformed(e))
            return
        if self.on_events is not None and (self._news or self._events):
            self._deliver()
        self._ended = True
        self._unpace()
        _wake(self._waiter)
        _wake(self._headers_ready)
        if self._keep is not None:
            self._kept()

    def _fail(self, exc: BaseException) -> None:
        if self.on_events is not None and self._events and not self._ended:
            self._deliver()  # the good events before the failure, as `take` gives them
        if self._failure is None and not self._ended:
            self._failure = exc
        self._ended = True
        self.reusable = False
        self._unpace()
        if self._keep is not None:
            self._kept()  # (not finished: closed)
        fut = self._headers_ready
        if fut is not None and not fut.done():
            fut.set_exception(exc)
            fut.exception()  # retrieved: a request abandoned before its headers logs nothing
        _wake(self._waiter)

    # -- pacing and back-pressure ------------------------------------------------------------

    def _pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def _resume_if_free(self) -> None:
        if self._held_by_tick or self._held_by_consumer:
            return
        if self.transport is not None and not self.closed and not self.transport.is_reading():
            self.transport.resume_reading()

    def _deliver(self) -> None:
        """Hand this read's events to `on_events` (see there)."""
        assert self.on_events is not None
        events, self._events = self._events, []
        self._news, self._ahead = False, 0
        if self.on_events(events) and not self._held_by_consumer and not self._ended:
            self._held_by_consumer = True  # the consumer stopped taking: stop reading
            self._pause()

    def consumer_ready(self) -> None:
        """The consumer took what it held: reading may go on."""
        if self._held_by_consumer:
            self._held_by_consumer = False
            self._resume_if_free()

    @property
    def held_by_consumer(self) -> bool:
        return self._held_by_consumer

    def _tick(self) -> None:
        self._held_by_tick = False
        if self._held_by_consumer or self.transport is None or self.closed:
            return
        # A read on the tick holds the next one to the next tick, unless the tick stopped (one
        # stream left: reads are no longer held); then the transport must read again by itself.
        if self.transport.is_reading() or not self._read_now() or not self._held_by_tick:
            self._resume_if_free()

    def _read_now(self) -> bool:
        """Read what the socket holds now, on the tick itself; False when it held nothing (or
        the transport is not asyncio's plain socket one), and reading must wait for it.

        At 200 tokens/s a stream has bytes at every tick, so resuming the transport only to
        have the loop's next turn read and pause it again cost two changes of the selector
        (about a tenth of the stream's CPU) and a turn of the loop per read. asyncio's
        selector transport reads once, without waiting, in `_read_ready` (a private method
        of CPython's `_SelectorSocketTransport`, 3.8 to 3.13: checked by type here, and any
        other transport, TLS's too, is resumed as before)."""
        transport = self.transport
        if type(transport) is not _PLAIN_TRANSPORT:
            return False
        before = self._reads
        transport._read_ready()  # type: ignore[union-attr]
        return self._reads != before

    def _unpace(self) -> None:
        if self._clock is not None:
            self._clock.streams -= 1
            self._clock = None
        self._held_by_tick = False
        self._held_by_consumer = False
        if not self.closed:
            self._resume_if_free()

    # -- the caller's side ------------------------------------------------------------------

    async def send(self, request: Request, clock: Any) -> None:
        """Write the request and wait for the status and headers (the body is read as it
        comes). Raises Dropped, Malformed, or StatusError once the error body was read."""
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            raise Dropped("the connection was closed")
        loop = asyncio.get_running_loop()
        self._reset()
        self._active = True
        self._headers_ready = loop.create_future()
        self._clock = clock
        clock.streams += 1
        self.transport.write(request.data)
        await self._headers_ready
        if not 200 <= self.status < 300:
            while not self._ended:  # read the error's body (bounded) for its message
                waiter = self._waiter = loop.create_future()
                await waiter
            if self._failure is not None and not self._error_body:
                raise self._failure
            raise StatusError(self.status, bytes(self._error_body))

    def _reset(self) -> None:
        """The state of one response (a kept connection starts each request afresh)."""
        self.received_any = False  # bytes of the current response came
        self.status = 0
        self.headers = {}
        self._head = bytearray()
        self._interim = 0  # interim (1xx) answers so far
        self._in_body = False
        self._framing = "close"  # "chunked", "length" or "close"
        self._left = 0  # bytes of the body ("length") or of the current chunk ("chunked")
        self._chunk_state = "size"  # "size", "data", "data_end", "trailer"
        self._chunk_buf = bytearray()
        self._decompress = None
        self._lines = None  # (None for an error answer: its body is kept)
        self._error_body = bytearray()
        self._events = []
        self._news = False  # a whole line (or events) came since the last `take()`
        self._ahead = 0  # body bytes parsed since the last `take()`
        self._ended = False  # the body ended (or the connection broke: `_failure`)
        self._failure = None

    async def take(self) -> list[dict[str, Any]] | None:
        """The events that came since the last call (waits for body bytes: an empty list when
        only comments came); None at the end of the body. Raises Dropped or Malformed (after
        the events before it)."""
        while not self._news and not self._events:
            if self._ended:
                if self._failure is not None:
                    failure, self._failure = self._failure, None
                    raise failure
                return None
            if self._lines is not None and self._lines.done:
                return None
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        events, self._events = self._events, []
        self._ahead, self._news = 0, False
        self.consumer_ready()
        return events

    def not_a_stream(self) -> str | None:
        """After the body ended with no event: why it is no event stream (`not_a_stream`)."""
        if self._lines is None:
            return None
        return not_a_stream(self.headers.get("content-type", ""), self._lines)

    @property
    def finished(self) -> bool:
        """The response ended cleanly (its whole body read): the connection may be reused."""
        return self._ended and self._failure is None and self.reusable and not self.closed

    def release(self, keep: Callable[[Response], None]) -> None:
        """The caller is done with this response. A connection read to its end goes to `keep`:
        now, or when the end of the body comes (within `TAIL_WAIT_S`) after a `[DONE]` that
        came before it; any other is closed."""
        self._unpace()
        if self.finished:
            self._active = False
            keep(self)
        elif self._lines is not None and self._lines.done and not self._ended and not self.closed:
            self._keep = keep
            loop = asyncio.get_running_loop()
            self._keep_timer = loop.call_later(TAIL_WAIT_S, self.abort)
        else:
            self.abort()

    def _kept(self) -> None:
        keep = self._keep
        self._drop_keep()
        if keep is not None:
            self._active = False
            if self.finished:
                keep(self)
            else:
                self.abort()

    def abort(self) -> None:
        """Drop the connection at once (a cancelled stream: the server stops generating)."""
        self.closed = True
        self.reusable = False
        self._active = False
        self._drop_keep()
        self._unpace()
        if self.transport is not None:
            self.transport.abort()

    def _drop_keep(self) -> None:
        self._keep = None
        if self._keep_timer is not None:
            self._keep_timer.cancel()
            self._keep_timer = None

    async def wait_closed(self) -> None:
        """Until the socket is closed (abort() closes it on the loop's next turn)."""
        if self._lost is not None:
            await asyncio.shield(self._lost)


async def connect(
    request: Request, line_cap: int, max_ahead: int, context: ssl.SSLContext | None
) -> Response:
    """A new connection to the request's server (TLS for https, with `context`)."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: Response(line_cap, max_ahead),
        request.host,
        request.port,
        ssl=(context or tls_context()) if request.tls else None,
        server_hostname=request.host if request.tls else None,
    )
    protocol.key = request.key
    return protocol


def _as_malformed(e: Exception) -> Malformed:
    if isinstance(e, Malformed):
        return e
    if isinstance(e, zlib.error):
        return Malformed("a compressed body that does not decompress")
    return Malformed(f"the answer could not be read ({type(e).__name__})")


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
