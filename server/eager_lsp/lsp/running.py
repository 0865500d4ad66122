"""The statements of a document that are running now, and the end of what they printed so far.

A statement that runs longer than 0.25 s sends its output while it runs (core `ChunkOutput`,
passed on as `eager/output`; past the worker's cap each piece is its newest text after a
marker counting what was left out); its result, which holds the head and the end of it, comes
when it ends. Until then the hover and `eager.resultDetail` (lsp/hover.py) show how long it
has been running and the latest of its output. This is what they read; the result store
(lsp/store.py) takes over once the result is in.

Rules:
- Bounded: of each stream only the last TAIL_LIMIT characters are kept, and how many came
  before them (a loop that prints for hours keeps 32,000 characters: what the detail shows;
  the hover shows the last few thousand of them). A document keeps at most
  MAX_RUNNING statements: one runs at a time in the sequential gates, gate `parallel` runs a
  few side by side (they send no output: only their start is kept); past that the oldest goes.
- Kept from the statement's start (`ExecStart`) until its result arrives or its run ends or
  is cancelled (lsp/runs.py `RunBinding` tells, through the methods below), or the
  interpreter restarts or the document closes (`clear`).
- Where a statement is shown is asked of its run each time (`Where`): the run maps its lines
  through the edits made since, and knows whether generated text is written yet (no lines:
  not shown). Nothing is moved here.
- Written only through these methods; nothing here speaks LSP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Characters kept of each stream: what eager.resultDetail shows of a running statement. Two of
# them take at most 768 KB of JSON (12 bytes a character escaped), under limits.DETAIL_CAP.
TAIL_LIMIT = 32_000
MAX_RUNNING = 16  # statements kept per document

# The statement's document lines now (first, last; 0-based), or None while it is not shown.
Where = Callable[[], "tuple[int, int] | None"]


class Tail:
    """The last TAIL_LIMIT characters of a stream, and how many came before them."""

    __slots__ = ("before", "text")

    def __init__(self) -> None:
        self.text = ""
        self.before = 0

    def add(self, text: str) -> None:
        if len(text) >= TAIL_LIMIT:
            self.before += len(self.text) + len(text) - TAIL_LIMIT
            self.text = text[-TAIL_LIMIT:]
            return
        joined = self.text + text
        cut = len(joined) - TAIL_LIMIT
        if cut > 0:
            self.before += cut
            joined = joined[cut:]
        self.text = joined


class Running:
    """One statement running now: since when (monotonic), where, what it printed lately."""

    __slots__ = ("started", "stderr", "stdout", "where")

    def __init__(self, started: float, where: Where) -> None:
        self.started = started
        self.where = where
        self.stdout = Tail()
        self.stderr = Tail()

    def elapsed(self) -> float:
        return max(0.0, time.monotonic() - self.started)


class RunningStatements:
    """A document's running statements, by (run id, chunk index) in the order they began."""

    def __init__(self) -> None:
        self._running: dict[tuple[int, int], Running] = {}

    def __len__(self) -> int:
        return len(self._running)

    def started(self, run: int, chunk: int, at: float, where: Where) -> None:
        while len(self._running) >= MAX_RUNNING:
            del self._running[next(iter(self._running))]
        self._running[(run, chunk)] = Running(at, where)

    def output(self, run: int, chunk: int, stdout: str, stderr: str) -> None:
        """New output of a running statement (none kept for one whose start was not seen)."""
        running = self._running.get((run, chunk))
        if running is not None:
            running.stdout.add(stdout)
            running.stderr.add(stderr)

    def finished(self, run: int, chunk: int) -> None:
        """Its result arrived."""
        self._running.pop((run, chunk), None)

    def run_ended(self, run: int) -> None:
        """The run ended or was cancelled: none of its statements is running any more."""
        for key in [k for k in self._running if k[0] == run]:
            del self._running[key]

    def clear(self) -> None:
        self._running.clear()

    def at(self, line: int) -> tuple[Running, int, int] | None:
        """The running statement shown at `line` (0-based), with its first and last line."""
        for running in reversed(self._running.values()):  # the latest first
            lines = running.where()
            if lines is not None and lines[0] <= line <= lines[1]:
                return running, lines[0], lines[1]
        return None
