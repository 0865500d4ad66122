"""Per-chunk output capture, bounded so an output flood cannot exhaust memory or a pipe.

Two layers. Python-level `sys.stdout`/`sys.stderr` are swapped for `CappedWriter`s while a
chunk runs. Below that, the process's fd 1 and fd 2 point at unlinked append-only temp files
(`FdSink`): C extensions, `os.write(1, ...)` and child processes write there, never to the
parent, and a file never blocks the writer the way a full pipe would. After each chunk the
new bytes (capped) are read back and appended to that chunk's output.

The files are bounded too: a thread user code left running (or a C library) may write at
any time, also while no chunk runs, and once filled a /tmp file to 400 MB. A daemon thread
(`guard_sinks`) cuts each file back to its first SINK_FILE_CAP bytes several times a second
and counts the rest as dropped, so a file never holds much more than what one interval of
writing adds. (If native code writes in a loop while holding the GIL the guard waits for it,
like every other thread.)
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import time
from collections.abc import Sequence

from eager_lsp.limits import CLIPPED_MARKER, IDLE_SINK_CAP, SINK_CHECK_S, STREAM_CAP

SINK_FILE_CAP = max(IDLE_SINK_CAP, 4 * STREAM_CAP)  # drain() reads up to 4 bytes a character


TRUNCATION_MARK = "\n[... output truncated: "  # how a cut stream's last line starts


def truncation_note(dropped: int) -> str:
    return f"{TRUNCATION_MARK}{dropped} more characters]\n"


def cut_output(output: str) -> tuple[str, bool]:
    """`output` without trailing blank lines and without the note `truncation_note` ends a cut
    stream with; and whether it was cut (that note, or a middle left out by
    `limits.clip_middle`, as the kernel backend cuts): then it had more lines than it shows."""
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


class CappedWriter(_TextSink):
    """A text stream that keeps the first `cap` characters and only counts the rest."""

    def __init__(self, cap: int = STREAM_CAP, fileno: int | None = None) -> None:
        super().__init__()
        self._cap = cap
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0
        self._fileno = fileno
        # The main thread writes, live.py's thread adds fd-level text and reads what is new.
        # Reentrant: a trace function or (before 3.11) a signal handler may print from inside
        # write() on the same thread; a plain lock hung the statement there. Such a nested
        # write can take the kept text past the cap by at most its own size.
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
        with self._lock:
            room = self._cap - self._kept
            if room <= 0:
                self._dropped += n
            elif n <= room:
                self._parts.append(s)
                self._kept += n
            else:
                self._parts.append(s[:room])
                self._kept += room
                self._dropped += n - room
        return n

    def flush(self) -> None:
        pass

    def add_dropped(self, n: int) -> None:
        with self._lock:
            self._dropped += n

    def since(self, part: int) -> tuple[str, int]:
        """The text kept after the first `part` writes, and how many writes are kept now."""
        with self._lock:
            parts = self._parts[part:]
            return "".join(parts), part + len(parts)

    @property
    def room(self) -> int:
        return max(0, self._cap - self._kept)

    def getvalue(self) -> str:
        text = "".join(self._parts)
        if self._dropped:
            text += truncation_note(self._dropped)
        return text


class FdSink:
    """Points `fd` at an unlinked temp file so nothing written there reaches the parent."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        rfd, wfd = _unlinked_pair()
        self._read_fd = rfd
        self._lock = threading.Lock()
        self._trimmed = 0  # bytes cut off by trim() since the last drain
        self._pos = 0  # bytes read by read_new since the last drain
        os.dup2(wfd, fd)  # dup2'd fds are inheritable: child processes share the sink
        os.close(wfd)

    def size(self) -> int:
        return os.fstat(self._read_fd).st_size

    def drain(self, limit: int) -> tuple[str, int]:
        """Text written since the last drain or `read_new` (at most `limit` chars) and how much
        was dropped; empties the file."""
        with self._lock:
            trimmed, self._trimmed = self._trimmed, 0
            size = os.fstat(self._read_fd).st_size
            start, self._pos = self._pos, 0
            if size <= start:
                if size:
                    os.ftruncate(self._read_fd, 0)
                return "", trimmed
            limit = max(limit, 0)
            data = os.pread(self._read_fd, min(size - start, limit * 4), start)
            text = data.decode("utf-8", errors="replace")[:limit]
            dropped = max(0, size - start - len(text.encode("utf-8", errors="replace"))) + trimmed
            # Start over each time so a long session does not grow the file without bound.
            os.ftruncate(self._read_fd, 0)
            return text, dropped

    def read_new(self, limit: int) -> str:
        """Text written since the last read (at most `limit` chars), leaving the file as it is:
        while a chunk runs something may be writing, and emptying the file under it would lose
        what it writes meanwhile (`drain`, after the chunk, empties it). An unfinished UTF-8
        sequence at the end waits for the next read."""
        with self._lock:
            size = os.fstat(self._read_fd).st_size
            if size <= self._pos or limit <= 0:
                return ""
            data = _whole_chars(
                os.pread(self._read_fd, min(size - self._pos, limit * 4), self._pos)
            )
            text = data.decode("utf-8", errors="replace")
            if len(text) > limit:
                text = text[:limit]
                data = text.encode("utf-8", errors="replace")
            self._pos += len(data)
            return text

    def trim(self, keep: int) -> int:
        """Cut the file back to its first `keep` bytes; returns how many bytes went. Writers
        use O_APPEND, so they go on writing at the new end."""
        with self._lock:
            size = os.fstat(self._read_fd).st_size
            if size <= keep:
                return 0
            os.ftruncate(self._read_fd, keep)
            self._trimmed += size - keep
            return size - keep


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
