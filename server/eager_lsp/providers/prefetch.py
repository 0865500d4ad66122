"""Start pulling a text stream at once, before its consumer is ready.

A generation may first have to run the code above the insertion point; the model's request goes
out meanwhile, so its first tokens are not delayed by execution (generation never waits on it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any


class PrefetchStream:
    """Wraps a stream; pieces, the end and any error are queued in order as they arrive."""

    def __init__(self, inner: AsyncIterable[str]) -> None:
        self.inner = inner
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._pump())

    @property
    def usage(self) -> Any:
        return getattr(self.inner, "usage", None)

    async def _pump(self) -> None:
        try:
            async for piece in self.inner:
                self._queue.put_nowait(("piece", piece))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._queue.put_nowait(("error", exc))
        else:
            self._queue.put_nowait(("end", None))

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        while True:
            kind, value = await self._queue.get()
            if kind == "piece":
                yield value
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
