"""The server's stdin: one thread hop per message, on a thread that never holds up exit.

pygls reads stdin on a thread with one `run_in_executor` per header line and one per body:
three hand-offs (a thread wake-up, then a loop wake-up) for each message an editor sends.
With ten documents generating, the editor's answers and didChanges were about 10 % of the
server's CPU in those hand-offs alone. This reader lets the thread read a whole message
(its header lines and its body) and hands it over in one piece; pygls's own loop
(`pygls.io_.run_async`) then takes the lines and the body from it without waiting. Messages
are still read one at a time, in order, each after the previous one was handled, as before.

The thread is a daemon thread of its own, not a pool's: after `exit` the loop may already be
waiting for the next message, and a pool joins its threads when it shuts down and when the
interpreter exits, so a thread blocked reading an editor's open stdin kept the process
alive. It reads with `read(n)` from an unbuffered file (`serve` passes a raw `FileIO`), so
it holds no buffered stream's lock that the interpreter would want while finalizing.
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from collections import deque
from typing import BinaryIO

_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # as pygls parses it
_READ_SIZE = 1 << 16

_Request = tuple[asyncio.AbstractEventLoop, "asyncio.Future[list[bytes]]"]


class MessageReader:
    """pygls's async reader interface (`readline`, `readexactly`) over a blocking stdin."""

    def __init__(self, stdin: BinaryIO) -> None:
        self._stdin = stdin
        self._buffer = b""
        self._pos = 0  # where the unread part of `_buffer` starts
        self._eof = False
        self._parts: deque[bytes] = deque()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.hand_offs = 0  # messages asked of the thread (tests count them)

    # -- on the thread ------------------------------------------------------------------------
    def _fill(self) -> bool:
        """Read what is there (at least one byte, or the end); False at the end of stdin."""
        if self._eof:
            return False
        data = self._stdin.read(_READ_SIZE)
        if not data:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + data
        self._pos = 0
        return True

    def _take(self, end: int) -> bytes:
        """The unread bytes up to `end`; only these are copied (several messages that came
        in one read are not copied again for each line)."""
        out = self._buffer[self._pos : end]
        self._pos = min(end, len(self._buffer))
        return out

    def _line(self) -> bytes:
        """One line with its b"\\n" (b"" or a partial line at the end of stdin)."""
        while True:
            nl = self._buffer.find(b"\n", self._pos)
            if nl >= 0:
                return self._take(nl + 1)
            if not self._fill():
                return self._take(len(self._buffer))

    def _exactly(self, n: int) -> bytes:
        while len(self._buffer) - self._pos < n and self._fill():
            pass
        return self._take(self._pos + n)

    def _read_message(self) -> list[bytes]:
        """Header lines up to the blank line after a Content-Length, then the body; stops
        early at the end of stdin (an empty part, as a plain read gives)."""
        parts: list[bytes] = []
        length = 0
        while True:
            line = self._line()
            parts.append(line)
            if not line:
                return parts
            if not length:
                match = _CONTENT_LENGTH.fullmatch(line)
                if match:
                    length = int(match.group(1))
            if length and not line.strip():
                parts.append(self._exactly(length))
                return parts

    def _serve(self) -> None:
        while True:
            loop, future = self._requests.get()
            parts: list[bytes] = []
            error: Exception | None = None
            try:
                parts = self._read_message()
            except Exception as exc:  # a closed or broken stdin: the loop sees it
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, future, parts, error)
            except RuntimeError:
                return  # the loop is closed: nobody is reading any more

    # -- on the event loop --------------------------------------------------------------------
    async def _next(self) -> bytes:
        if not self._parts:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="eager-lsp stdin", daemon=True
                )
                self._thread.start()
            loop = asyncio.get_running_loop()
            future: asyncio.Future[list[bytes]] = loop.create_future()
            self.hand_offs += 1
            self._requests.put((loop, future))
            self._parts.extend(await future)  # never empty: the end of stdin is b""
        return self._parts.popleft()

    async def readline(self) -> bytes:
        return await self._next()

    async def readexactly(self, n: int) -> bytes:
        return await self._next()


def _settle(
    future: asyncio.Future[list[bytes]], parts: list[bytes], error: Exception | None
) -> None:
    if future.done():
        return  # cancelled: the loop stopped waiting
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(parts)
