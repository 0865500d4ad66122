"""Per-chunk output capture, bounded so an output flood cannot exhaust memory or a pipe.

Two layers. Python-level `sys.stdout`/`sys.stderr` are swapped for `CappedWriter`s while a
chunk runs. Below that, the process's fd 1 and fd 2 point at unlinked append-only temp files
(`FdSink`): C extensions, `os.write(1, ...)` and child processes write there, never to the
parent, and a file never blocks the writer the way a full pipe would. What reaches a file
while a chunk runs is moved into that chunk's writers: by the live-output thread (live.py),
by the guard below when the file grows large, and after the chunk.

A writer keeps the first half and the last half of STREAM_CAP characters and counts what it
leaves out between them (`limits.omission_marker` stands for it in the text): the end of an
output (a progress bar's last state, the lines before an error) is what the user waits for,
and it keeps changing while the statement runs, so live output (live.py) goes on past the cap.

The files are bounded too: a thread user code left running (or a C library) may write at
any time, also while no chunk runs, and once filled a /tmp file to 400 MB. A daemon thread
(`guard_sinks`) looks at each file several times a second; one over SINK_FILE_CAP bytes has
what nobody read yet moved into the running chunk's writer (bounded: its head and its end, the
middle counted), if a chunk in order is running, and is emptied; the rest is counted as
dropped. So a file never holds much more than what one interval of writing adds. (If native
code writes in a loop while holding the GIL the guard waits for it, like every other thread.)
A file is emptied under writers that may still write (O_APPEND: they go on at its new start):
what one writes between the size check and the cut, microseconds, is lost uncounted; that
needs a file past SINK_FILE_CAP, or a chunk's end.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import time
from collections.abc import Sequence

from eager_lsp.limits import (
    CLIPPED_MARKER,
    IDLE_SINK_CAP,
    SINK_CHECK_S,
    STREAM_CAP,
    omission_marker,
)

SINK_FILE_CAP = max(IDLE_SINK_CAP, 4 * STREAM_CAP)  # reads take up to 4 bytes a character


TRUNCATION_MARK = "\n[... output truncated: "  # how a head-only cut stream's last line started


def truncation_note(dropped: int) -> str:
    """The note that ended a stream cut after its head (before writers kept head and tail; a
    reader of stored or older output still meets it)."""
    return f"{TRUNCATION_MARK}{dropped} more characters]\n"


def cut_output(output: str) -> tuple[str, bool]:
    """`output` without trailing blank lines and without the note `truncation_note` ends a cut
    stream with; and whether it was cut (that note, or a middle left out around
    `limits.omission_marker`, as the worker's writers and the kernel backend cut): then it had
    more lines than it shows."""
    text = output.rstrip()
    cut = False
    mark = text.rfind(TRUNCATION_MARK)
    if mark >= 0 and "\n" not in text[mark + 1 :]:
        text, cut = text[:mark].rstrip(), True
    return text, cut or bool(CLIPPED_MARKER.search(text))


class _TextSink(io.TextIOBase):
    """What user code may ask of sys.stdout/sys.stderr besides write(): UTF-8, never a tty."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "replace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False


TAIL_SLACK = 4096  # characters a writer's tail may run over before it is cut back


class CappedWriter(_TextSink):
    """A text stream that keeps its first `cap // 2` characters and its last `cap - cap // 2`,
    and counts the rest.

    Positions count every character written or `skip`ped since the start: the head holds
    positions 0..head_len, the tail the newest ones, up to the end, without a hole (a `skip`
    empties it: what it held joins what was left out). So a text is its head, then (if
    anything was left out) one `omission_marker`, then its tail; `since` gives what is new
    after a position, for live output. The tail is cut back to its cap once it is TAIL_SLACK
    over (one join every few writes, not a slice per write): a writer holds at most
    `cap + TAIL_SLACK` characters.
    """

    def __init__(self, cap: int = STREAM_CAP, fileno: int | None = None) -> None:
        super().__init__()
        self._head_cap = cap // 2
        self.tail_cap = cap - cap // 2
        self._head: list[str] = []
        self._head_len = 0
        self._head_open = True  # closed once full, or by a skip: the head has no hole
        self._tail: list[str] = []  # positions _end - _tail_len .. _end
        self._tail_len = 0
        self._tail_max = self.tail_cap + TAIL_SLACK
        self._end = 0  # the position after the last character written or skipped
        self._fileno = fileno
        # The main thread writes, live.py's thread and the sink guard add fd-level text and
        # read what is new. Reentrant: a trace function or (before 3.11) a signal handler may
        # print from inside write() on the same thread; a plain lock hung the statement
        # there. Such a nested write runs between two lines of the outer one; it can take the
        # kept text past the cap by its own size, or shift a few characters against their
        # positions, no more.
        self._lock = threading.RLock()

    def fileno(self) -> int:
        # Libraries (faulthandler, subprocess) may ask; the fd is the captured fd-level sink.
        if self._fileno is None:
            raise io.UnsupportedOperation("fileno")
        return self._fileno

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        n = len(s)
        if not n:
            return 0
        with self._lock:
            self._end += n
            if self._head_open:
                room = self._head_cap - self._head_len
                if n <= room:
                    self._head.append(s)
                    self._head_len += n
                    return n
                self._head.append(s[:room])
                self._head_len += room
                self._close_head()
                s = s[room:]
            self._tail.append(s)
            self._tail_len = kept = self._tail_len + len(s)
            if kept > self._tail_max:
                text = "".join(self._tail)[-self.tail_cap :]
                self._tail = [text]
                self._tail_len = len(text)
        return n

    def _close_head(self) -> None:
        if self._head_open:
            self._head_open = False
            self._head = ["".join(self._head)]  # one string, not thousands of little ones

    def flush(self) -> None:
        pass

    def skip(self, n: int) -> None:
        """`n` characters (or bytes of fd-level output) were written here but are lost: they
        are counted as left out, and so is the tail written before them (no hole in it)."""
        if n > 0:
            with self._lock:
                self._end += n
                self._close_head()
                self._tail = []
                self._tail_len = 0

    @property
    def head_room(self) -> int:
        """Characters the head still takes before text goes to the tail."""
        return max(0, self._head_cap - self._head_len) if self._head_open else 0

    @property
    def cut(self) -> bool:
        """Whether anything written was left out (then a marker says so)."""
        return self._end > self._head_len + min(self._tail_len, self.tail_cap)

    def since(self, position: int, limit: int | None = None) -> tuple[str, int]:
        """The text after `position` and the position it ends at; what was left out there is
        one `omission_marker`. With `limit`, once the stream was cut: at most `limit` of the
        newest characters after the head (the head is sent whole: it is bounded, and kept)."""
        with self._lock:
            end = self._end
            if position >= end:
                return "", end
            parts: list[str] = []
            at = position  # the first position not accounted for yet
            if at < self._head_len:
                parts.append("".join(self._head)[at:])
                at = self._head_len
            start = max(at, end - min(self._tail_len, self.tail_cap))  # not its slack
            if limit is not None and self.cut and end - start > limit:
                start = end - limit
            if start > at:
                parts.append(omission_marker(start - at))
            if start < end:
                tail = "".join(self._tail)
                self._tail = [tail]
                parts.append(tail[len(tail) - min(end - start, len(tail)) :])
            return "".join(parts), end

    def getvalue(self) -> str:
        """All that is kept: the head, a marker for what was left out, the tail."""
        return self.since(0)[0]


class FdSink:
    """Points `fd` at an unlinked temp file so nothing written there reaches the parent.

    While a chunk runs in order its writer is `attach`ed: what reaches the file is moved into
    it (`move_into`). `_pos` is how much of the file was moved already; `_trimmed`, how much
    was cut off unread since the file was last emptied for a chunk."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        rfd, wfd = _unlinked_pair()
        self._read_fd = rfd
        self._lock = threading.Lock()
        self._trimmed = 0
        self._pos = 0
        self._consumer: CappedWriter | None = None
        os.dup2(wfd, fd)  # dup2'd fds are inheritable: child processes share the sink
        os.close(wfd)

    def size(self) -> int:
        return os.fstat(self._read_fd).st_size

    def discard(self) -> None:
        """Empty the file: what it holds was written while no chunk ran, nobody's output."""
        with self._lock:
            os.ftruncate(self._read_fd, 0)
            self._pos = self._trimmed = 0

    def attach(self, writer: CappedWriter) -> None:
        """A chunk in order begins: empty the file (`discard`), then what reaches it goes to
        `writer` (the guard moves it there when the file grows large)."""
        with self._lock:
            os.ftruncate(self._read_fd, 0)
            self._pos = self._trimmed = 0
            self._consumer = writer

    def finish(self, writer: CappedWriter) -> None:
        """The chunk ended: the rest of what was written goes to `writer` and the file is
        emptied (a long session must not grow it). Detached first, under the same lock, so the
        guard cannot cut the rest away in between."""
        with self._lock:
            self._consumer = None
            self._move(writer, final=True)
            os.ftruncate(self._read_fd, 0)
            self._pos = self._trimmed = 0

    def move_into(self, writer: CappedWriter) -> None:
        """Move what was written since the last move into `writer`, leaving the file as it is:
        something may be writing, and emptying the file under it would lose what it writes
        meanwhile. An unfinished UTF-8 sequence at the end waits for the next move."""
        with self._lock:
            self._move(writer, final=False)

    def _move(self, writer: CappedWriter, final: bool) -> None:
        if self._trimmed:
            writer.skip(self._trimmed)
            self._trimmed = 0
        size = os.fstat(self._read_fd).st_size
        if size <= self._pos:
            return
        head, tail = writer.head_room, 4 * writer.tail_cap  # bytes: the tail's characters
        if size - self._pos <= head + tail:
            data = os.pread(self._read_fd, size - self._pos, self._pos)
            data = data if final else _whole_chars(data)
            self._pos += len(data)
            writer.write(data.decode("utf-8", errors="replace"))
            return
        # Only what the writer's head still takes and what its tail keeps are read; the
        # middle is counted (in bytes).
        first = _whole_chars(os.pread(self._read_fd, head, self._pos)) if head else b""
        begin = max(self._pos + len(first), size - tail)
        last = os.pread(self._read_fd, size - begin, begin)
        lead = _continuation_bytes(last)  # the window may start inside a character
        last = last[lead:] if final else _whole_chars(last[lead:])
        if first:
            writer.write(first.decode("utf-8", errors="replace"))
        writer.skip(begin + lead - self._pos - len(first))
        writer.write(last.decode("utf-8", errors="replace"))
        self._pos = begin + lead + len(last)

    def trim(self, keep: int) -> int:
        """Keep the file at about `keep` bytes: when it is larger, what was not read yet goes to
        the attached writer first (bounded as any move), then the file is emptied and the rest
        counted. Returns how many bytes went. Writers use O_APPEND, so they go on writing at
        the new end."""
        with self._lock:
            size = os.fstat(self._read_fd).st_size
            if size <= keep:
                return 0
            if self._consumer is not None:
                self._move(self._consumer, final=False)
            size = os.fstat(self._read_fd).st_size  # what came since the move is lost: counted
            self._trimmed += max(0, size - self._pos)
            os.ftruncate(self._read_fd, 0)
            self._pos = 0
            return size


def guard_sinks(
    sinks: Sequence[FdSink], cap: int = SINK_FILE_CAP, interval: float = SINK_CHECK_S
) -> threading.Thread:
    """Start the daemon thread that keeps every sink file at about `cap` bytes."""

    def guard() -> None:
        while True:
            time.sleep(interval)
            for sink in sinks:
                try:
                    sink.trim(cap)
                except OSError:
                    pass

    thread = threading.Thread(target=guard, name="eager-lsp-output-guard", daemon=True)
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]  # hidden from debugpy
    thread.start()
    return thread


def _whole_chars(data: bytes) -> bytes:
    """`data` without a UTF-8 sequence cut short at its end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= need else data[:-back]
    return data


def _continuation_bytes(data: bytes) -> int:
    """How many bytes `data` starts with that continue a UTF-8 sequence begun before it."""
    n = 0
    while n < min(3, len(data)) and 0x80 <= data[n] < 0xC0:
        n += 1
    return n


def _unlinked_pair() -> tuple[int, int]:
    """A read fd and an O_APPEND write fd on the same unlinked temp file."""
    handle, path = tempfile.mkstemp(prefix="eager-lsp-out-")
    try:
        wfd = os.open(path, os.O_WRONLY | os.O_APPEND)
        rfd = os.open(path, os.O_RDWR)
    finally:
        os.unlink(path)
        os.close(handle)
    os.set_inheritable(rfd, False)
    return rfd, wfd


class StreamRouter(_TextSink):
    """The permanent `sys.stdout`/`sys.stderr`: forwards to the current chunk's writer.

    Libraries keep references to the stream they saw first (`logging.basicConfig`, warnings,
    progress bars); a permanent router sends their later writes to whichever chunk is running
    rather than to a stale writer from an earlier chunk.
    """

    def __init__(self, idle: io.TextIOBase, fileno: int) -> None:
        super().__init__()
        self.idle = idle
        self.target: io.TextIOBase = idle
        self._fileno = fileno
        self.buffer = _BytesToText(self)

    def fileno(self) -> int:
        return self._fileno

    def write(self, s: str) -> int:
        return self.target.write(s)

    def flush(self) -> None:
        self.target.flush()


class _BytesToText:
    """`sys.stdout.buffer` for code that writes bytes."""

    def __init__(self, router: StreamRouter) -> None:
        self._router = router

    def write(self, data: bytes) -> int:
        self._router.write(bytes(data).decode("utf-8", errors="replace"))
        return len(data)

    def flush(self) -> None:
        self._router.flush()
