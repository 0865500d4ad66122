"""The direct way of reading a chat stream (providers/sse_http.py) against a real socket server
that answers with scripted bytes: the HTTP framings and oddities the OpenAI-style test server
never sends, bounds, kept connections, and which URLs go through the SDK instead."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from eager_lsp.providers import sse_http
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig
from eager_lsp.providers.openai_chat import OpenAIChatProvider, _direct_ok

MESSAGES = [{"role": "user", "content": "write code"}]


def events(*texts: str, finish: bool = True) -> bytes:
    out = b""
    for t in texts:
        chunk = {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    if finish:
        out += b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
    return out + b"data: [DONE]\n\n"


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


PAUSE = b"<pause>"  # in a scripted reply: 50 ms between the parts


@dataclass
class Scripted:
    """A server answering each request with the next scripted reply (bytes, written as is;
    `close` after it closes the connection)."""

    replies: list[tuple[bytes, bool]]
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    url: str = ""


@asynccontextmanager
async def scripted(
    *replies: tuple[bytes, bool], tls: ssl.SSLContext | None = None
) -> AsyncIterator[Scripted]:
    state = Scripted(list(replies))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while state.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                state.requests.append(head + await reader.readexactly(length))
                reply, close = state.replies.pop(0)
                for i, part in enumerate(reply.split(PAUSE)):
                    if i:
                        await asyncio.sleep(0.05)
                    writer.write(part)
                    await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    scheme = "https" if tls else "http"
    state.url = f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    try:
        yield state
    finally:
        server.close()


def provider(url: str, **kw: object) -> OpenAIChatProvider:
    cfg = LLMConfig(provider="openai", base_url=url, api_key="sk-k", model="m", connect_retries=0)
    for k, v in kw.items():
        setattr(cfg, k, v)
    p = OpenAIChatProvider(cfg)
    assert p.direct
    return p


async def text_of(p: OpenAIChatProvider) -> str:
    return "".join([piece async for piece in p.stream(MESSAGES)])


async def error_of(p: OpenAIChatProvider) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await text_of(p)
    return info.value


OK_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


async def test_a_gzip_body_with_a_length() -> None:
    body = gzip.compress(events("x = 1\n", "y = 2\n"))
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        assert await text_of(provider(srv.url)) == "x = 1\ny = 2\n"


async def test_a_body_that_ends_with_the_connection_and_an_interim_answer_first() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n" + events("a = 1\n")
    async with scripted((reply, True)) as srv:
        assert await text_of(provider(srv.url)) == "a = 1\n"


async def test_the_request_is_what_the_sdk_sent() -> None:
    async with scripted((OK_CHUNKED + chunked(events("a = 1\n")), False)) as srv:
        await text_of(provider(srv.url))
    head, _, body = srv.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer sk-k" in head
    assert json.loads(body)["stream"] is True and json.loads(body)["messages"] == MESSAGES


async def test_a_kept_connection_is_reused_and_a_closed_one_replaced() -> None:
    reply = OK_CHUNKED + chunked(events("a = 1\n"))
    async with scripted((reply, False), (reply, True), (reply, True)) as srv:
        p = provider(srv.url)
        assert await text_of(p) == "a = 1\n"
        assert await text_of(p) == "a = 1\n"
        assert srv.connections == 1  # the second request went on the first connection
        # The server closed it after the second reply; the third request finds it closed
        # (or learns so on sending) and opens a new one without an error.
        await asyncio.sleep(0.05)
        assert await text_of(p) == "a = 1\n"
        assert srv.connections == 2


async def test_headers_without_end_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse_http, "HEADERS_CAP", 1000)
    reply = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 5000 + b"\r\n"
    async with scripted((reply, False)) as srv:
        err = await error_of(provider(srv.url))
    assert err.kind == "bad_stream" and "headers are over 1000 bytes" in err.message, err.message


@pytest.mark.parametrize(
    "reply",
    [OK_CHUNKED + b"zz\r\n", b"SSH-2.0-OpenSSH\r\n\r\n", OK_CHUNKED.replace(b"chunked", b"br")],
    ids=["chunk-size", "not-http", "transfer-encoding"],
)
async def test_what_is_not_http_is_a_malformed_stream(reply: bytes) -> None:
    async with scripted((reply, False)) as srv:
        err = await error_of(provider(srv.url))
    assert err.kind == "bad_stream" and err.message.startswith("The model stream was malformed")


async def test_an_error_answer_that_is_not_json_and_never_ends_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sse_http, "ERROR_BODY_CAP", 100)
    reply = (
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>bad gateway" + b"." * 500
    )
    async with scripted((reply, False)) as srv:  # (no length, no end: only the cap ends it)
        err = await asyncio.wait_for(error_of(provider(srv.url)), 10)
    assert err.kind == "server" and err.status == 502
    assert err.message.startswith("The model endpoint failed (502): <html>bad gateway")


async def test_a_line_break_in_the_key_is_refused_before_anything_is_sent() -> None:
    async with scripted() as srv:
        err = await error_of(provider(srv.url, api_key="sk-a\r\nX-Evil: 1"))
        assert srv.connections == 0
    assert err.kind == "auth" and "line break" in err.message
    assert "sk-a" not in err.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1\r\nX-Evil: 1", "http://127.0.0.1:9/v\t1"])
async def test_a_control_character_in_the_url_is_refused_before_anything_is_sent(url: str) -> None:
    err = await error_of(provider(url))
    assert err.kind == "connection" and "control character" in err.message


async def test_a_drop_in_a_chunked_body_after_text_is_a_dropped_connection() -> None:
    body = chunked(events("a = 1\n", "b = 2\n", finish=False))
    async with scripted((OK_CHUNKED + body[: len(body) // 2 + 20], True)) as srv:
        err = await error_of(provider(srv.url))
    assert err.kind == "connection" and "dropped mid-stream" in err.message


def test_a_proxy_from_the_environment_sends_through_the_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert _direct_ok("http://127.0.0.1:8080/v1") and _direct_ok("https://api.example.com/v1")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert not _direct_ok("https://api.example.com/v1")
    assert _direct_ok("http://127.0.0.1:8080/v1")  # only https has a proxy
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert _direct_ok("https://api.example.com/v1")
    monkeypatch.setenv("ALL_PROXY", "http://proxy:3128")
    assert not _direct_ok("http://127.0.0.1:8080/v1")
    assert not _direct_ok("http://user:pw@host/v1")  # credentials in the URL: the SDK's way


async def test_a_direct_stream_that_is_not_read_keeps_no_more_than_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A consumer that stops taking: the connection stops being read at the bound, and
    everything still arrives once the consumer takes again."""
    texts = [f"v{i} = {'x' * 200!r}\n" for i in range(4000)]
    body = events(*texts)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        request = sse_http.Request(srv.url + "/chat/completions", b"{}", {})
        conn = await sse_http.connect(request, 1 << 20, 4096, None)
        from eager_lsp.providers.openai_chat import read_clock

        await conn.send(request, read_clock())
        await asyncio.sleep(0.2)
        # (one read of the event loop, up to 256 KiB, may pass the bound)
        assert conn._ahead < 4096 + (256 << 10) < len(body) and conn.transport is not None
        assert not conn.transport.is_reading()
        got: list[dict[str, object]] = []
        while (batch := await asyncio.wait_for(conn.take(), 10)) is not None:
            got.extend(batch)
        assert len(got) == 4001
        conn.abort()


async def test_https_is_verified_against_the_trusted_authorities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real TLS server whose certificate a throwaway authority signed: refused while that
    authority is not trusted, streamed once `SSL_CERT_FILE` names it (as with the SDK)."""
    ca = trustme.CA()
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    reply = OK_CHUNKED + chunked(events("a = 1\n"))
    async with scripted((reply, False), tls=server_tls) as srv:
        err = await error_of(provider(srv.url))
        assert err.kind == "connection" and "certificate verify failed" in err.message, err
        assert srv.requests == []
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        assert await text_of(provider(srv.url)) == "a = 1\n"


async def test_a_connection_whose_body_ends_just_after_done_is_still_kept() -> None:
    body = chunked(events("a = 1\n"))
    reply = OK_CHUNKED + body[:-5] + PAUSE + body[-5:]  # the last chunk 50 ms after [DONE]
    async with scripted((reply, False), (reply, False)) as srv:
        p = provider(srv.url)
        assert await text_of(p) == "a = 1\n"
        await asyncio.sleep(0.2)
        assert await text_of(p) == "a = 1\n"
        assert srv.connections == 1


async def test_a_compressed_body_that_expands_too_far_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sse_http, "INFLATE_CAP", 1 << 20)
    body = gzip.compress(b": " + b"x" * (8 << 20) + b"\n")  # a comment of 8 MiB, 8 KiB packed
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        err = await error_of(provider(srv.url))
    assert err.kind == "bad_stream" and "expands to over" in err.message, err


def test_a_connection_kept_by_an_earlier_event_loop_is_not_used() -> None:
    """The CLI runs one event loop per command: a connection kept by a loop that has ended is
    dropped, and the next loop's request opens its own."""
    reply = OK_CHUNKED + chunked(events("a = 1\n"))
    p: OpenAIChatProvider | None = None

    async def one() -> str:
        assert p is not None
        return await text_of(p)

    async def both() -> None:
        nonlocal p
        async with scripted((reply, False), (reply, False)) as srv:
            p = provider(srv.url)
            assert await one() == "a = 1\n"
            assert len(p._idle) == 1
            done = asyncio.get_running_loop().create_future()

            def in_another_loop() -> None:
                try:
                    done.get_loop().call_soon_threadsafe(done.set_result, asyncio.run(one()))
                except BaseException as e:
                    done.get_loop().call_soon_threadsafe(done.set_exception, e)

            threading.Thread(target=in_another_loop).start()
            assert await asyncio.wait_for(done, 10) == "a = 1\n"
            assert srv.connections == 2

    asyncio.run(both())


# -- a hostile server (found by trying to break the client) ------------------------------------

KEY = "sk-Hostile-0123456789abcdef"


@pytest.mark.parametrize(
    "reply",
    [
        # the key straddling the 300-character cut of the server's message
        b"HTTP/1.1 500 X\r\nContent-Length: 327\r\n\r\n" + b"x" * 290 + KEY.encode() + b"!",
        b"HTTP/1.1 " + KEY.upper().encode() + b" X\r\n\r\n",  # the key where the status goes
        OK_CHUNKED.replace(b"chunked", b"bearer " + KEY.lower().encode()),
        OK_CHUNKED + KEY.encode() + b"\r\n",  # as a chunk size
        b"HTTP/1.0 200 OK\r\n\r\n"
        + events("a")[:-30]
        + b'data: {"error": "Bearer '
        + KEY.encode()
        + b'"}',
    ],
    ids=["straddling-cut", "status", "encoding", "chunk-size", "error-event-at-close"],
)
async def test_a_server_that_echoes_the_key_never_gets_it_into_an_error(
    reply: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    async with scripted((reply, True)) as srv:
        with pytest.raises(ProviderError) as info:
            await asyncio.wait_for(text_of(provider(srv.url, api_key=KEY, timeout_s=30)), 10)
    err = info.value
    shown = f"{err} {err!r} {err.detail} {err.__context__!r} {err.__cause__!r} {caplog.text}"
    assert KEY[:10].lower() not in shown.lower(), shown


async def test_an_unfinished_bad_last_line_fails_at_once_not_after_the_timeout() -> None:
    reply = b"HTTP/1.0 200 OK\r\n\r\n" + events("a = 1\n", finish=False)[:-16] + b"data: {broken"
    async with scripted((reply, True)) as srv:
        err = await asyncio.wait_for(error_of(provider(srv.url, timeout_s=60)), 10)
    assert err.kind == "bad_stream"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [(b"[" * 200_000, "bad_stream"), (b'{"choices": 5}', "text"), (b'{"choices": true}', "text")],
    ids=["deeply-nested", "choices-int", "choices-true"],
)
async def test_odd_json_is_a_malformed_stream_or_ignored(payload: bytes, kind: str) -> None:
    body = events("a = 1\n").replace(b"data: [DONE]", b"data: " + payload + b"\n\ndata: [DONE]")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        if kind == "text":
            assert await text_of(provider(srv.url)) == "a = 1\n"
        else:
            assert (await error_of(provider(srv.url))).kind == kind


async def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    body = events("x").replace(b'"x"', b'"x\\ud800y"')
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        text = await text_of(provider(srv.url))
    assert text.startswith("x") and text.endswith("y") and "\ufffd" in text
    text.encode("utf-8")  # an editor can take it


async def test_endless_interim_answers_are_refused() -> None:
    async with scripted((b"HTTP/1.1 100 Continue\r\n\r\n" * 10_000, False)) as srv:
        err = await asyncio.wait_for(error_of(provider(srv.url)), 10)
    assert err.kind == "bad_stream" and "interim" in err.message


async def test_a_huge_error_event_is_cut_short() -> None:
    body = b'data: {"error": {"message": "' + b"M" * 3_000_000 + b'"}}\n\n'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with scripted((head + body, False)) as srv:
        err = await asyncio.wait_for(error_of(provider(srv.url)), 10)
    assert err.kind == "bad_stream" and len(err.message) < 400


async def test_a_line_that_never_ends_is_no_sign_of_life() -> None:
    """A byte every 50 ms of a line that never ends, for 3 s: the stall timer (1 s) is not fed
    by it."""
    head = b"HTTP/1.1 200 OK\r\n\r\n"
    async with scripted((head + PAUSE.join([b"d"] * 60), False)) as srv:
        err = await asyncio.wait_for(error_of(provider(srv.url, timeout_s=1.0)), 10)
    assert err.kind == "connection" and "stalled" in err.message, err


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (b'{"a": 1}, {"b": 2}', "not JSON"),  # two values in one event
        (b'{"a": 1} x', "not JSON"),  # something after the value
        (b"\xc2\xa0{}", "not JSON"),  # a no-break space is not JSON whitespace
        (b"[1]", "not an object"),
        (b'{"error": {"message": "quota"}}', "quota"),
        (b"{broken", "not JSON"),
        (b"[" * 5000, "not JSON"),
    ],
    ids=["two-values", "trailing", "nbsp", "array", "error", "broken", "deep"],
)
def test_each_event_is_one_json_object(bad: bytes, error: str) -> None:
    """An event is parsed by the JSON scanner directly (no `json.loads` wrappers): what is
    not exactly one JSON object, or is an error, fails as `json.loads` would have it, with
    the good events before it handed out."""
    good = [{"choices": [{"delta": {"content": f"t{i}"}}]} for i in range(4)]
    data = b"".join(b"data: %s\n\n" % json.dumps(g).encode() for g in good[:2])
    data += b"data: " + bad + b"\n\n" + b"data: %s\n\n" % json.dumps(good[2]).encode()
    lines = sse_http.EventLines(1 << 20)
    out: list[dict[str, object]] = []
    with pytest.raises(sse_http.Malformed, match=error):
        lines.feed(data, out)
    assert out == good[:2]
    ok = sse_http.EventLines(1 << 20)
    out = []
    ok.feed(b"".join(b"data: %s\n\n" % json.dumps(g).encode() for g in good), out)
    ok.feed(b"data: [DONE]\n\ndata: " + json.dumps(good[0]).encode() + b"\n\n", out)
    assert out == good and ok.done


async def test_bytes_that_came_while_held_are_read_on_the_tick_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With several streams, a read is held to the shared tick; bytes that came meanwhile are
    read in the tick's own callback (asyncio's socket transport reads once without waiting),
    not by resuming the transport for the loop's next turn to read and pause it again. A tick
    that finds nothing resumes it, as before; the text is whole either way."""
    from eager_lsp.providers import openai_chat

    monkeypatch.setattr(openai_chat, "_TICK_MAX_S", 0.2)  # a long tick: parts come within one
    clock = openai_chat.read_clock()
    clock.streams += 99  # as if 99 other streams were being read: a 200 ms tick
    texts = [f"v{i} = {i}\n" for i in range(8)]
    body = chunked(events(*texts), size=40)
    parts = [body[i : i + 60] for i in range(0, len(body), 60)]
    try:
        async with scripted((OK_CHUNKED + PAUSE.join(parts), False)) as srv:
            request = sse_http.Request(srv.url + "/chat/completions", b"{}", {})
            conn = await sse_http.connect(request, 1 << 20, 1 << 20, None)
            assert conn.transport is not None
            resumes: list[bool] = []
            on_tick: list[bool] = []
            resume, read_now = conn.transport.resume_reading, conn._read_now

            def counted_resume() -> None:  # (the body's end resumes it too, to keep it)
                resumes.append(conn._ended)
                resume()

            monkeypatch.setattr(conn.transport, "resume_reading", counted_resume)

            def counted_read_now() -> bool:
                on_tick.append(read_now())
                return on_tick[-1]

            monkeypatch.setattr(conn, "_read_now", counted_read_now)
            await conn.send(request, clock)
            got: list[dict[str, object]] = []
            while (batch := await asyncio.wait_for(conn.take(), 10)) is not None:
                got.extend(batch)
            conn.release(lambda _: None)
            conn.abort()
    finally:
        clock.streams -= 99
    content = [c["choices"][0]["delta"].get("content") for c in got]  # type: ignore[index]
    assert "".join(t for t in content if t) == "".join(texts)
    assert any(on_tick), "no read happened on the tick itself"
    assert resumes.count(False) == on_tick.count(False)  # only a tick that found nothing


async def test_a_direct_stream_hands_its_text_over_from_the_read_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The text of a direct response goes into the consumer's buffer from the read that
    parsed it (`Response.on_events`), not through a turn of the stream's own task per read."""
    from eager_lsp.providers.openai_chat import OpenAIChatStream

    handed: list[int] = []
    on_events = OpenAIChatStream._on_events

    def counted(self: OpenAIChatStream, batch: list[dict[str, object]]) -> bool:
        handed.append(len(batch))
        return on_events(self, batch)

    monkeypatch.setattr(OpenAIChatStream, "_on_events", counted)
    texts = [f"x{i} = {i}\n" for i in range(6)]
    parts = []
    for t in texts:  # one chunk each
        chunk = {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
        parts.append(b"%x\r\n%s\r\n" % (len(event), event))
    parts.append(chunked(events()))  # the finish, [DONE] and the body's end
    reply = OK_CHUNKED + PAUSE + PAUSE.join(parts)  # each 50 ms after the one before
    async with scripted((reply, False)) as srv:
        assert await text_of(provider(srv.url)) == "".join(texts)
    assert len(handed) >= 3 and sum(handed) >= len(texts)


async def test_a_consumer_that_stops_taking_stops_the_direct_read_until_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eager_lsp.providers import openai_chat

    monkeypatch.setattr(openai_chat, "_MAX_AHEAD", 1000)
    texts = [f"v{i} = {'x' * 200!r}\n" for i in range(6000)]  # over a read (256 KiB)
    body = chunked(events(*texts), size=4096)
    async with scripted((OK_CHUNKED + PAUSE + body, False)) as srv:  # the body after 50 ms
        stream = provider(srv.url).stream(MESSAGES)
        got = [await stream.__anext__()]
        await asyncio.sleep(0.3)  # the consumer does not take: reading stops at the bound
        direct = stream._direct
        assert direct is not None and direct.held_by_consumer
        assert 1000 <= stream._ahead < 1000 + (300 << 10)
        got += [piece async for piece in stream]  # taking resumes it, to the end
    assert "".join(got) == "".join(texts)


async def test_a_stream_held_for_a_tick_that_stops_reads_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another stream ends while this one waits for the tick: the tick reads what came, and
    as no later tick will come (one stream left), the transport must read again by itself. It
    stayed paused, and the stream stalled until the watchdog failed it (a reviewer's find)."""
    from eager_lsp.providers import openai_chat

    monkeypatch.setattr(openai_chat, "_TICK_MAX_S", 0.2)
    clock = openai_chat.read_clock()
    clock.streams += 99  # others being read: a 200 ms tick
    texts = [f"v{i} = {i}\n" for i in range(8)]
    parts = []
    for t in texts:  # one chunk each, 50 ms apart
        chunk = {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
        parts.append(b"%x\r\n%s\r\n" % (len(event), event))
    parts.append(chunked(events()))
    others = 99
    try:
        async with scripted((OK_CHUNKED + PAUSE.join(parts), False)) as srv:
            request = sse_http.Request(srv.url + "/chat/completions", b"{}", {})
            conn = await sse_http.connect(request, 1 << 20, 1 << 20, None)
            await conn.send(request, clock)
            got: list[dict[str, object]] = []
            while not conn._held_by_tick:  # the first read is in: held for the tick
                first = await asyncio.wait_for(conn.take(), 5)
                got.extend(first or [])
            clock.streams -= 99  # the others end: no more ticks
            others = 0
            while (batch := await asyncio.wait_for(conn.take(), 5)) is not None:
                got.extend(batch)
            conn.release(lambda _: None)
            conn.abort()
    finally:
        clock.streams -= others
    content = [c["choices"][0]["delta"].get("content") for c in got]  # type: ignore[index]
    assert "".join(t for t in content if t) == "".join(texts)


async def test_the_text_before_a_broken_chunk_in_the_same_read_is_kept() -> None:
    """Good chunks, then a chunk-size line that is not one, all in one read: the text of the
    good ones comes first, then the error (it was lost: the read's chunks were parsed only
    after the loop that found the bad line; a reviewing helper's find)."""
    good = b""
    for t in ("a = 1\n", "b = 2\n"):
        chunk = {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
        good += b"%x\r\n%s\r\n" % (len(event), event)
    async with scripted((OK_CHUNKED + good + b"zz\r\n", True)) as srv:
        stream = provider(srv.url).stream(MESSAGES)
        got: list[str] = []
        with pytest.raises(ProviderError) as info:
            async for piece in stream:
                got.append(piece)
    assert "".join(got) == "a = 1\nb = 2\n"
    assert info.value.kind == "bad_stream" and "after 12 characters" in info.value.message
