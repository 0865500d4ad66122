"""A statement's `started` event, sent only once the statement has run for a while.

Why: a `result` already says when its statement began (`t_start`), so for the quick
statements that make up most generated code a `started` told the parent nothing it would not
learn a millisecond later, and cost it one event to read and route per statement (about a
twentieth of the server's CPU with ten documents generating). What `started` is for is a
statement that runs on: the editor shows it as running, and a person attaches a debugger to
it. So the main thread only notes which statement began (`begin`/`end`: two attribute writes
under a lock, no thread woken), and a daemon thread sends `started` for a statement still
running `after_s` after it began.

Rules:
- `started` for a statement is written before its `result`, or not at all: the thread writes
  it holding the lock that `end` takes before the main thread writes the result.
- The thread wakes every `after_s` only while statements are being run (until `IDLE_S` after
  the last `end`), then waits until a `begin` wakes it; an idle worker costs no wake-ups, and
  neither does a long statement once its `started` is written (its `end` wakes the thread).
- Its `t` is the statement's start (as before); the parent takes a `result` without a
  `started` as begun at its `t_start`.
- The thread is hidden from debugpy (`is_pydev_daemon_thread`) like the worker's other ones,
  and started on first use: the worker is forked from a zygote, and a thread does not survive
  a fork.

Stdlib only, Python 3.8+ (the worker runs in the user's interpreter).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

AFTER_S = 0.03  # a statement running this long is reported as running
IDLE_S = 2.0  # no statement begun for this long: the thread sleeps until the next one


class StartedNotice:
    def __init__(
        self,
        emit: Callable[[dict[str, Any]], None],
        after_s: float = AFTER_S,
        idle_s: float = IDLE_S,
    ) -> None:
        self._emit = emit
        self._after_s = after_s
        self._idle_s = idle_s
        self._cond = threading.Condition(threading.Lock())
        self._id: Any = None  # the running statement's id, None between statements
        self._t = 0.0  # when it began (time.monotonic())
        self._sent = False
        self._last_end = 0.0
        self._sleeping = True  # the thread waits for a `begin` (or has not started)
        self._thread: threading.Thread | None = None

    def begin(self, chunk_id: Any, t: float) -> None:
        """The main thread starts running statement `chunk_id` (at `t`)."""
        with self._cond:
            self._id, self._t, self._sent = chunk_id, t, False
            if self._sleeping:
                self._sleeping = False
                if self._thread is None:
                    self._start()
                else:
                    self._cond.notify()

    def end(self) -> None:
        """The statement is over: after this, no `started` is written for it."""
        with self._cond:
            if self._sent:
                self._cond.notify()  # the thread waits for this statement's end (below)
            self._id = None
            self._last_end = time.monotonic()

    def _start(self) -> None:
        thread = threading.Thread(target=self._run, name="eager-lsp-started", daemon=True)
        thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]  # hidden from debugpy
        self._thread = thread
        thread.start()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._id is None and now - self._last_end >= self._idle_s:
                    self._sleeping = True
                    while self._sleeping:
                        self._cond.wait()
                    continue
                if self._id is None:  # between statements: one may begin without waking us
                    self._cond.wait(self._after_s)
                elif self._sent:  # a long statement: nothing to do until its end wakes us
                    self._cond.wait()
                elif now >= self._t + self._after_s:
                    self._sent = True
                    try:
                        self._emit({"ev": "started", "id": self._id, "t": self._t})
                    except Exception:  # the parent went away: the main thread learns it too
                        return
                else:
                    self._cond.wait(self._t + self._after_s - now)
