"""A file replayed as if a model were producing it at a given token rate.

Pieces are scheduled against absolute times from the start, so a slow consumer or a noisy
machine does not make the replay drift slower than the requested rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

CHARS_PER_TOKEN = 4


class ReplayStream:
    """An async stream of `text` in pieces of `piece_size` characters at `rate` tokens/s.

    `rate=None` (or 0) replays as fast as the consumer takes it.
    """

    usage: dict[str, object] | None = None

    def __init__(
        self,
        text: str,
        *,
        rate: float | None = None,
        piece_size: int = CHARS_PER_TOKEN,
        chars_per_token: float = CHARS_PER_TOKEN,
    ) -> None:
        if piece_size < 1:
            raise ValueError("piece_size must be at least 1")
        self.text = text
        self.rate = rate or None
        self.piece_size = piece_size
        self.chars_per_token = chars_per_token
        self.sent = 0
        self._closed = False

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        start = time.monotonic()
        chars_per_s = None if self.rate is None else self.rate * self.chars_per_token
        while self.sent < len(self.text) and not self._closed:
            piece = self.text[self.sent : self.sent + self.piece_size]
            if chars_per_s is not None:
                due = start + (self.sent + len(piece)) / chars_per_s
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
            if self._closed:
                return
            self.sent += len(piece)
            yield piece

    async def aclose(self) -> None:
        self._closed = True
