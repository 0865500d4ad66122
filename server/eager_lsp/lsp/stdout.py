"""The server's stdout, with one write per burst of work instead of one per message.

pygls writes and flushes stdout once per LSP message. With ten documents generating at once
that was about a third of the server's CPU (py-spy over `eager-lsp bench --many-docs`): the
write system calls themselves, several per loop turn (a result, its diagnostics, a status, a
progress report). Here `flush()` only schedules the real write, in order, for when the event
loop has nothing else ready to run: one piece of work is usually a cascade of turns (a read
wakes a stream's task, which wakes the detector's, which releases a statement whose result
the writer then publishes), and writing once per turn still made two or three writes of it,
each waking the editor (about 700 writes a round of the benchmark; 300 now). The wait is
bounded: at most `MAX_TURNS` turns and `MAX_DELAY_S` after the first message, so a loop that
stays busy still writes every couple of milliseconds. Outside a running loop (start-up,
shutdown) it writes at once, and `write_pending()` writes what is left when the loop ends.
"""

from __future__ import annotations

import asyncio
import logging
from typing import BinaryIO

log = logging.getLogger(__name__)

MAX_TURNS = 8  # loop turns a write waits for the loop to go idle, at most
MAX_DELAY_S = 0.002  # and seconds after the first message it carries


class CoalescingStdout:
    """A binary stream for pygls's StdoutWriter: buffers writes, writes them out once the loop
    has nothing else ready (or the bound above is reached)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._parts: list[bytes] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turns = 0
        self._since = 0.0
        self._gone = False  # the editor closed its end: nothing more can reach it

    def write(self, data: bytes) -> int:
        if not self._gone:
            self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        if self._scheduled or not self._parts:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write_pending()
            return
        self._scheduled = True
        self._loop, self._turns, self._since = loop, 0, loop.time()
        loop.call_soon(self._when_idle)

    def _when_idle(self) -> None:
        loop = self._loop
        assert loop is not None
        # asyncio keeps the callbacks ready to run in `_ready` (a deque, in every CPython
        # loop since 3.4); a loop without it writes every turn, as before.
        ready = getattr(loop, "_ready", None)
        if (
            ready
            and self._turns < MAX_TURNS
            and loop.time() - self._since < MAX_DELAY_S
            and not loop.is_closed()
        ):
            self._turns += 1
            loop.call_soon(self._when_idle)
            return
        self.write_pending()

    def write_pending(self) -> None:
        """Write out everything buffered, now."""
        self._scheduled = False
        if not self._parts:
            return
        data = b"".join(self._parts)
        self._parts.clear()
        try:
            self._raw.write(data)
            self._raw.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The editor went away (it quit, or killed us late): said once, not as an error
            # logged from the event loop at every later message; the server ends at stdin's EOF.
            if not self._gone:
                log.info("the editor closed the server's stdout; messages to it are dropped")
            self._gone = True

    def close(self) -> None:
        self.write_pending()
        self._raw.close()
