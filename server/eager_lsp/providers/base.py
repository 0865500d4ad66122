"""The one interface the core sees for any model: a cancellable stream of text pieces.

Keeping it this small lets the core, the CLI and the benchmarks swap a hosted API, a local
llama.cpp server or a replayed recording without knowing which one is behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

ERROR_KINDS = frozenset(
    {
        "connection",
        "auth",
        "rate_limit",
        "server",
        "bad_stream",
        "length",  # the model stopped at max_tokens, mid-code
        "empty",
        "model_missing",
        "checksum",
    }
)


@runtime_checkable
class TextStream(Protocol):
    """Text pieces as the model produces them; `aclose()` cancels at once.

    Errors surface as `ProviderError` from iteration, before or in the middle of the stream.
    `usage` holds the server's token counts and timings once it reported them, else None.
    """

    @property
    def usage(self) -> dict[str, Any] | None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


class StreamWrapper:
    """A TextStream around another (`raw`): the server's token counts and delta count are
    the raw stream's, and closing it closes the raw one. Subclasses give `__anext__`."""

    def __init__(self, raw: TextStream) -> None:
        self.raw = raw

    @property
    def usage(self) -> dict[str, Any] | None:
        return self.raw.usage

    @property
    def deltas(self) -> int | None:
        """The raw stream's count of the model's deltas, where it keeps one."""
        return getattr(self.raw, "deltas", None)

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        raise NotImplementedError

    async def aclose(self) -> None:
        await self.raw.aclose()


class ProviderError(Exception):
    """A model failure phrased for the user (never contains the API key)."""

    def __init__(
        self, kind: str, message: str, *, status: int | None = None, detail: str = ""
    ) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown ProviderError kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status  # the HTTP status the endpoint answered with, if it answered one
        self.detail = detail  # the endpoint's own error message (scrubbed), if it sent one

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ProviderError({self.kind!r}, {self.message!r})"
