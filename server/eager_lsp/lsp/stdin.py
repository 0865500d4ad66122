"""The server's stdin: read on the event loop where the platform allows it, on a thread else.

pygls reads stdin on a thread with one `run_in_executor` per header line and one per body:
three hand-offs (a thread wake-up, then a loop wake-up) for each message an editor sends.
Even one hand-off per message is costly with ten documents generating: each is a thread
woken, the GIL passed between two threads and the loop woken through its self-pipe (about
14 % of the server's CPU in docs/benchmarks.md, "Stdin on the event loop").

- **On the event loop** when stdin is a pipe, a socket or a terminal on a POSIX system (what
  an editor gives a language server): the loop watches the descriptor and reads what is there
  when it is readable, so a message costs no thread and no extra wake-up. The descriptor stays
  blocking (its open file may be shared; asyncio's pipe transport would make it non-blocking
  for everyone holding it), so each read first polls it without waiting: the loop may call
  the reader twice for one readiness. pygls ends the server with SystemExit out of a
  callback, which stops the loop's turn with the reader's call still queued; asyncio's
  clean-up runs the loop again, whose select queues it once more, and the second read
  blocked on the pipe the editor keeps open until the process ends (it hung until the exit
  deadline ended it). Reading
  pauses while more than `_READY_CAP` bytes of whole messages wait to be handled, so an
  editor that writes faster than the server handles is held back by the pipe, as before.
- **On a thread** otherwise (a regular file, Windows, a stdin without a descriptor): a daemon
  thread of its own reads a whole message per hand-off. Not a pool's thread: after `exit` the
  loop may still be waiting for the next message, and a pool joins its threads when the
  interpreter exits, so a thread blocked reading an open stdin kept the process alive. It
  reads with `read(n)` from an unbuffered file (`serve` passes a raw `FileIO`), so it holds no
  buffered stream's lock that the interpreter would want while finalizing.

Both cut the bytes into messages with one `Framer`; pygls's own loop (`pygls.io_.run_async`)
then takes each message's lines and body without waiting, in order, as from its own reader.

What is held is bounded (pygls's reader was not): a message whose Content-Length is over
`limits.INBOUND_MESSAGE_CAP` is read past and dropped, with an error in the log, and so is a
body with more JSON values outside strings, or more strings, than `limits.INBOUND_VALUE_CAP`
(a few bytes each that parse into dozens: 64 MiB of `{}` took 1.7 GB, of `"ab",` 1 GB); a header
line longer than `limits.INBOUND_HEADER_CAP` is dropped up to its line end, and so are the
header lines of one message past that many bytes in all, and lines before a Content-Length
(which pygls ignores anyway); the messages after any of these are read as usual. A wrong
Content-Length costs the messages it runs into, not all the rest: a header glued to the end
of a body (a long one too) is read from where it starts. A
Content-Length of more than 18 digits is over every cap (its body is read past); pygls is
handed the length as a plain number, never the client's digits. So a client
cannot make the server allocate what it says, only what the caps allow. A body is gathered
in one growing buffer, so reading one costs time in proportion to its size however it is cut.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import select
import stat
import sys
import threading
from collections import deque
from typing import BinaryIO, cast

from eager_lsp import limits
from eager_lsp.lsp.waits import Wake

log = logging.getLogger(__name__)

_HEADER = b"Content-Length: "
_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # as pygls parses it
_WINDOW = 1 << 16  # bytes of a body whose strings are cut out at once (`_too_many_values`)
_OVERLONG = b"X-Eager-Dropped: overlong header line\r\n"  # what an overlong line reads as
_OVERLONG_LOG = "a header line from the editor is over %d bytes: dropped"
_RESYNC_LOG = "a header from the editor glued to the end of a body (a wrong Content-Length)"
_NOT_A_NAME = re.compile(rb"[^-!#$%&'*+.^_`|~0-9A-Za-z]")  # not in a header's name (RFC 9110)
_TAIL = 64  # bytes kept of an overlong line: more than a Content-Length header needs
_READ_SIZE = 1 << 16
_BIG_READ = 1 << 20  # the largest read, for the rest of a big body
_READY_CAP = 1 << 20  # bytes of whole messages read ahead before the loop stops reading
_END = [b""]  # what every message after the end of stdin is (pygls stops at an empty line)

_Request = tuple[asyncio.AbstractEventLoop, "asyncio.Future[list[bytes]]"]


class Framer:
    """Cuts the editor's bytes into messages as they come, however they are split.

    `push` bytes (`end` at the end of stdin), `take` whole messages: each is its Content-Length
    line, its other header lines (up to the header cap), the blank line and the body. After the
    end, the part of a message that came (its header lines, or a shorter body) comes out with
    an empty part, then only `[b""]`: what pygls's loop reads as the end of its stream."""

    def __init__(self) -> None:
        self._buffer = b""
        self._pos = 0  # where the unread part of `_buffer` starts
        self._eof = False
        self._done = False  # the end was handed out
        self._dropping = False  # inside an overlong header line, up to its end
        self._tail = b""  # the last bytes of that line (a header may be glued at its end)
        self._parts: list[bytes] = []  # the message being read
        self._length = 0  # its Content-Length, once read
        self._held = 0  # bytes of its header lines
        self._body: bytearray | None = None  # what came of its body, while it comes
        self._need = 0  # bytes of the body still to come
        self._skip = 0  # bytes of a body over the cap still to read past
        self._ready: deque[list[bytes]] = deque()
        self.ready_bytes = 0  # in whole messages not yet taken

    def push(self, data: bytes) -> None:
        if self._pos < len(self._buffer):
            self._buffer = self._buffer[self._pos :] + data
        else:
            self._buffer = data  # no copy: a body's piece is taken whole from here
        self._pos = 0
        self._advance()

    def end(self) -> None:
        self._eof = True
        self._advance()

    def take(self) -> list[bytes] | None:
        """The next whole message, `[b""]` after the end, or None until more bytes come."""
        if self._ready:
            parts = self._ready.popleft()
            self.ready_bytes -= sum(map(len, parts))
            return parts
        return _END if self._done else None

    def ready(self) -> bool:
        """Whether `take` has something: a whole message, or the end."""
        return bool(self._ready) or self._done

    def want(self) -> int:
        """How much the next read should ask for: the rest of a big body comes in big reads."""
        return min(max(self._need, _READ_SIZE), _BIG_READ)

    def held(self) -> int:
        """Bytes held outside whole messages, read or not (tests check the caps with it)."""
        return len(self._buffer) + len(self._body or b"")

    # -- cutting ------------------------------------------------------------------------------
    def _advance(self) -> None:
        while not self._done:
            if self._skip:
                if not self._read_past():
                    return
            elif self._body is not None:
                if not self._read_body():
                    return
            else:
                line = self._line()
                if line is None:
                    return
                self._on_line(line)

    def _emit(self, parts: list[bytes]) -> None:
        self._ready.append(parts)
        self.ready_bytes += sum(map(len, parts))

    def _take(self, end: int) -> bytes:
        out = self._buffer[self._pos : end]
        self._pos = end
        return out

    def _line(self) -> bytes | None:
        """One line with its b"\\n", a partial line or b"" at the end, None until more comes.
        A line over the header cap is read past and stands as one line no header matches."""
        cap = limits.INBOUND_HEADER_CAP
        while True:
            nl = self._buffer.find(b"\n", self._pos)
            if self._dropping:
                if nl < 0:
                    self._tail = (self._tail + self._buffer[self._pos :])[-_TAIL:]
                    self._buffer, self._pos = b"", 0  # dropped, holding no more than one read
                    return b"" if self._eof else None
                self._dropping = False
                tail, self._tail = (self._tail + self._buffer[self._pos : nl + 1])[-_TAIL:], b""
                self._pos = nl + 1
                return self._overlong(tail)
            if nl >= 0:
                if nl + 1 - self._pos > cap:
                    log.error(_OVERLONG_LOG, cap)
                    tail = self._buffer[max(self._pos, nl + 1 - _TAIL) : nl + 1]
                    self._pos = nl + 1
                    return self._overlong(tail)
                return self._take(nl + 1)
            if len(self._buffer) - self._pos > cap:
                log.error(_OVERLONG_LOG, cap)
                self._tail = self._buffer[-_TAIL:]
                self._buffer, self._pos = b"", 0
                self._dropping = True
                continue
            if self._eof:
                return self._take(len(self._buffer))
            return None

    def _overlong(self, tail: bytes) -> bytes:
        """What an overlong line reads as: its end, when a header is glued there (after a
        wrong Content-Length, the rest of a long body and the next header are one line) and
        a header is awaited; else a line no header matches."""
        if not self._length and _HEADER in tail:
            return tail
        return _OVERLONG

    def _on_line(self, line: bytes) -> None:
        """From a Content-Length line to the blank line after it; what pygls would ignore is
        not kept: lines before the Content-Length line, header lines past the header cap."""
        if not line:  # the end of stdin
            self._emit([*self._parts, b""])
            self._parts = []
            self._done = True
            return
        if not self._length:
            match = _CONTENT_LENGTH.fullmatch(line)
            if match is None and _HEADER in line:
                # A wrong Content-Length before: the end of a body ran into the next header.
                # Read on from that header, or no message after it would ever be read; but
                # only after what cannot be a header's name (`X-Original-Content-Length: 9`
                # is a header, `…}Content-Length: 52` a body's end).
                at = line.rfind(_HEADER)
                if _NOT_A_NAME.search(line, 0, at):
                    match = _CONTENT_LENGTH.fullmatch(line[at:])
                    if match is not None:
                        log.error(_RESYNC_LOG)
            if match:
                self._length = _length(match.group(1))
                # as pygls will read it: its own int() of thousands of digits would fail
                canonical = b"Content-Length: %d\r\n" % self._length
                self._parts, self._held = [canonical], len(line)
            return
        if line.strip():
            self._held += len(line)
            if self._held <= limits.INBOUND_HEADER_CAP:
                self._parts.append(line)
            elif self._held - len(line) <= limits.INBOUND_HEADER_CAP:
                log.error(
                    "a message from the editor has over %d bytes of headers: the rest are dropped",
                    limits.INBOUND_HEADER_CAP,
                )
            return
        if self._length > limits.INBOUND_MESSAGE_CAP:
            log.error(
                "a message from the editor of %d bytes is over the cap (%d): dropped",
                self._length,
                limits.INBOUND_MESSAGE_CAP,
            )
            self._skip = self._length
            self._parts, self._length = [], 0  # on to the next message
            return
        self._parts.append(line)
        self._body, self._need = bytearray(), self._length

    def _read_body(self) -> bool:
        assert self._body is not None
        n = min(self._need, len(self._buffer) - self._pos)
        if n == self._need and not self._body:
            body = self._take(self._pos + n)  # all of it in what came: no copy
        else:
            self._body += self._take(self._pos + n)  # (a bytearray: appending is not copying)
            self._need -= n
            if self._need and not self._eof:
                return False
            # Not copied: pygls's loop only tests and parses a body, which a bytearray allows.
            body = cast(bytes, self._body)
        if _too_many_values(body):
            log.error(
                "a message from the editor has over %d JSON values or strings (or is not UTF-8):"
                " dropped",
                limits.INBOUND_VALUE_CAP,
            )
        else:
            self._emit([*self._parts, body])  # a shorter one at the end of stdin
        self._parts, self._length, self._body, self._need = [], 0, None, 0
        return True

    def _read_past(self) -> bool:
        n = min(self._skip, len(self._buffer) - self._pos)
        self._pos += n
        self._skip -= n
        if self._skip and not self._eof:
            self._buffer, self._pos = b"", 0  # holding no more than one read of it
            return False
        self._skip = 0  # read past; or the end came first, and is read next as the end
        return True


def _too_many_values(body: bytes) -> bool:
    """More than limits.INBOUND_VALUE_CAP values and members (each `,` `:` `{` `[` outside
    strings), or strings: parsed, each costs dozens of bytes, far more than its text. A
    string's text is not counted (a document's text full of brackets is one value). Cheap
    tests first: a body of fewer bytes than twice the cap, or with fewer marks in all, cannot
    be over. Memory stays in proportion to the body: the escapes go first (backslashes pair
    up from the left, as JSON reads them), then every quote left opens or closes a string,
    and the strings, at most the cap of them, are cut out a window at a time (a Python loop
    over them took 2.2 s for 1.9 million keys; a regex that read escapes itself kept about
    115 bytes per escape, gigabytes for a 64 MiB body)."""
    cap = limits.INBOUND_VALUE_CAP
    if len(body) <= 2 * cap:
        return False
    if _marks(body, 0, len(body)) <= cap:
        return False
    if b"\x00" in body:
        # Not UTF-8 (which LSP bodies are, and where JSON has no NUL byte) but UTF-16 or -32,
        # which json.loads also reads: a quote byte may be half of another character, so
        # it cannot be counted; taken as over, or a bomb could pass.
        return True
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    if plain.count(b'"') // 2 > cap:
        return True
    # Between quotes is inside a string (every other part), a window at a time: the parts of
    # a whole body at once took 340 MB for two million empty strings. A string still open at
    # a window's end (an odd number of quotes) is open at the next one's start. (A regex that
    # cut the strings out took four times as long.)
    marks, inside = 0, False
    for at in range(0, len(plain), _WINDOW):
        parts = plain[at : at + _WINDOW].split(b'"')
        outside = b"".join(parts[1::2] if inside else parts[0::2])
        marks += _marks(outside, 0, len(outside))
        inside ^= len(parts) % 2 == 0
    return marks > cap


def _marks(body: bytes, start: int, end: int) -> int:
    return sum(body.count(c, start, end) for c in (b",", b":", b"{", b"["))


def _length(digits: bytes) -> int:
    """A Content-Length's value. Past 18 digits it is over every cap (and Python refuses to
    convert over 4,300 digits: a ValueError here ended the server), so it is taken as "too
    big" without converting: the body it announces is read past, as any over the cap."""
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 18 else 10**18


class MessageReader:
    """pygls's async reader interface (`readline`, `readexactly`) over the server's stdin."""

    def __init__(self, stdin: BinaryIO) -> None:
        self._stdin = stdin
        self.framer = Framer()
        self._parts: deque[bytes] = deque()
        self._mode = ""  # "loop" or "thread", chosen on the first read
        # on the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd = -1
        self._poll: select.poll  # set with the descriptor, on the loop only
        self._reading = False
        self._arrived = Wake()  # set when a whole message, the end or an error is there
        self._error: Exception | None = None
        # on a thread
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.hand_offs = 0  # messages asked of the thread (tests count them)
        self.reads = 0  # reads on the loop (tests count them)

    async def readline(self) -> bytes:
        return await self._next()

    async def readexactly(self, n: int) -> bytes:
        return await self._next()

    async def _next(self) -> bytes:
        if not self._parts:
            if not self._mode:
                self._mode = "loop" if self._watch() else "thread"
            if self._mode == "loop":
                self._parts.extend(await self._from_loop())
            else:
                self._parts.extend(await self._from_thread())
        return self._parts.popleft()

    # -- on the event loop --------------------------------------------------------------------
    def _watch(self) -> bool:
        """Whether stdin can be read on the loop: a pipe, socket or terminal the loop's
        selector accepts (not a regular file, nor Windows' loop)."""
        if sys.platform == "win32":
            return False
        try:
            fd = self._stdin.fileno()
            mode = os.fstat(fd).st_mode
        except (AttributeError, OSError, ValueError):  # a replaced stdin, or a closed one
            return False
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
            return False
        loop = asyncio.get_running_loop()
        try:
            loop.add_reader(fd, self._readable)
        except (NotImplementedError, OSError, ValueError):  # e.g. /dev/null: not pollable
            return False
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._loop, self._fd, self._reading = loop, fd, True
        return True

    async def _from_loop(self) -> list[bytes]:
        assert self._loop is not None
        parts = self.framer.take()
        if parts is not None:
            # Read with the one before: yield once, as a thread's hand-off did, so that the
            # handler the previous message started runs its first step before this message
            # is handled (a didChange right behind a request must not overtake its start).
            await asyncio.sleep(0)
            return parts
        while True:
            if self._error is not None:
                raise self._error
            if not self._reading:
                self._loop.add_reader(self._fd, self._readable)
                self._reading = True
            self._arrived.clear()
            await self._arrived.wait(None)
            parts = self.framer.take()
            if parts is not None:
                return parts

    def _readable(self) -> None:
        try:
            if not self._poll.poll(0):
                return  # called twice for one readiness (see the module docstring)
            data = os.read(self._fd, self.framer.want())
            self.reads += 1
            if data:
                self.framer.push(data)
                if self.framer.ready_bytes > _READY_CAP:
                    self._stop_reading()  # the pipe holds the rest until these are handled
            else:
                self.framer.end()
                self._stop_reading()
        except (BlockingIOError, InterruptedError):
            return
        except Exception as exc:  # a broken stdin (or a bug): the message loop sees it, once
            self._error = exc
            self._stop_reading()
            self._arrived.set()
            return
        if self.framer.ready():
            self._arrived.set()

    def _stop_reading(self) -> None:
        if self._reading and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._reading = False

    # -- on a thread --------------------------------------------------------------------------
    async def _from_thread(self) -> list[bytes]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="eager-lsp stdin", daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[bytes]] = loop.create_future()
        self.hand_offs += 1
        self._requests.put((loop, future))
        return await future  # never empty: the end of stdin is [b""]

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

    def _read_message(self) -> list[bytes]:
        """Read until a whole message (or the end) is there."""
        while (parts := self.framer.take()) is None:
            data = self._stdin.read(self.framer.want())
            if data:
                self.framer.push(data)
            else:
                self.framer.end()
        return parts


def _settle(
    future: asyncio.Future[list[bytes]], parts: list[bytes], error: Exception | None
) -> None:
    if future.done():
        return  # cancelled: the loop stopped waiting
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(parts)
