"""A model's stream is never longer than what was asked for, whatever the endpoint does.

`max_tokens` is a request: an endpoint that is broken or hostile may ignore it and send
without end. A reviewer's endpoint sending 310 events a second grew the server from 170 MB
to 880 MB in 30 s (a million statements queued) and kept `eager.stop` waiting; a slower one
went on past 13,000 tokens against a `maxTokens` of 1,024. So every stream is cut at
`CHARS_PER_TOKEN_CAP` characters per token asked for: far above what a tokenizer yields for
code (about 4 characters a token; the longest tokens are runs of whitespace, a few dozen),
and far below what would hurt. What came before the cut is kept, as with any stream that
breaks: complete lines run, and the error says why the rest is missing.
"""

from __future__ import annotations

from .base import ProviderError, StreamWrapper, TextStream

CHARS_PER_TOKEN_CAP = 64
MIN_CHARS = 64 * 1024  # (a small maxTokens still allows a page of code)


def char_cap(max_tokens: int) -> int:
    return max(MIN_CHARS, CHARS_PER_TOKEN_CAP * max(max_tokens, 1))


class BoundedStream(StreamWrapper):
    """`raw`, cut after `char_cap(max_tokens)` characters with a ProviderError."""

    def __init__(self, raw: TextStream, max_tokens: int) -> None:
        super().__init__(raw)
        self.max_tokens = max_tokens
        self.cap = char_cap(max_tokens)
        self.chars = 0
        self._over = False
        self._iter = raw.__aiter__()

    async def __anext__(self) -> str:
        if self._over:
            raise self._error()
        piece = await self._iter.__anext__()
        room = self.cap - self.chars
        if len(piece) <= room:
            self.chars += len(piece)
            return piece
        self._over = True  # the error comes now, or after what still fits
        await self.raw.aclose()
        if room <= 0:
            raise self._error()
        self.chars = self.cap
        return piece[:room]

    def _error(self) -> ProviderError:
        return ProviderError(
            "bad_stream",
            f"The model sent more than {self.cap:,} characters for at most "
            f"{self.max_tokens:,} tokens (llm.maxTokens); the rest was not read",
        )
