"""Standard output for the one-shot commands, when its reader goes away (`… | head`).

A write to a closed pipe raises BrokenPipeError wherever it happens, and the printer writes
from inside the pipeline (its listener): raised there, it read as the interpreter being lost
and ended in two tracebacks. Here the first failed write instead points the descriptor at
/dev/null (so nothing later fails: the summary, the final flush), and cancels the command's
task, as Ctrl-C would: nobody reads what the rest of the run would print. The command then
exits with 141, a shell's status for a process ended by SIGPIPE. (SIGPIPE itself is left
ignored, as Python sets it: a model server closing its socket must stay an error, not a
silent death.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import Any, TextIO

EXIT_READER_GONE = 141


class GuardedStdout:
    """`stream` whose reader may leave; `gone` once it has."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.gone = False
        self._task: asyncio.Task[Any] | None = None

    def watch(self) -> None:
        """The running task is the command's: cancelled when the reader goes."""
        self._task = asyncio.current_task()

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def _reader_gone(self) -> None:
        self.gone = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            self.stream.flush()  # what was buffered goes to /dev/null now
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()


def watch_stdout() -> None:
    """Called in a command's task: the reader going away cancels it (when sys.stdout is
    guarded, as `eager-lsp`'s one-shot commands have it)."""
    if isinstance(sys.stdout, GuardedStdout):
        sys.stdout.watch()
