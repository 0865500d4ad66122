"""The server's stdin: one thread hop per message.

pygls reads stdin on a thread with one `run_in_executor` per header line and one per body:
three hand-offs (a thread wake-up, then a loop wake-up) for each message an editor sends.
With ten documents generating, the editor's answers and didChanges were about 10 % of the
server's CPU in those hand-offs alone. This reader lets the thread read a whole message
(its header lines and its body) and hands it over in one piece; pygls's own loop
(`pygls.io_.run_async`) then takes the lines and the body from it without waiting. Messages
are still read one at a time, in order, each after the previous one was handled, as before.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # as pygls parses it


class MessageReader:
    """pygls's async reader interface (`readline`, `readexactly`) over a blocking stdin."""

    def __init__(self, stdin: BinaryIO, executor: ThreadPoolExecutor | None) -> None:
        self._stdin = stdin
        self._executor = executor
        self._parts: deque[bytes] = deque()

    def _read_message(self) -> list[bytes]:
        """On the thread: header lines up to the blank line after a Content-Length, then the
        body; stops early at the end of stdin (an empty part, as a plain read gives)."""
        parts: list[bytes] = []
        length = 0
        while True:
            line = self._stdin.readline()
            parts.append(line)
            if not line:
                return parts
            if not length:
                match = _CONTENT_LENGTH.fullmatch(line)
                if match:
                    length = int(match.group(1))
            if length and not line.strip():
                parts.append(self._stdin.read(length))
                return parts

    async def _next(self) -> bytes:
        if not self._parts:
            loop = asyncio.get_running_loop()
            self._parts.extend(await loop.run_in_executor(self._executor, self._read_message))
        return self._parts.popleft()

    async def readline(self) -> bytes:
        return await self._next()

    async def readexactly(self, n: int) -> bytes:
        return await self._next()
