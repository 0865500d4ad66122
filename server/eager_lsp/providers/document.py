"""A document being typed into, as a text stream (follow mode).

Whoever watches the document pushes the text appended to it; the core consumes it like any
model stream. A watcher that sees an edit the stream cannot express (a change to text already
streamed) abandons the stream: the statements already complete still run, the unfinished tail
does not, and the watcher starts a new stream where it needs to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


class StreamAbandoned(Exception):
    """Raised by an abandoned DocumentStream so the run leaves its unfinished tail alone."""


_END = object()
_ABANDON = object()


class DocumentStream:
    usage: dict[str, Any] | None = None

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._done = False
        self.fed = ""  # everything pushed so far

    def push(self, text: str) -> None:
        if text and not self._done:
            self.fed += text
            self._queue.put_nowait(text)

    def end(self) -> None:
        """The document is complete: its last statement runs too."""
        if not self._done:
            self._done = True
            self._queue.put_nowait(_END)

    def abandon(self) -> None:
        """Stop without running the unfinished last statement."""
        if not self._done:
            self._done = True
            self._queue.put_nowait(_ABANDON)

    async def drained(self) -> None:
        """Wait until the consumer has taken (and, in the same step, fed) every piece."""
        for _ in range(1000):
            if self._queue.empty():
                break
            await asyncio.sleep(0)
        await asyncio.sleep(0)

    @property
    def done(self) -> bool:
        return self._done

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        if item is _ABANDON:
            raise StreamAbandoned("the document changed under the stream")
        assert isinstance(item, str)
        return item

    async def aclose(self) -> None:
        self._done = True
