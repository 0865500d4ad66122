"""The OpenAI chat provider against a real local HTTP server speaking the streaming format."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from unittest import mock

import pytest
from tests.support.openai_server import FakeOpenAIServer

from eager_lsp.providers import open_stream
from eager_lsp.providers.base import ProviderError, TextStream
from eager_lsp.providers.config import LLMConfig
from eager_lsp.providers.openai_chat import OpenAIChatProvider, ReadClock, read_clock

KEY = "sk-test-SUPERSECRET-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "write code"}]


@pytest.fixture(autouse=True, params=["direct", "sdk"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs over both ways of reading a response: sse_http (the default) and
    the SDK's transport (taken when a proxy is configured for the server)."""
    import eager_lsp.providers.openai_chat as oc

    if request.param == "sdk":
        monkeypatch.setattr(oc, "_direct_ok", lambda url: False)
    return str(request.param)


def provider(srv: FakeOpenAIServer, **kw: object) -> OpenAIChatProvider:
    cfg = LLMConfig(provider="openai", base_url=srv.url, api_key=KEY, model="fake-model")
    for k, v in kw.items():
        setattr(cfg, k, v)
    return OpenAIChatProvider(cfg)


async def collect(stream: TextStream) -> str:
    return "".join([piece async for piece in stream])


async def failure(stream: TextStream) -> tuple[ProviderError, str]:
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for piece in stream:
            got.append(piece)
    return info.value, "".join(got)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_streams_pieces_and_usage(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n", "print(", "x)\n"])
    stream = provider(fake_openai).stream(MESSAGES)
    pieces = [p async for p in stream]
    # Pieces that arrived before the reader asked are handed over as one.
    assert "".join(pieces) == "x = 1\nprint(x)\n" and all(pieces)
    assert stream.usage is not None and stream.usage["completion_tokens"] == 3
    (req,) = fake_openai.chat_requests
    assert req.body["stream"] is True
    assert req.body["messages"] == MESSAGES
    assert req.body["stream_options"] == {"include_usage": True}
    assert req.body["model"] == "fake-model"
    assert req.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
async def test_events_cut_anywhere_by_the_network_arrive_whole(
    fake_openai: FakeOpenAIServer, line_end: bytes
) -> None:
    """The body is read a network read at a time and split into lines by the provider: events,
    line ends (a CRLF too) and UTF-8 characters cut between reads are put back together."""
    text = "s = 'é ✓ 🐍'\nprint(s)\n" * 3
    fake_openai.enqueue(
        pieces=[text[i : i + 3] for i in range(0, len(text), 3)],
        line_end=line_end,
        split_every=7,
        delay=0.002,
    )
    stream = provider(fake_openai).stream(MESSAGES)
    assert await collect(stream) == text
    assert stream.finish_reason == "stop"


async def test_invalid_utf8_in_an_event_reads_as_replacement_characters(
    fake_openai: FakeOpenAIServer,
) -> None:
    """As httpx's text decoding did: a broken byte is U+FFFD in the text, not an error."""
    fake_openai.enqueue(pieces=["a = 'x'\n"], split_every=1000, raw_replace=(b"'x'", b"'\xff'"))
    stream = provider(fake_openai).stream(MESSAGES)
    assert await collect(stream) == "a = '\ufffd'\n"


async def test_a_byte_order_mark_before_the_first_event_is_skipped(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(pieces=["first = 1\n", "second = 2\n"], split_every=1000, bom=True)
    stream = provider(fake_openai).stream(MESSAGES)
    assert await collect(stream) == "first = 1\nsecond = 2\n"


async def test_keep_alive_comments_are_a_sign_of_life(fake_openai: FakeOpenAIServer) -> None:
    """A server that sends `: ping` comments while it thinks (a long prompt) is not stalled,
    though no token comes for longer than `timeout_s`."""
    fake_openai.enqueue(pieces=["x = 1\n"], split_every=1000, pings=6, delay=0.3)
    stream = provider(fake_openai, timeout_s=1.0).stream(MESSAGES)
    assert await collect(stream) == "x = 1\n"


async def test_keep_alive_comments_alone_do_not_hold_the_stream_for_ever(
    fake_openai: FakeOpenAIServer,
) -> None:
    """A server that only ever sends `: ping` (a user tour: `--timeout 3` waited for good) is
    stalled after KEEP_ALIVE_LIMIT times `timeout_s` without text."""
    fake_openai.enqueue(pieces=["x = 1\n"], split_every=1000, pings=200, delay=0.05)
    stream = provider(fake_openai, timeout_s=0.2).stream(MESSAGES)
    with pytest.raises(ProviderError) as err:
        await collect(stream)
    assert "sent no text for 1 s after 0 characters, only keep-alive messages" in str(err.value)


async def test_a_line_that_comes_a_byte_at_a_time_arrives_whole(
    fake_openai: FakeOpenAIServer,
) -> None:
    text = "s = '" + "é" * 3000 + "'\n"
    fake_openai.enqueue(pieces=[text], split_every=1)
    stream = provider(fake_openai).stream(MESSAGES)
    assert await collect(stream) == text


async def test_a_last_event_without_its_line_end_still_counts(
    fake_openai: FakeOpenAIServer,
) -> None:
    """A server that ends the body right after its last event, with no line end and no
    `[DONE]`: the finish reason in that event is read, so this is no dropped connection."""
    fake_openai.enqueue(pieces=["x = 1\n"], split_every=1000, unterminated_end=True)
    stream = provider(fake_openai).stream(MESSAGES)
    assert await collect(stream) == "x = 1\n"
    assert stream.finish_reason == "stop"


async def test_an_event_line_that_never_ends_is_a_clear_error(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken server that streams one endless line: the provider stops at the line cap
    with a malformed-stream error instead of holding the line in memory."""
    import eager_lsp.providers.openai_chat as oc

    monkeypatch.setattr(oc, "_EVENT_LINE_CAP", 1000)
    fake_openai.enqueue(pieces=["x" * 3000], split_every=100, unterminated_end=True)
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert err.kind == "bad_stream" and "over 1000 bytes" in err.message, err.message
    assert got == ""


async def test_model_defaults_to_the_first_listed(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.model = "served-model"
    fake_openai.enqueue(pieces=["x = 1\n"])
    assert await collect(provider(fake_openai, model=None).stream(MESSAGES)) == "x = 1\n"
    assert fake_openai.chat_requests[0].body["model"] == "served-model"


async def test_falls_back_without_stream_options(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(reject_stream_options=True)
    fake_openai.enqueue(pieces=["x = 1\n"])
    assert await collect(provider(fake_openai).stream(MESSAGES)) == "x = 1\n"
    first, second = fake_openai.chat_requests
    assert "stream_options" in first.body and "stream_options" not in second.body


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "auth", "The model endpoint rejected the API key (401)"),
        (403, "auth", "refused access (403)"),
        (429, "rate_limit", "Rate limited by the model endpoint (429)"),
        (500, "server", "The model endpoint failed (500)"),
        (503, "server", "The model endpoint failed (503)"),
    ],
)
async def test_http_errors_are_clear_and_never_leak_the_key(
    fake_openai: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
    status: int,
    kind: str,
    expected: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.enqueue(status=status, error_message=f"Incorrect API key provided: {KEY}")
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert err.kind == kind
    assert expected in str(err)
    assert got == ""
    assert KEY not in str(err) and KEY not in repr(err)
    assert KEY not in caplog.text
    assert len(fake_openai.chat_requests) == 1  # HTTP errors are never retried


async def test_server_message_is_included(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(status=500, error_message="CUDA out of memory")
    err, _ = await failure(provider(fake_openai).stream(MESSAGES))
    assert str(err) == "The model endpoint failed (500): CUDA out of memory"


async def test_malformed_event(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n", "y = 2\n"], malformed_after=1)
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert err.kind == "bad_stream"
    assert str(err).startswith("The model stream was malformed")
    assert got == "x = 1\n"


async def test_dropped_connection_mid_stream(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n", "y = 2\n", "z = 3\n"], drop_after=2)
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert err.kind == "connection"
    assert str(err) == "The connection dropped mid-stream after 12 characters"
    assert got == "x = 1\ny = 2\n"
    assert len(fake_openai.chat_requests) == 1  # text was shown: never silently retried


async def test_missing_finish_reason_counts_as_a_drop(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n"], finish_reason=None)
    err, _ = await failure(provider(fake_openai).stream(MESSAGES))
    assert err.kind == "connection" and "after 6 characters" in str(err)


async def test_a_web_page_is_named_not_taken_for_a_drop(fake_openai: FakeOpenAIServer) -> None:
    """A 200 with an HTML page (a base URL that is a web server, not the API): the error says
    what came instead of an event stream, not that the connection dropped."""
    fake_openai.enqueue(not_stream="html")
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert (err.kind, got) == ("bad_stream", "")
    assert str(err) == (
        "The endpoint did not answer with an event stream (Content-Type: text/html):"
        " is llm.baseUrl an OpenAI-compatible /v1 URL?"
    )


async def test_a_completion_not_streamed_is_named(fake_openai: FakeOpenAIServer) -> None:
    """A server that ignores `stream: true` and sends one chat.completion: the error says so
    (its text is not taken: the code is run as it streams, and that server never streams)."""
    fake_openai.enqueue(text="x = 1\n", not_stream="json")
    err, got = await failure(provider(fake_openai).stream(MESSAGES))
    assert (err.kind, got) == ("bad_stream", "")
    assert str(err) == (
        "The endpoint answered with one JSON completion, not an event stream: the server"
        " ignored `stream: true`"
    )
    assert len(fake_openai.chat_requests) == 1


async def test_drop_before_the_first_token_is_retried(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n"], drop_after=0)
    fake_openai.enqueue(pieces=["x = 1\n"])
    assert await collect(provider(fake_openai).stream(MESSAGES)) == "x = 1\n"
    assert len(fake_openai.chat_requests) == 2


async def test_empty_completion(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=[])
    err, _ = await failure(provider(fake_openai).stream(MESSAGES))
    assert (err.kind, str(err)) == ("empty", "The model returned no code")


async def test_slow_tokens_arrive_as_they_are_produced(fake_openai: FakeOpenAIServer) -> None:
    """The first piece reaches us while the server still holds the rest back: streamed, not
    buffered until the end (no timing: the server waits for us)."""
    held = threading.Event()
    fake_openai.enqueue(pieces=[f"x{i} = {i}\n" for i in range(5)], hold_after_first=held)
    got: list[str] = []
    sent_when_first_arrived = None
    async for piece in provider(fake_openai).stream(MESSAGES):
        got.append(str(getattr(piece, "text", piece)))
        if sent_when_first_arrived is None:
            sent_when_first_arrived = fake_openai.chat_requests[0].pieces_sent
            held.set()
    assert got[0] == "x0 = 0\n"
    assert "".join(got) == "".join(f"x{i} = {i}\n" for i in range(5))
    # The server counts a piece after writing it, so the reader may see the first one
    # before it is counted: 0 or 1, never more (the rest is held until we got the first).
    assert sent_when_first_arrived in (0, 1)


async def test_connection_refused_is_retried_then_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}/v1"
    cfg = LLMConfig(provider="openai", base_url=url, api_key=KEY, model="m", connect_retries=2)
    start = time.monotonic()
    err, _ = await failure(OpenAIChatProvider(cfg).stream(MESSAGES))
    elapsed = time.monotonic() - start
    assert err.kind == "connection"
    assert str(err) == f"Cannot reach the model at {url}: connection refused"
    assert elapsed >= 0.7  # two backoffs: 0.25 s + 0.5 s
    assert caplog.text.count("unreachable, retry") == 2
    assert KEY not in caplog.text


async def test_connection_refused_without_retries_is_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    cfg = LLMConfig(provider="openai", base_url=url, model="m", connect_retries=0)
    err, _ = await failure(OpenAIChatProvider(cfg).stream(MESSAGES))
    # No timing assert (shared machine): without retries there is one attempt and no backoff.
    assert err.kind == "connection"


async def test_server_that_comes_up_during_retries() -> None:
    port = free_port()
    cfg = LLMConfig(
        provider="openai", base_url=f"http://127.0.0.1:{port}/v1", model="m", connect_retries=3
    )
    stream = OpenAIChatProvider(cfg).stream(MESSAGES)
    task = asyncio.ensure_future(collect(stream))
    await asyncio.sleep(0.1)
    with FakeOpenAIServer(port=port) as srv:
        srv.enqueue(pieces=["late = True\n"])
        assert await asyncio.wait_for(task, 10) == "late = True\n"


async def test_timeout_before_first_token(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n"], first_delay=2.0)
    err, _ = await failure(provider(fake_openai, timeout_s=0.5).stream(MESSAGES))
    assert err.kind == "connection"
    assert "stalled" in str(err) or "did not answer" in str(err)


async def test_aclose_disconnects_at_once(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["x = 1\n"] * 200, delay=0.02)
    stream = provider(fake_openai).stream(MESSAGES)
    n = 0
    async for _ in stream:
        n += 1
        if n == 5:
            break
    start = time.monotonic()
    await stream.aclose()
    # (bounds with room for a loaded host: not hanging up would take the 200 pieces' 4 s)
    assert time.monotonic() - start < 1.0
    (req,) = fake_openai.chat_requests
    assert req.wait_done(5), "server still writing: the client did not hang up"
    assert req.disconnected
    assert req.pieces_sent < 60
    assert [p async for p in stream] == []  # closed streams stay closed


async def test_aclose_from_another_task_interrupts_a_pending_read(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(pieces=["x = 1\n", "never = 1\n"], delay=30)
    stream = provider(fake_openai).stream(MESSAGES)
    got: list[str] = []

    async def consume() -> None:
        async for piece in stream:
            got.append(piece)

    task = asyncio.ensure_future(consume())
    while not got:
        await asyncio.sleep(0.01)
    start = time.monotonic()
    await stream.aclose()
    await asyncio.wait_for(task, 5)  # the consumer ends normally, without an error
    assert time.monotonic() - start < 2.0  # (the pending read: 30 s)
    assert got == ["x = 1\n"]


async def test_cancelling_the_consumer_closes_the_connection(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(pieces=["x = 1\n"] * 200, delay=0.02)
    stream = provider(fake_openai).stream(MESSAGES)
    got: list[str] = []

    async def consume() -> None:
        async for piece in stream:
            got.append(piece)

    task = asyncio.ensure_future(consume())
    while len(got) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stream.aclose()
    (req,) = fake_openai.chat_requests
    assert req.wait_done(5) and req.disconnected
    assert req.pieces_sent < 40


# -- through the factory: fences stripped for every consumer ----------------------------------


async def test_open_stream_strips_fences_and_stops_after_the_code(
    fake_openai: FakeOpenAIServer,
) -> None:
    pieces = ["Here is the code:\n", "```python\n", "x = 1\n", "print(x)\n", "```\n"]
    pieces += ["This code prints one.\n"] * 50
    fake_openai.enqueue(pieces=pieces, delay=0.05)  # (the explanation: 2.5 s)
    cfg = LLMConfig(provider="openai", base_url=fake_openai.url, api_key=KEY, model="m")
    stream = open_stream(cfg, MESSAGES)
    assert await collect(stream) == "x = 1\nprint(x)\n"
    (req,) = fake_openai.chat_requests
    assert req.wait_done(5)
    assert req.disconnected and req.pieces_sent < 40  # the explanation was not waited for


async def test_open_stream_only_prose_in_an_empty_fence_is_empty(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(pieces=["I cannot help with that.\n", "```\n", "```\n"])
    cfg = LLMConfig(provider="openai", base_url=fake_openai.url, model="m")
    err, _ = await failure(open_stream(cfg, MESSAGES))
    assert err.kind == "empty"


async def test_open_stream_resolves_env_fallbacks(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake_openai.enqueue(pieces=["x = 1\n"])
    assert await collect(open_stream(LLMConfig(), MESSAGES)) == "x = 1\n"
    assert fake_openai.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_open_stream_errors_pass_through(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(status=401)
    cfg = LLMConfig(provider="openai", base_url=fake_openai.url, api_key=KEY, model="m")
    err, _ = await failure(open_stream(cfg, MESSAGES))
    assert err.kind == "auth" and KEY not in str(err)


async def test_an_endpoint_that_ignores_max_tokens_is_cut_off(
    fake_openai: FakeOpenAIServer,
) -> None:
    """A reviewer's endpoint sent without end, whatever `max_tokens` said: the server grew to
    880 MB in 30 s. The stream is cut at CHARS_PER_TOKEN_CAP characters a token asked for
    (at least MIN_CHARS), what came before is kept, and the connection is closed."""
    from eager_lsp.providers.bounded import MIN_CHARS

    piece = "x = 1\n" * 1000
    fake_openai.enqueue(pieces=[piece] * 300, delay=0.01)  # 1.8 MB for 16 tokens
    cfg = LLMConfig(provider="openai", base_url=fake_openai.url, api_key=KEY, model="m")
    cfg.max_tokens = 16
    err, got = await failure(open_stream(cfg, MESSAGES))
    assert err.kind == "bad_stream" and "llm.maxTokens" in str(err), err
    assert len(got) == MIN_CHARS and got == (piece * 20)[:MIN_CHARS]
    (req,) = fake_openai.chat_requests
    assert req.wait_done(10)
    assert req.disconnected and req.pieces_sent < 300
    # a stream within the bound is untouched
    fake_openai.enqueue(pieces=[piece] * 10)
    assert await collect(open_stream(cfg, MESSAGES)) == piece * 10


def test_config_repr_hides_the_key() -> None:
    cfg = LLMConfig(api_key=KEY)
    assert KEY not in repr(cfg) and "api_key='***'" not in repr(LLMConfig())


async def test_a_reader_slower_than_the_timeout_is_not_a_stalled_server(
    fake_openai: FakeOpenAIServer,
) -> None:
    """The server sends 200 KB at once; the reader pauses longer than `timeout_s` after the
    first piece. The stream stops reading at 64 Ki unread characters, and that pause is the
    reader's, not the server's: everything arrives, no "stalled" error (found in review)."""
    pieces = [f"{i:05d}" + "x" * 994 + "\n" for i in range(200)]
    fake_openai.enqueue(pieces=pieces)
    stream = provider(fake_openai, timeout_s=1.0).stream(MESSAGES)
    got: list[str] = []
    async for piece in stream:
        got.append(piece)
        if len(got) == 1:
            await asyncio.sleep(1.5)
    assert "".join(got) == "".join(pieces)


async def test_aclose_before_the_reader_ran_leaves_no_timer(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(pieces=["a = 1\n"])
    stream = provider(fake_openai).stream(MESSAGES)
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # the read started; its reader task has not run yet
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(first, 5)
    loop = asyncio.get_running_loop()
    left = [h for h in loop._scheduled if not h.cancelled() and "_check_stall" in repr(h)]  # type: ignore[attr-defined]
    assert left == []


def test_a_read_tick_that_is_not_a_number_keeps_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eager_lsp.providers import openai_chat

    for value, expected in (("abc", 0.02), ("-5", 0.02), ("0", 0.0), ("10", 0.01)):
        monkeypatch.setenv("EAGER_LSP_READ_TICK_MS", value)
        assert openai_chat._tick_cap() == expected


# -- several streams at once: one read tick ---------------------------------------------------


class _CountingClock(ReadClock):
    def __init__(self) -> None:
        super().__init__()
        self.fired = 0

    def _fire(self, at: float) -> None:
        self.fired += 1
        super()._fire(at)


async def test_the_body_is_read_from_the_socket_directly_and_a_drop_is_still_an_error(
    fake_openai: FakeOpenAIServer, transport: str
) -> None:
    """The SDK's transport is the one the direct read knows (an SDK update that changes it
    fails here instead of silently costing CPU), and a connection dropped mid-body still
    ends the stream with a connection error after the text that came."""
    import eager_lsp.providers.openai_chat as oc

    if transport == "direct":
        pytest.skip("about the SDK's transport")

    used: list[object] = []
    real = oc._direct_receive

    def spy(network: object) -> object:
        direct = real(network)
        used.append(direct)
        return direct

    oc._direct_receive = spy  # type: ignore[assignment]
    try:
        fake_openai.enqueue(text="x = 1\n" * 20, chunk_chars=6, delay=0.005, drop_after=10)
        err, got = await failure(provider(fake_openai, connect_retries=0).stream(MESSAGES))
    finally:
        oc._direct_receive = real
    assert used and all(d is not None for d in used), used
    assert err.kind == "connection" and got == "x = 1\n" * 10, (err, got)


async def test_the_read_clock_holds_no_read_of_a_lone_stream() -> None:
    clock = _CountingClock()
    for streams in (0, 1):
        clock.streams = streams
        assert clock.period() == 0.0
        await clock.tick()  # returns without a timer
    assert clock.fired == 0 and not clock._due


async def test_the_read_clock_wakes_the_reads_of_several_streams_together() -> None:
    """The four reads start within one loop turn; the clock is frozen for that turn, because
    on a loaded host the turn can straddle a tick boundary (two timers, each correct)."""
    clock = _CountingClock()
    clock.streams = 4
    assert 0.0 < clock.period() <= 0.02  # the added latency is bounded
    loop = asyncio.get_running_loop()
    now = loop.time()
    with mock.patch.object(loop, "time", return_value=now):
        tasks = [asyncio.ensure_future(clock.tick()) for _ in range(4)]
        await asyncio.sleep(0)
    assert len(clock._due) == 1  # one timer for the four reads
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert clock.fired == 1 and not clock._due


async def test_a_cancelled_read_leaves_the_others_on_the_tick() -> None:
    clock = _CountingClock()
    clock.streams = 2
    loop = asyncio.get_running_loop()
    with mock.patch.object(loop, "time", return_value=loop.time()):  # one tick (see above)
        kept = asyncio.ensure_future(clock.tick())
        cancelled = asyncio.ensure_future(clock.tick())
        await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.wait_for(kept, 5)
    assert cancelled.cancelled() and clock.fired == 1


async def test_concurrent_streams_are_read_on_the_tick_and_give_their_connections_back(
    fake_openai: FakeOpenAIServer,
) -> None:
    """Three streams at once: each gets all its text and its token count; while they are
    read, the running loop's clock counts them; afterwards nothing is left paced (the
    connections go back to the pool with their own `read`)."""
    texts = [[f"s{k}_{i} = {i}\n" for i in range(30)] for k in range(3)]
    for pieces in texts:
        fake_openai.enqueue(pieces=pieces, delay=0.003)
    p = provider(fake_openai)
    seen: list[int] = []

    async def one() -> tuple[str, int]:
        stream = p.stream(MESSAGES)
        got = []
        async for piece in stream:
            got.append(piece)
            seen.append(read_clock().streams)
        return "".join(got), stream.deltas

    results = await asyncio.wait_for(asyncio.gather(one(), one(), one()), 30)
    assert sorted(text for text, _ in results) == sorted("".join(t) for t in texts)
    assert [deltas for _, deltas in results] == [30, 30, 30]
    assert max(seen) == 3
    assert read_clock().streams == 0
    fake_openai.enqueue(pieces=["x = 1\n"])
    assert await collect(p.stream(MESSAGES)) == "x = 1\n"  # a pooled connection, read plainly
    assert read_clock().streams == 0


async def test_a_stream_goes_on_when_the_others_end_first(fake_openai: FakeOpenAIServer) -> None:
    """Two streams at once, one much shorter: once it ends, reads of the other are no longer
    held to a tick, and it must read on by itself to its end (it stalled until the watchdog
    failed it, a reviewer found, whenever its last tick read found bytes)."""
    short = [f"a{i} = {i}\n" for i in range(30)]
    long = [f"b{i} = {i}\n" for i in range(200)]
    fake_openai.enqueue(pieces=short, delay=0.003)
    fake_openai.enqueue(pieces=long, delay=0.003)
    p = provider(fake_openai)
    p.config.timeout_s = 3.0  # a stall fails in 3 s instead of 60

    results = await asyncio.wait_for(
        asyncio.gather(collect(p.stream(MESSAGES)), collect(p.stream(MESSAGES))), 30
    )
    assert sorted(results) == sorted(["".join(short), "".join(long)])
    assert read_clock().streams == 0
