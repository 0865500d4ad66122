"""Cap a text stream at a token rate (`generate --rate-limit`), e.g. to mimic a slower model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from eager_lsp.providers.replay import CHARS_PER_TOKEN


class ThrottledStream:
    """Passes pieces through no faster than `rate` tokens/s (4 characters a token)."""

    def __init__(self, inner: Any, rate: float, chars_per_token: float = CHARS_PER_TOKEN) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.inner = inner
        self.chars_per_s = rate * chars_per_token

    @property
    def usage(self) -> Any:
        return getattr(self.inner, "usage", None)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        start = time.monotonic()
        sent = 0
        async for piece in self.inner:
            sent += len(piece)
            delay = start + sent / self.chars_per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield piece

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()
