"""Output of a statement that is still running, sent while it runs.

A statement that prints for minutes (a training loop, a download, `subprocess.run("make")`)
would otherwise show nothing until it ends. While a chunk runs in order, a daemon thread looks
every LIVE_OUTPUT_S at what it has written (Python-level writes, and what reached the
fd-level capture files, which it moves into the chunk's writers so that order is kept) and
sends the new text as an "output" event (protocol.py).

Rules, and why:
- Nothing is sent for a chunk that ends within LIVE_OUTPUT_S: the result carries its output,
  and quick statements (most of them) cost nothing extra.
- What is sent is what the chunk's writers kept (capture.py: the head and the newest part
  of each stream), so each event is bounded. While a stream has not passed STREAM_CAP an event
  carries all that is new, and the events of a chunk, joined, are where its result's
  stdout/stderr start. Past it, output keeps flowing (a progress bar's latest state is what
  the user waits for), at most LIVE_OUTPUT_CAP of the newest characters a stream per event,
  after an `omission_marker` that counts what was left out: with one event per
  LIVE_OUTPUT_S, a statement printing in a tight loop forever sends at most about
  2 * LIVE_OUTPUT_CAP / LIVE_OUTPUT_S characters a second. The result then keeps the head
  and the end of each stream (around its own marker), so it does not start with all the
  events joined.
- `end()` returns only once no event of that chunk can follow: the result always comes last.
- The thread sleeps on a condition once a whole LIVE_OUTPUT_S passed in which no chunk began:
  an idle worker does not wake up, and statements that follow one another quickly wake it
  every LIVE_OUTPUT_S, not once each.
- Statements run side by side (gate `parallel`, parallel.py) are not watched: their output
  arrives with their results.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from eager_lsp.limits import LIVE_OUTPUT_CAP, LIVE_OUTPUT_S

from .capture import CappedWriter, FdSink

if TYPE_CHECKING:  # the worker also runs on Python 3.8, where these do not subscript
    from collections.abc import Callable

    Emit = Callable[[dict[str, Any]], None]


class _Watched:
    def __init__(self, chunk_id: Any, out: CappedWriter, err: CappedWriter) -> None:
        self.chunk_id = chunk_id
        self.out = out
        self.err = err
        self.since = time.monotonic()
        self.sent_out = 0  # position of each writer sent up to (CappedWriter.since)
        self.sent_err = 0


class LiveOutput:
    """Watches the chunk that runs on the main thread (ChunkRunner.run_chunk)."""

    def __init__(
        self,
        emit: Emit,
        sinks: tuple[FdSink | None, FdSink | None],
        interval: float = LIVE_OUTPUT_S,
    ) -> None:
        self._emit = emit
        self._sinks = sinks
        self._interval = interval
        self._cond = threading.Condition()
        self._watched: _Watched | None = None
        self._thread: threading.Thread | None = None
        self._asleep = False  # the thread waits for a chunk: only then does begin() wake it
        self._begun = 0  # chunks begun: the thread sleeps only after an interval without one

    def begin(self, chunk_id: Any, out: CappedWriter, err: CappedWriter) -> None:
        with self._cond:
            self._watched = _Watched(chunk_id, out, err)
            self._begun += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="eager-lsp-live-output", daemon=True
                )
                self._thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
                self._thread.start()
            elif self._asleep:
                self._cond.notify()

    def end(self) -> None:
        """No event of the current chunk is sent after this returns."""
        with self._cond:
            self._watched = None

    def _loop(self) -> None:
        seen = 0
        while True:
            with self._cond:
                # Asleep only after a whole interval in which no chunk began: woken by a begin()
                # whose chunk had ended by the time it ran, it slept again at once, and quick
                # statements each cost the worker a thread switch (about 65 µs here).
                while self._watched is None and self._begun == seen:
                    self._asleep = True
                    self._cond.wait()
                self._asleep = False
                seen = self._begun
                self._cond.wait(self._interval)  # begin() does not cut this short
                watched = self._watched
                if watched is None or time.monotonic() - watched.since < self._interval:
                    continue
                try:
                    self._send(watched)
                except Exception:  # a closed pipe: the main thread sees it
                    self._watched = None

    def _send(self, w: _Watched) -> None:
        for sink, writer in ((self._sinks[0], w.out), (self._sinks[1], w.err)):
            if sink is not None:
                sink.move_into(writer)
        stdout, w.sent_out = w.out.since(w.sent_out, LIVE_OUTPUT_CAP)
        stderr, w.sent_err = w.err.since(w.sent_err, LIVE_OUTPUT_CAP)
        if stdout or stderr:
            self._emit({"ev": "output", "id": w.chunk_id, "stdout": stdout, "stderr": stderr})
