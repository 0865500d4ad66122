"""Standard output for the one-shot commands, when it cannot take what they print.

A reader that goes away (`… | head`). A write to a closed pipe raises BrokenPipeError
wherever it happens, and the printer writes from inside the pipeline (its listener): raised
there, it read as the interpreter being lost and ended in two tracebacks. Here the first
failed write instead points the descriptor at /dev/null (so nothing later fails: the summary,
the final flush), and cancels the command's task, as Ctrl-C would: nobody reads what the rest
of the run would print. The command then exits with 141, a shell's status for a process ended
by SIGPIPE. (SIGPIPE itself is left ignored, as Python sets it: a model server closing its
socket must stay an error, not a silent death.)

Any other failed write (a full disk, `> /dev/full`; stdout closed, `>&-`) ends the command
the same way, with one line on stderr (`cannot write to stdout: …`) and status 1: the output
is lost, and a traceback (or, raised in `generate`'s piece callback, "the model stream broke")
would blame the run or the model for it. With stdout closed, descriptor 1 is held open on
/dev/null first, so no pipe or socket the command opens later takes its number.

An encoding that lacks the tool's own characters ('→', '…', '│'; PYTHONIOENCODING=ascii,
LC_ALL=C) or the script's printed text writes an ASCII stand-in for the tool's characters
('->', '...', '|') and '?' for any other (the `eager-replace` error handler): the output is
the tool's report, not data to keep byte for byte, and a UnicodeEncodeError raised in the
printer stopped the run. (stderr is Python's own `backslashreplace` already.)
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
from typing import Any, TextIO

EXIT_READER_GONE = 141
EXIT_OUTPUT_FAILED = 1

# The tool's own characters, as ASCII where the output's encoding lacks them.
_STAND_INS = {"→": "->", "…": "...", "·": "|", "│": "|", "─": "-", "–": "-", "×": "x", "≈": "~"}
ERRORS = "eager-replace"


def _replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(_STAND_INS.get(c, "?") for c in text), exc.end


codecs.register_error(ERRORS, _replace)


class GuardedStdout:
    """`stream` whose reader may leave or whose writes may fail: `gone` once one has,
    `failed` saying why when it was not a reader leaving. None: stdout was closed."""

    def __init__(self, stream: TextIO | None) -> None:
        self.closed_at_start = stream is None
        if stream is None:
            _hold_descriptor(1)
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the process)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError, TypeError):
                reconfigure(errors=ERRORS)
        self.stream: TextIO = stream
        self.gone = False
        self.failed: str | None = None
        self._task: asyncio.Task[Any] | None = None

    def watch(self) -> None:
        """The running task is the command's: cancelled when the reader goes."""
        self._task = asyncio.current_task()

    def write(self, text: str) -> int:
        if self.closed_at_start and not self.gone:
            self._stop("it is closed")
        if not self.gone:
            try:
                try:
                    return self.stream.write(text)
                except UnicodeEncodeError:  # (a stream that could not be reconfigured)
                    encoding = getattr(self.stream, "encoding", None) or "ascii"
                    return self.stream.write(text.encode(encoding, ERRORS).decode(encoding))
            except BrokenPipeError:
                self._stop()
            except (OSError, ValueError) as exc:
                self._stop(_why(exc))
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._stop()
            except (OSError, ValueError) as exc:
                self._stop(_why(exc))

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def _stop(self, failed: str | None = None) -> None:
        """Nothing more is written: the reader left (`failed` None) or a write failed."""
        self.gone = True
        self.failed = failed
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()  # what was buffered goes to /dev/null now
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


def _hold_descriptor(fd: int) -> None:
    """`fd` open on /dev/null if it is not open at all."""
    try:
        os.fstat(fd)
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)


def watch_stdout() -> None:
    """Called in a command's task: the reader going away cancels it (when sys.stdout is
    guarded, as `eager-lsp`'s one-shot commands have it)."""
    if isinstance(sys.stdout, GuardedStdout):
        sys.stdout.watch()
