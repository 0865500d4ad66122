"""Stream code from any OpenAI-compatible chat endpoint (OpenAI, llama.cpp, Ollama, vLLM, …).

Why the care around cancelling and errors: the eager runner stops generation as soon as
executed code fails, so `aclose()` must drop the HTTP stream at once (the server then stops
decoding), and whatever goes wrong must reach the user as one clear sentence that never
contains the API key.

Two ways to the endpoint: sse_http (an asyncio protocol that parses the answer where its bytes
arrive) for every plain http(s) URL, and the SDK's own transport (`_RawStream`) where a proxy
from the environment applies, which sse_http does not speak. The SDK also lists the models
when none is configured. Both ways map their failures to the same sentences (`map_error`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import ssl
import sys
import time
import urllib.request
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import openai

from eager_lsp import __version__

from . import sse_http
from .base import ProviderError
from .config import LLMConfig

log = logging.getLogger(__name__)

try:  # the HTTP library under the SDK (renamed httpx2 in recent SDKs)
    from httpx2 import TransportError as _TransportError  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - older SDKs
    from httpx import TransportError as _TransportError  # type: ignore[import-not-found,no-redef,unused-ignore]

_MAX_AHEAD = 1 << 16  # characters read before the consumer takes them, at most
_AHEAD_BYTES = 1 << 20  # bytes of events a direct response parses before the pump takes them
_DETAIL_CAP = 300  # characters of a server's own message in an error, at most
_IDLE_CONNECTIONS = 8  # kept open for the next request to the same server, at most
_EVENT_LINE_CAP = 4 << 20  # bytes of one server-sent event line, at most
_TICK_PER_STREAM_S = 0.002  # the shared read tick (ReadClock) per stream read at once


def _tick_cap() -> float:
    """The read tick's cap in seconds: `EAGER_LSP_READ_TICK_MS` (0 turns the tick off; a
    value that is not a number between 0 and 1,000 keeps the default, 20 ms)."""
    try:
        ms = float(os.environ.get("EAGER_LSP_READ_TICK_MS", "20"))
    except ValueError:
        ms = 20.0
    return ms / 1000 if 0 <= ms <= 1000 else 0.02


_TICK_MAX_S = _tick_cap()
_BACKOFF_S = 0.25  # first retry delay; doubles per attempt
# Keep-alive comments and empty deltas extend a wait for text up to this many times `timeout_s`.
KEEP_ALIVE_LIMIT = 5


class OpenAIChatProvider:
    """Chat completions over the `openai` SDK; one instance per configuration."""

    def __init__(self, config: LLMConfig) -> None:
        if not config.base_url:
            raise ValueError("OpenAIChatProvider needs a base_url (call config.resolve() first)")
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._model: str | None = config.model
        self._stream_options = True  # dropped once if the server rejects it
        self.direct = _direct_ok(self.base_url)  # read with sse_http, not the SDK's transport
        self._tls: ssl.SSLContext | None = None
        self._idle: list[tuple[asyncio.AbstractEventLoop, Any, sse_http.Response]] = []

    def stream(self, messages: list[dict[str, Any]]) -> OpenAIChatStream:
        """Start lazily: the request goes out on first iteration, so errors surface there."""
        return OpenAIChatStream(self, messages)

    # -- helpers used by the stream ----------------------------------------------------------

    def client(self) -> openai.AsyncOpenAI:
        # An httpx client belongs to the event loop that first used it.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.config.api_key or "no-key",  # local servers ignore it
                timeout=self.config.timeout_s,
                max_retries=0,  # we retry connection failures ourselves, before the first token
            )
            self._client_loop = loop
        return self._client

    def scrub(self, text: str) -> str:
        """The text without the API key: in any letter case, and as a repr escapes it."""
        key = self.config.api_key
        if key and len(key) >= 4:
            for form in {key, repr(key)[1:-1], key.encode("unicode_escape").decode("ascii")}:
                text = re.sub(re.escape(form), "***", text, flags=re.IGNORECASE)
        return text

    def refuse_unsendable(self) -> None:
        """A key or URL that HTTP cannot carry as is (a line break would inject a header) is
        refused before anything is sent, whichever way the request would go."""
        key = self.config.api_key or ""
        if sse_http.has_control(key) or not key.isascii():
            raise ProviderError(
                "auth", "The API key has a line break or a character HTTP headers cannot carry"
            )
        if sse_http.has_control(self.base_url):
            raise ProviderError("connection", "The model's base URL has a control character")

    async def model(self) -> str:
        """The configured model, else the first one the server lists (local servers)."""
        if self._model is None:
            page = await self.client().models.list()
            ids = [m.id for m in page.data]
            if not ids:
                raise ProviderError(
                    "server", f"No model configured and {self.base_url} lists none; set llm.model"
                )
            self._model = ids[0]
        return self._model

    def timeout_error(
        self, *, chars: int, started: bool, keep_alive: bool = False
    ) -> ProviderError:
        if keep_alive:
            return ProviderError(
                "connection",
                f"The model sent no text for {self.config.timeout_s * KEEP_ALIVE_LIMIT:g} s"
                f" after {chars} characters, only keep-alive messages"
                f" ({KEEP_ALIVE_LIMIT} times llm.timeoutSeconds)",
            )
        if started:
            return ProviderError(
                "connection",
                f"The model stream stalled for {self.config.timeout_s:g} s after {chars} characters",
            )
        return ProviderError(
            "connection",
            f"The model at {self.base_url} did not answer within {self.config.timeout_s:g} s",
        )

    def map_error(self, e: BaseException, *, chars: int, started: bool) -> ProviderError:
        """Turn a failure into one user-facing sentence, the API key hidden in it."""
        err = self._map_error(e, chars=chars, started=started)
        message, detail = self.scrub(err.message), self.scrub(err.detail)
        if (message, detail) == (err.message, err.detail):
            return err
        return ProviderError(err.kind, message, status=err.status, detail=detail)

    def _map_error(self, e: BaseException, *, chars: int, started: bool) -> ProviderError:
        if isinstance(e, ProviderError):
            return e
        where = self.base_url
        if isinstance(e, openai.APITimeoutError):
            return self.timeout_error(chars=chars, started=started)
        if isinstance(e, openai.APIConnectionError | sse_http.Dropped | OSError):
            if started:
                return ProviderError(
                    "connection", f"The connection dropped mid-stream after {chars} characters"
                )
            return ProviderError("connection", f"Cannot reach the model at {where}: {_reason(e)}")
        if isinstance(e, openai.APIStatusError | sse_http.StatusError):
            if isinstance(e, sse_http.StatusError):
                status, detail = e.status, e.detail()
            else:
                status, detail = e.status_code, _detail(e)
            detail = self.scrub(detail)[:_DETAIL_CAP]  # (hidden first: a cut key is not found)
            suffix = f": {detail}" if detail else ""
            if status == 401:
                return ProviderError(
                    "auth",
                    f"The model endpoint rejected the API key ({status})",
                    status=status,
                    detail=detail,
                )
            if status == 403:
                return ProviderError(
                    "auth",
                    f"The model endpoint refused access ({status}){suffix}",
                    status=status,
                    detail=detail,
                )
            if status == 429:
                return ProviderError(
                    "rate_limit",
                    f"Rate limited by the model endpoint ({status}){suffix}",
                    status=status,
                    detail=detail,
                )
            if status == 404:
                return ProviderError(
                    "server",
                    f"The model endpoint has no model {self._model!r} or no chat API at {where} "
                    f"({status}){suffix}",
                    status=status,
                    detail=detail,
                )
            return ProviderError(
                "server",
                f"The model endpoint failed ({status}){suffix}",
                status=status,
                detail=detail,
            )
        if isinstance(e, json.JSONDecodeError | openai.APIError | sse_http.Malformed):
            detail = self.scrub(getattr(e, "message", "") or str(e))[:_DETAIL_CAP]
            return ProviderError(
                "bad_stream",
                f"The model stream was malformed after {chars} characters ({detail})",
            )
        return ProviderError("bad_stream", f"The model stream failed: {type(e).__name__}")

    # -- the direct way (sse_http): requests, kept connections --------------------------------

    def request(self, body: dict[str, Any]) -> sse_http.Request:
        """The chat request as the SDK would send it (its key, organisation and project)."""
        headers = {
            "Authorization": f"Bearer {self.config.api_key or 'no-key'}",
            "User-Agent": f"eager-lsp/{__version__}",
        }
        for env, name in (
            ("OPENAI_ORG_ID", "OpenAI-Organization"),
            ("OPENAI_PROJECT_ID", "OpenAI-Project"),
        ):
            if os.environ.get(env):
                headers[name] = os.environ[env]
        data = json.dumps(body, ensure_ascii=False).encode()
        return sse_http.Request(self.base_url + "/chat/completions", data, headers)

    async def send(self, request: sse_http.Request) -> sse_http.Response:
        """Send on a kept connection to that server, else a new one; the response's headers
        have come when this returns. A kept connection the server has closed meanwhile is
        replaced without counting as a failed attempt."""
        loop = asyncio.get_running_loop()
        while self._idle:
            idle_loop, key, conn = self._idle.pop()
            if idle_loop is not loop:  # kept by an earlier event loop (the CLI runs several)
                if not idle_loop.is_closed():
                    idle_loop.call_soon_threadsafe(conn.abort)
                continue
            if key != request.key or conn.closed:
                conn.abort()
                continue
            try:
                return await self._send_on(conn, request)
            except sse_http.Dropped:
                if conn.received_any:
                    raise
        if self._tls is None and request.tls:
            self._tls = sse_http.tls_context()
        conn = await sse_http.connect(request, _EVENT_LINE_CAP, _AHEAD_BYTES, self._tls)
        return await self._send_on(conn, request)

    async def _send_on(
        self, conn: sse_http.Response, request: sse_http.Request
    ) -> sse_http.Response:
        try:
            await conn.send(request, read_clock())
        except sse_http.StatusError:
            self.give_back(conn)  # (kept if the error's body was read to its end)
            raise
        except BaseException:
            conn.abort()
            raise
        return conn

    def give_back(self, conn: sse_http.Response) -> None:
        """Keep a connection whose response was read to its end, else close it."""
        conn.release(self._keep)

    def _keep(self, conn: sse_http.Response) -> None:
        if len(self._idle) < _IDLE_CONNECTIONS and conn.key is not None:
            self._idle.append((asyncio.get_running_loop(), conn.key, conn))
        else:
            conn.abort()


def _direct_ok(base_url: str) -> bool:
    """Whether sse_http can send to this URL: http(s) with no credentials in it and no proxy
    from the environment for it (the SDK's transport honours HTTP(S)_PROXY, ALL_PROXY and
    NO_PROXY; those requests keep going through it)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return False
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # (not in typeshed)
    return not proxy or bool(bypass(parts.hostname, proxies))


class OpenAIChatStream:
    """One streamed completion. Iterate once; `aclose()` may be called from any task.

    One task (the pump) drives the response for the stream's whole life and appends the text
    to a buffer; each `__anext__` takes everything buffered since the last one. So a reader
    that falls behind gets one piece for several tokens instead of a wake-up per token, and no
    read costs a task or a timed wait of its own (they were about a sixth of the CPU of
    reading a stream, profiled). A direct response (sse_http) appends its text from the read
    that parsed it (`_on_events`), so the pump wakes only for its end or a failure, not once
    per read. A single timer watches for stalls.
    """

    def __init__(self, provider: OpenAIChatProvider, messages: list[dict[str, Any]]) -> None:
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.deltas = 0  # the model's text deltas read so far (about one per token)
        self._provider = provider
        self._messages = messages
        self._gen = self._produce()
        self._sdk_stream: _RawStream | None = None
        self._pump: asyncio.Task[None] | None = None
        self._text: list[str] = []  # read, not yet taken by the consumer
        self._ahead = 0  # characters in `_text`
        self._error: BaseException | None = None
        self._ended = False  # the pump finished: the end, an error, or a close
        self._waiting: asyncio.Future[None] | None = None  # the consumer, parked
        self._room: asyncio.Future[None] | None = None  # the pump, parked while far ahead
        self._watchdog: asyncio.TimerHandle | None = None
        self._closed = False
        self._started = False  # the server answered with a stream
        self._chars = 0
        self._direct: sse_http.Response | None = None  # a direct response handing us its text
        self._begun = time.monotonic()
        self._last_activity = self._begun
        self._last_text = self._begun  # (keep-alives extend a wait, but not for ever: `_deadline`)

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        if self._pump is None:  # the first read: the request starts now
            self._begun = self._last_activity = self._last_text = time.monotonic()
            self._pump = asyncio.ensure_future(self._run_pump())
            self._arm_watchdog()
        while not self._text:
            if self._closed:  # aclose() from another task
                raise StopAsyncIteration
            if self._error is not None:
                error, self._error = self._error, None
                await self.aclose()
                raise error
            if self._ended:
                self._closed = True
                raise StopAsyncIteration
            waiting = self._waiting = asyncio.get_running_loop().create_future()
            try:
                await waiting
            except BaseException:  # our caller was cancelled: stop the read too
                self._pump.cancel()
                raise
            finally:
                self._waiting = None
        text = "".join(self._text) if len(self._text) > 1 else self._text[0]
        self._text.clear()
        self._ahead = 0
        if self._direct is not None:
            if self._direct.held_by_consumer:
                self._last_activity = self._last_text = time.monotonic()  # our pause
            self._direct.consumer_ready()
        if self._room is not None and not self._room.done():
            self._last_activity = self._last_text = time.monotonic()  # our pause
            _wake(self._room)
        return text

    async def _run_pump(self) -> None:
        try:
            async for piece in self._gen:
                self._text.append(piece)
                self._ahead += len(piece)
                _wake(self._waiting)
                if self._ahead >= _MAX_AHEAD:  # the consumer stopped taking: stop reading
                    room = self._room = asyncio.get_running_loop().create_future()
                    await room
        except asyncio.CancelledError:
            pass  # aclose(), the watchdog or a cancelled consumer; each knows why
        except Exception as e:
            self._error = e
        finally:
            self._ended = True
            if self._watchdog is not None:
                self._watchdog.cancel()
            _wake(self._waiting)

    def _arm_watchdog(self, after: float | None = None) -> None:
        # Looked at again within `timeout_s` at most: the deadline moves closer once the
        # server answers (a stall is counted from its last sign of life).
        timeout = self._provider.config.timeout_s
        left = after if after is not None else min(self._deadline() - time.monotonic(), timeout)
        self._watchdog = asyncio.get_running_loop().call_later(max(0.0, left), self._check_stall)

    def _check_stall(self) -> None:
        """The server went quiet (the SDK's read timeout misses stalls inside the body)."""
        if self._ended:
            return
        parked = self._room is not None and not self._room.done()
        if parked or (self._direct is not None and self._direct.held_by_consumer):
            self._arm_watchdog(self._provider.config.timeout_s)  # our reader is slow
            return
        if time.monotonic() < self._deadline():
            self._arm_watchdog()
            return
        cfg = self._provider.config
        keep_alive = self._started and self._last_activity + cfg.timeout_s > time.monotonic()
        self._error = self._provider.timeout_error(
            chars=self._chars, started=self._started, keep_alive=keep_alive
        )
        if self._pump is not None:
            self._pump.cancel()

    def _deadline(self) -> float:
        """When silence becomes an error: `timeout_s` after the last sign of life, a keep-alive
        comment or an empty delta included (a server thinking about a long prompt), but no
        later than KEEP_ALIVE_LIMIT times `timeout_s` after the last text (a server that only
        ever sends keep-alives held `--timeout 3` for good); before the server answered, room
        for every connection attempt and the backoff between them."""
        cfg = self._provider.config
        if self._started:
            return min(
                self._last_activity + cfg.timeout_s,
                self._last_text + cfg.timeout_s * KEEP_ALIVE_LIMIT,
            )
        retries = cfg.connect_retries
        return self._begun + cfg.timeout_s * (retries + 1) + _BACKOFF_S * 2 ** (retries + 1)

    async def aclose(self) -> None:
        """Stop now: cancel a pending read, then close the HTTP response."""
        self._closed = True
        if self._watchdog is not None:  # (a pump cancelled before it ran never reaches its
            self._watchdog.cancel()  # own `finally`, which cancels it too)
        pump = self._pump
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.wait({pump})  # its cleanup closes the response; let it finish
        try:
            await self._gen.aclose()
        except (RuntimeError, ProviderError):
            pass
        if self._sdk_stream is not None:
            await self._sdk_stream.close()
        _wake(self._waiting)

    async def _open(self) -> Any:
        """Send the request, retrying connection failures (never timeouts or HTTP errors)."""
        p = self._provider
        cfg = p.config
        p.refuse_unsendable()
        attempt = 0
        while True:
            try:
                model = await p.model()
                kwargs: dict[str, Any] = {
                    "model": model,
                    "messages": self._messages,
                    "stream": True,
                    "temperature": cfg.temperature,
                    "max_tokens": cfg.max_tokens,
                }
                if p._stream_options:
                    kwargs["stream_options"] = {"include_usage": True}
                log.debug("chat request to %s (model %s, attempt %d)", p.base_url, model, attempt)
                if p.direct:
                    return await self._open_direct(kwargs)
                # The raw SSE body, not the SDK's per-chunk pydantic models: constructing one
                # cost about 0.09 ms per token, near the server's whole budget per token.
                return await _RawStream.open(
                    p.client().chat.completions.with_streaming_response.create(**kwargs)
                )
            except asyncio.TimeoutError:  # (before openai's errors: on 3.11 it is an OSError)
                raise p.timeout_error(chars=0, started=False) from None
            except openai.APITimeoutError as e:
                raise p.map_error(e, chars=0, started=False) from None
            except (openai.APIConnectionError, sse_http.Dropped, OSError) as e:
                if attempt >= cfg.connect_retries:
                    raise p.map_error(e, chars=0, started=False) from None
                attempt += 1
                log.info("model endpoint %s unreachable, retry %d", p.base_url, attempt)
                await asyncio.sleep(_BACKOFF_S * 2 ** (attempt - 1))
            except (openai.BadRequestError, sse_http.StatusError) as e:
                if isinstance(e, sse_http.StatusError):
                    rejected = e.status == 400 and b"stream_options" in e.body
                else:
                    rejected = "stream_options" in str(e.body or e.message)
                if p._stream_options and rejected:
                    p._stream_options = False  # an older server: ask again without usage
                    continue
                raise p.map_error(e, chars=0, started=False) from None
            except (openai.APIError, sse_http.Malformed) as e:
                raise p.map_error(e, chars=0, started=False) from None

    async def _open_direct(self, body: dict[str, Any]) -> _DirectStream:
        p = self._provider
        try:
            request = p.request(body)
        except ValueError as e:  # a line break in the key or the URL: never sent
            raise ProviderError("connection", f"Cannot send the request to {p.base_url}: {e}")
        # Connecting and the answer's headers within `timeout_s`, as the SDK's timeout did
        # (the stall watchdog then watches the body).
        response = await asyncio.wait_for(p.send(request), p.config.timeout_s)
        return _DirectStream(p, response)

    async def _produce(self) -> AsyncGenerator[str, None]:
        p = self._provider
        for attempt in range(p.config.connect_retries + 1):
            stream = await self._open()
            self._sdk_stream = stream
            self._started = True
            self._last_activity = time.monotonic()
            if isinstance(stream, _DirectStream):
                # The text goes to the consumer from the read itself: no turn of this task
                # per read (only the end or a failure comes through `stream` below).
                stream.response.on_events = self._on_events
                self._direct = stream.response
            try:
                async for batch in stream:
                    self._last_activity = time.monotonic()
                    text = self._text_of(batch)
                    if text:
                        self._last_text = self._last_activity
                        yield text
            except (openai.APIConnectionError, sse_http.Dropped) as e:
                if self._chars == 0 and attempt < p.config.connect_retries:
                    continue  # nothing was shown yet: a reconnect is invisible
                raise p.map_error(e, chars=self._chars, started=True) from None
            except (json.JSONDecodeError, openai.APIError, sse_http.Malformed) as e:
                raise p.map_error(e, chars=self._chars, started=True) from None
            finally:
                self._direct = None
                await stream.close()
            if self.finish_reason is None and (why := stream.not_a_stream()):
                # A 200 that is no stream at all (a web page, a completion sent whole): named,
                # not taken for a drop. Its text is not taken from a completion sent whole:
                # the code runs as it streams, and that server never streams.
                raise ProviderError("bad_stream", p.scrub(why))
            break
        if self.finish_reason is None:
            # The body ended without a finish_reason: the server went away mid-answer.
            raise ProviderError(
                "connection", f"The connection dropped mid-stream after {self._chars} characters"
            )
        if self._chars == 0:
            raise ProviderError("empty", "The model returned no code")
        if self.finish_reason == "length":
            # Cut by max_tokens: the statement being written is as it was when the limit came
            # (`total = price` of `total = price * quantity`), complete to the parser and
            # wrong. Ending the stream as an error, not as its end, means that statement is not
            # released (core/interpreter.py: a source that fails keeps what was complete).
            raise ProviderError(
                "length",
                f"The model reached its token limit (llm.maxTokens = {p.config.max_tokens}) "
                "before it finished: the statement it was writing was not run",
            )
        log.debug("stream done: %d characters, finish_reason=%s", self._chars, self.finish_reason)

    def _text_of(self, batch: list[dict[str, Any]]) -> str:
        """The text of a batch of events (one pass per event: there is one per token); notes
        the finish reason and usage as they come."""
        pieces = []
        for chunk in batch:
            choices = chunk.get("choices")
            for choice in choices if isinstance(choices, list) else ():
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                piece = delta.get("content") if isinstance(delta, dict) else None
                if piece and isinstance(piece, str):
                    pieces.append(piece)
                if choice.get("finish_reason"):
                    self.finish_reason = choice["finish_reason"]
            if "usage" in chunk or "timings" in chunk:
                self._note_usage(chunk)
        if not pieces:
            return ""
        self.deltas += len(pieces)
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        if not text.isascii():
            text = _no_lone_surrogates(text)
        self._chars += len(text)
        return text

    def _on_events(self, batch: list[dict[str, Any]]) -> bool:
        """A direct response's events as its read parsed them (sse_http.Response.on_events):
        their text goes into the buffer the consumer takes from; True once it holds
        `_MAX_AHEAD` characters (the response stops reading until the consumer takes)."""
        self._last_activity = time.monotonic()  # (an empty batch: a sign of life)
        text = self._text_of(batch)
        if text:
            self._last_text = self._last_activity
        if text and not self._closed:
            self._text.append(text)
            self._ahead += len(text)
            _wake(self._waiting)
        return self._ahead >= _MAX_AHEAD

    def _note_usage(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if isinstance(usage, dict) or "timings" in chunk:
            merged = dict(self.usage or {})
            if isinstance(usage, dict):
                merged.update({k: v for k, v in usage.items() if v is not None})
            if "timings" in chunk:  # llama.cpp reports speeds here
                merged["timings"] = chunk["timings"]
            self.usage = merged


class _RawStream:
    """A streamed chat response read through the SDK's transport (the way taken when a proxy
    applies) as server-sent events: one dict per `data:` line.

    The SDK still sends the request and maps HTTP errors (status, connection, timeout); only
    the body is read here (its lines by sse_http.EventLines). An `error` object in the stream
    becomes `sse_http.EventError`, a transport failure mid-body `openai.APIConnectionError`.
    """

    def __init__(self, manager: Any, response: Any) -> None:
        self._manager = manager
        self._response = response
        self._closed = False
        self._network: Any = None  # the connection's stream, while its reads are paced
        self._lines: sse_http.EventLines | None = None
        self._clock: ReadClock | None = None  # the clock that counts this response

    @classmethod
    async def open(cls, manager: Any) -> _RawStream:
        response = await manager.__aenter__()
        stream = cls(manager, response)
        stream._pace_reads()
        return stream

    def _pace_reads(self) -> None:
        """Make each socket read of this response wait for the shared read tick.

        The network stream is httpcore's documented `network_stream` extension; its `read`
        is wrapped for this response only and restored in `close()`, before the connection
        can go back to the pool.
        """
        network = self._response.http_response.extensions.get("network_stream")
        read = getattr(network, "read", None)
        if read is None or not hasattr(network, "__dict__"):
            return  # another transport: reads are simply not paced
        clock = self._clock = read_clock()
        direct = _direct_receive(network)

        async def paced_read(max_bytes: int, timeout: float | None = None) -> bytes:
            await clock.tick()
            if direct is not None:
                return await direct(max_bytes)
            return bytes(await read(max_bytes, timeout))

        network.read = paced_read
        self._network = network
        clock.streams += 1

    def __aiter__(self) -> AsyncIterator[list[dict[str, Any]]]:
        return self._events()

    async def _events(self) -> AsyncIterator[list[dict[str, Any]]]:
        """The events of each piece of body as it arrives, one list per piece: the layers
        above wake once per read, not once per token."""
        http = self._response.http_response
        lines = self._lines = sse_http.EventLines(_EVENT_LINE_CAP)
        seen = 0  # complete lines when the last batch was handed on
        body = http.aiter_bytes()
        try:
            while not lines.done:
                data = await anext(body, None)
                batch: list[dict[str, Any]] = []
                try:
                    if data is None:
                        lines.end(batch)
                    else:
                        lines.feed(data, batch)
                except sse_http.Malformed:
                    if batch:  # what came before the bad event is still delivered first
                        yield batch
                    raise
                if data is None:
                    if batch:
                        yield batch
                    return
                if batch or lines.lines != seen:
                    seen = lines.lines
                    yield batch  # (empty when only comments came: a keep-alive is a sign of life)
        except _TransportError as exc:
            raise openai.APIConnectionError(request=http.request) from exc

    def not_a_stream(self) -> str | None:
        """After the body ended with no event: why it is no event stream (sse_http)."""
        if self._lines is None:
            return None
        content_type = self._response.http_response.headers.get("content-type", "")
        return sse_http.not_a_stream(content_type, self._lines)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._network is not None and self._clock is not None:
                self._network.__dict__.pop("read", None)
                self._network = None
                self._clock.streams -= 1
            await self._manager.__aexit__(None, None, None)


class _DirectStream:
    """A response read by sse_http, shaped as `_RawStream` is for `_produce`."""

    def __init__(self, provider: OpenAIChatProvider, response: sse_http.Response) -> None:
        self._provider = provider
        self._response = response
        self._closed = False

    @property
    def response(self) -> sse_http.Response:
        return self._response

    def __aiter__(self) -> AsyncIterator[list[dict[str, Any]]]:
        return self._events()

    async def _events(self) -> AsyncIterator[list[dict[str, Any]]]:
        while True:
            batch = await self._response.take()
            if batch is None:
                return
            yield batch

    def not_a_stream(self) -> str | None:
        """After the body ended with no event: why it is no event stream (sse_http)."""
        return self._response.not_a_stream()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._response.on_events = None  # (a kept connection serves the next request)
            self._provider.give_back(self._response)  # (closed unless read to its end)
            if self._response.closed:
                await self._response.wait_closed()  # the server sees the hang-up at once


class ReadClock:
    """One tick for the socket reads of every model stream of an event loop.

    With one stream, reads are not held: each token is read as it arrives. With several,
    each read waits for the next tick, a few milliseconds away, so a wake-up reads every
    stream at once and each read takes the tokens that came meanwhile. Waking per token
    costs the same CPU whatever it carries (about 0.1-0.3 ms here); ten documents at 200
    tokens/s are 2,000 of them a second. The tick grows with the number of streams, up to
    `_TICK_MAX_S`, which bounds what it adds to any token's latency.
    """

    def __init__(self) -> None:
        self.streams = 0  # responses being read
        self._due: dict[float, list[Callable[[], None]]] = {}

    def period(self) -> float:
        if self.streams < 2:
            return 0.0
        return min(_TICK_MAX_S, _TICK_PER_STREAM_S * self.streams)

    async def tick(self) -> None:
        if self.period() <= 0.0:
            return  # (a lone stream: no future to make)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.at_tick(functools.partial(_wake, waiter))
        await waiter

    def at_tick(self, callback: Callable[[], None]) -> bool:
        """Call back on the next tick; False (and no call) while reads are not held."""
        period = self.period()
        if period <= 0.0:
            return False
        loop = asyncio.get_running_loop()
        at = (loop.time() // period + 1) * period
        due = self._due.get(at)
        if due is None:
            due = self._due[at] = []
            loop.call_at(at, self._fire, at)
        due.append(callback)
        return True

    def _fire(self, at: float) -> None:
        for callback in self._due.pop(at, ()):
            callback()


_clocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReadClock] = (
    weakref.WeakKeyDictionary()
)


def read_clock() -> ReadClock:
    """The read clock of the running event loop."""
    loop = asyncio.get_running_loop()
    clock = _clocks.get(loop)
    if clock is None:
        clock = _clocks[loop] = ReadClock()
    return clock


def _direct_receive(network: Any) -> Callable[[int], Awaitable[bytes]] | None:
    """A read of the socket under httpcore's AnyIO stream, or None for another transport.

    httpcore wraps every read in a timeout scope and an exception map, about a third of a
    read's CPU; with ten streams at 200 tokens/s that is noticeable. This reads the AnyIO byte
    stream directly and maps its errors as httpcore does (end of stream: no bytes; a broken or
    closed stream: httpcore's `ReadError`, which the SDK reports as a connection error). The
    per-read timeout it skips is covered by the stall watchdog (`_check_stall`), which also
    catches a server that sends nothing inside the body.
    """
    cls = type(network)
    receive = getattr(getattr(network, "_stream", None), "receive", None)
    package = sys.modules.get(cls.__module__.partition(".")[0])
    read_error = getattr(package, "ReadError", None)
    if cls.__name__ != "AnyIOStream" or receive is None or not isinstance(read_error, type):
        return None
    import anyio

    async def direct(max_bytes: int) -> bytes:
        try:
            return bytes(await receive(max_bytes=max_bytes))
        except anyio.EndOfStream:
            return b""
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise read_error(str(exc) or type(exc).__name__) from exc

    return direct


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _no_lone_surrogates(text: str) -> str:
    """JSON may carry a lone surrogate (`"\\ud800"`), which no editor can take: U+FFFD, as for
    a broken UTF-8 byte."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def _detail(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, str):
            return msg
    if isinstance(body, str):
        return body
    return ""


def _reason(e: BaseException) -> str:
    """The innermost cause, shortened: "connection refused", "name resolution failed", …"""
    text = ""
    refused = False
    cur: BaseException | None = e
    for _ in range(10):  # cause chains can loop
        if cur is None:
            break
        text = str(cur) or text
        refused = refused or isinstance(cur, ConnectionRefusedError)
        cur = cur.__cause__ or cur.__context__
    low = text.lower()
    if refused or "refused" in low or "connect call failed" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low:
        return "host name not found"
    if "timed out" in low:
        return "connection timed out"
    return text or "connection failed"
