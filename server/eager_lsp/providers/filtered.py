"""Wrap any raw model stream so every consumer gets code only (see `fences`)."""

from __future__ import annotations

from .base import ProviderError, StreamWrapper, TextStream
from .fences import CodeFenceFilter


class FencedStream(StreamWrapper):
    """A TextStream yielding the raw stream's text with fences and surrounding prose removed.

    Once the closing fence has passed, the raw stream is closed at once: the explanation a
    chat model adds after its code would only cost decode time. `aclose()` may be called
    from another task while a read is pending (the raw stream supports that).
    """

    def __init__(self, raw: TextStream) -> None:
        super().__init__(raw)
        self._raw_iter = raw.__aiter__()
        self._filter = CodeFenceFilter()
        self._emitted = False  # any non-blank code went out
        self._raw_done = False
        self._finished = False
        self._closed = False

    async def __anext__(self) -> str:
        while not (self._closed or self._finished):
            if self._raw_done:
                return self._finish()
            try:
                piece = await self._raw_iter.__anext__()
            except StopAsyncIteration:
                self._raw_done = True
                continue
            text = self._filter.feed(piece)
            if self._filter.done:
                self._raw_done = True
                await self.raw.aclose()
            if text:
                self._emitted = self._emitted or bool(text.strip())
                return text
        raise StopAsyncIteration

    def _finish(self) -> str:
        self._finished = True
        if self._closed:
            raise StopAsyncIteration
        text = self._filter.end()
        self._emitted = self._emitted or bool(text.strip())
        if not self._emitted:
            raise ProviderError("empty", "The model returned no code")
        if not text:
            raise StopAsyncIteration
        return text

    async def aclose(self) -> None:
        self._closed = True
        await self.raw.aclose()
