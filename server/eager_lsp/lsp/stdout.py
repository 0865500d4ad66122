"""The server's stdout, with one write per event-loop turn instead of one per message.

pygls writes and flushes stdout once per LSP message. With ten documents generating at once
that was about a third of the server's CPU (py-spy over `eager-lsp bench --many-docs`): the
write system calls themselves, several per loop turn (a result, its diagnostics, a status, a
progress report). Here `flush()` only schedules the real write for the end of the current loop
turn, so a turn's messages leave together, in order, and none waits longer than that turn.
Outside a running loop (start-up, shutdown) it writes at once.
"""

from __future__ import annotations

import asyncio
from typing import BinaryIO


class CoalescingStdout:
    """A binary stream for pygls's StdoutWriter: buffers writes, flushes once per loop turn."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._parts: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        if self._scheduled or not self._parts:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush_now()
            return
        self._scheduled = True
        loop.call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._scheduled = False
        if not self._parts:
            return
        data = b"".join(self._parts)
        self._parts.clear()
        self._raw.write(data)
        self._raw.flush()

    def close(self) -> None:
        self._flush_now()
        self._raw.close()
