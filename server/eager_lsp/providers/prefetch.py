"""Start pulling a text stream at once, before its consumer is ready.

A generation may first have to run the code above the insertion point; the model's request goes
out meanwhile, so its first tokens are not delayed by execution (generation never waits on it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any


class PrefetchStream:
    """Wraps a stream; pieces, the end and any error are queued in order as they arrive."""

    def __init__(self, inner: AsyncIterable[str]) -> None:
        self.inner = inner
        self._items: deque[tuple[str, Any]] = deque()
        self._arrived = asyncio.Event()
        self._task = asyncio.ensure_future(self._pump())

    @property
    def usage(self) -> Any:
        return getattr(self.inner, "usage", None)

    @property
    def deltas(self) -> int | None:
        return getattr(self.inner, "deltas", None)

    async def _pump(self) -> None:
        try:
            async for piece in self.inner:
                self._put("piece", piece)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._put("error", exc)
        else:
            self._put("end", None)

    def _put(self, kind: str, value: Any) -> None:
        self._items.append((kind, value))
        self._arrived.set()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        items = self._items
        while True:
            while not items:
                self._arrived.clear()
                await self._arrived.wait()
            kind, value = items.popleft()
            if kind == "piece":  # pieces queued behind it go with it, as one piece
                text = [value]
                while items and items[0][0] == "piece":
                    text.append(items.popleft()[1])
                yield "".join(text)
            elif kind == "end":
                return
            else:
                raise value

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()
