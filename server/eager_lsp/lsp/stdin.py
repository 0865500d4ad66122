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

What it holds is bounded (pygls's reader was not): a message whose Content-Length is over
`limits.INBOUND_MESSAGE_CAP` is read past and dropped, with an error in the log; a header
line longer than `limits.INBOUND_HEADER_CAP` is dropped up to its line end, and so are the
header lines of one message past that many bytes in all, and lines before a Content-Length
(which pygls ignores anyway); the messages after any of these are read as usual. So a client
cannot make the server allocate what it says, only what the caps allow. A body is read in
large pieces joined once, so reading one costs time in proportion to its size.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
from collections import deque
from typing import BinaryIO

from eager_lsp import limits

log = logging.getLogger(__name__)

_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # as pygls parses it
_OVERLONG = b"X-Eager-Dropped: overlong header line\r\n"  # what an overlong line reads as
_OVERLONG_LOG = "a header line from the editor is over %d bytes: dropped"
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
        """One line with its b"\\n" (b"" or a partial line at the end of stdin). A line over
        the header cap is read past and stands as one line no header matches."""
        while True:
            nl = self._buffer.find(b"\n", self._pos)
            if nl >= 0:
                if nl + 1 - self._pos > limits.INBOUND_HEADER_CAP:
                    log.error(_OVERLONG_LOG, limits.INBOUND_HEADER_CAP)
                    self._pos = nl + 1
                    return _OVERLONG
                return self._take(nl + 1)
            if len(self._buffer) - self._pos > limits.INBOUND_HEADER_CAP:
                log.error(_OVERLONG_LOG, limits.INBOUND_HEADER_CAP)
                self._buffer, self._pos = b"", 0
                while True:  # drop up to the line end, holding no more than one read
                    if not self._fill():
                        return b""
                    nl = self._buffer.find(b"\n")
                    if nl >= 0:
                        self._pos = nl + 1
                        return _OVERLONG
                    self._buffer, self._pos = b"", 0
            if not self._fill():
                return self._take(len(self._buffer))

    def _exactly(self, n: int) -> bytes:
        """`n` bytes (fewer at the end of stdin), read in large pieces and joined once: a big
        body is not copied again on every read."""
        have = len(self._buffer) - self._pos
        if have >= n:
            return self._take(self._pos + n)
        chunks = [self._take(len(self._buffer))]
        need = n - have
        while need > 0 and not self._eof:
            data = self._stdin.read(min(max(need, _READ_SIZE), 1 << 20))
            if not data:
                self._eof = True
                break
            if len(data) > need:  # the start of the next message came with it
                self._buffer, self._pos = data[need:], 0
                data = data[:need]
            chunks.append(data)
            need -= len(data)
        return b"".join(chunks)

    def _skip(self, n: int) -> bool:
        """Read past `n` bytes holding at most one read of them; False at the end of stdin."""
        while True:
            have = len(self._buffer) - self._pos
            if have >= n:
                self._pos += n
                return True
            n -= have
            self._buffer, self._pos = b"", 0
            if not self._fill():
                return False

    def _read_message(self) -> list[bytes]:
        """From a Content-Length line to the blank line after it, then the body; stops early
        at the end of stdin (an empty part, as a plain read gives). What pygls would ignore is
        not kept: lines before the Content-Length line, and header lines past the header cap."""
        parts: list[bytes] = []
        length = 0
        held = 0
        while True:
            line = self._line()
            if not line:
                parts.append(line)
                return parts
            if not length:
                match = _CONTENT_LENGTH.fullmatch(line)
                if match:
                    length = int(match.group(1))
                    parts, held = [line], len(line)
                continue
            if line.strip():
                held += len(line)
                if held <= limits.INBOUND_HEADER_CAP:
                    parts.append(line)
                elif held - len(line) <= limits.INBOUND_HEADER_CAP:
                    log.error(
                        "a message from the editor has over %d bytes of headers: the rest are dropped",
                        limits.INBOUND_HEADER_CAP,
                    )
                continue
            if length > limits.INBOUND_MESSAGE_CAP:
                log.error(
                    "a message from the editor of %d bytes is over the cap (%d): dropped",
                    length,
                    limits.INBOUND_MESSAGE_CAP,
                )
                if not self._skip(length):
                    return [b""]
                parts, length = [], 0  # on to the next message
                continue
            parts.append(line)
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
