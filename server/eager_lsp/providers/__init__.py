"""The model layer: where code text comes from, behind one small interface.

`open_stream(config, messages)` is all the core needs. It decides between an OpenAI-style
endpoint and the bundled local model, starts the local server when needed, and strips
Markdown fences and prose, so every consumer receives clean code. Nothing here speaks LSP.

The OpenAI SDK takes about 0.4 s to import (seconds on a busy machine), so it is imported only
when a model is actually asked for: replaying a file (`eager-lsp run`) or serving a document
that never generates never loads it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .base import ProviderError, StreamWrapper, TextStream
from .bounded import BoundedStream
from .config import LLMConfig, resolve
from .filtered import FencedStream

if TYPE_CHECKING:
    from .openai_chat import OpenAIChatProvider

__all__ = [
    "LLMConfig",
    "OpenAIChatProvider",
    "ProviderError",
    "TextStream",
    "open_raw_stream",
    "open_stream",
    "prepare_local",
    "resolve",
]

_providers: dict[tuple[Any, ...], OpenAIChatProvider] = {}
_providers_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name == "OpenAIChatProvider":  # imports the SDK: only on demand
        from .openai_chat import OpenAIChatProvider

        return OpenAIChatProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_stream(config: LLMConfig, messages: list[dict[str, Any]]) -> TextStream:
    """A stream of code for these chat messages; fences and prose are already stripped.

    Returns at once: the request (and, for the local model, the server start) happens on the
    first iteration, which is where any ProviderError surfaces.
    """
    return FencedStream(BoundedStream(open_raw_stream(config, messages), config.max_tokens))


def open_raw_stream(config: LLMConfig, messages: list[dict[str, Any]]) -> TextStream:
    """Like `open_stream` but the model's text untouched (for recording and debugging)."""
    cfg = resolve(config)
    if cfg.provider == "local":
        return _DeferredStream(lambda: _open_local(cfg, messages))
    return _provider_for(cfg).stream(messages)


def _provider_for(cfg: LLMConfig) -> OpenAIChatProvider:
    """Reuse providers (and their HTTP connection pools) across requests."""
    from .openai_chat import OpenAIChatProvider

    key = tuple(getattr(cfg, f.name) for f in dataclasses.fields(cfg))
    with _providers_lock:
        p = _providers.pop(key, None) or OpenAIChatProvider(cfg)
        _providers[key] = p  # most recently used last
        while len(_providers) > 8:
            del _providers[next(iter(_providers))]
        return p


_warming: asyncio.Task[None] | None = None


def prepare_local(config: LLMConfig, messages: list[dict[str, Any]]) -> asyncio.Task[None] | None:
    """For the bundled model: start its server and have it evaluate `messages` once (answering
    a single token), in the background, so that a generation whose prompt begins the same way
    finds that part in llama.cpp's prompt cache and, on a session's first generation, the model
    loaded. Returns that background task; None (nothing done) when generations go to an
    endpoint. One preparation at a time: while one runs, it is returned again. A failure is
    left for the generation to report (a broken model file, a stopped start), as the
    generation would meet it anyway."""
    global _warming
    cfg = resolve(config)
    if cfg.provider != "local":
        return None
    if _warming is None or _warming.done():
        _warming = asyncio.ensure_future(_prepare(dataclasses.replace(cfg, max_tokens=1), messages))
    return _warming


async def _prepare(cfg: LLMConfig, messages: list[dict[str, Any]]) -> None:
    stream = open_raw_stream(cfg, messages)
    try:
        async for _piece in stream:
            pass
    except Exception:
        pass  # its one-token limit (ProviderError), or a start that failed: the generation says it
    finally:
        await stream.aclose()


async def _open_local(cfg: LLMConfig, messages: list[dict[str, Any]]) -> TextStream:
    """The local server's stream, held in use (`local_model.hold`) from before its start until
    the stream ends or is closed, so an idle unload never stops a server a stream needs."""
    from . import local_model

    local_model.hold()
    try:
        url, key = await local_model.ensure_local_server(cfg)
        local = dataclasses.replace(
            cfg, provider="openai", base_url=url, api_key=key, model="local"
        )
        stream = _provider_for(local).stream(messages)
    except BaseException:
        local_model.release()
        raise
    return _HeldStream(stream, local_model.release)


class _HeldStream(StreamWrapper):
    """A stream that calls `release` once, when it ends, fails or is closed."""

    def __init__(self, raw: TextStream, release: Callable[[], None]) -> None:
        super().__init__(raw)
        self._release: Callable[[], None] | None = release

    def _let_go(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    async def __anext__(self) -> str:
        try:
            return await self.raw.__aiter__().__anext__()
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):  # (a cancelled read may go on)
                self._let_go()
            raise

    async def aclose(self) -> None:
        try:
            await self.raw.aclose()
        finally:
            self._let_go()


class _DeferredStream:
    """A TextStream whose real stream is created on first iteration (e.g. after a server
    start), so that start-up failures surface like any other stream error."""

    def __init__(self, opener: Callable[[], Awaitable[TextStream]]) -> None:
        self._opener = opener
        self._inner: TextStream | None = None
        self._opening: asyncio.Future[TextStream] | None = None
        self._closed = False

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._inner.usage if self._inner is not None else None

    @property
    def deltas(self) -> int | None:
        return getattr(self._inner, "deltas", None)

    def __aiter__(self) -> _DeferredStream:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        if self._inner is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(self._opener())
            opening = self._opening
            try:
                await asyncio.wait({opening})
            except BaseException:
                opening.cancel()
                raise
            if self._closed:
                raise StopAsyncIteration
            if opening.cancelled():  # an earlier caller was cancelled mid-start: start again
                self._opening = None
                return await self.__anext__()
            self._inner = opening.result()
        return await self._inner.__aiter__().__anext__()

    async def aclose(self) -> None:
        self._closed = True
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._inner is not None:
            await self._inner.aclose()
