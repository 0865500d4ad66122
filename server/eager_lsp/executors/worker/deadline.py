"""A deadline for code we call that may hang: a user `__repr__`, a `savefig`, a `_repr_png_`.

SIGALRM on the main thread raises `ReprTimeout` inside the block; elsewhere (another thread,
a platform without setitimer) the block runs without one. Stdlib only, like the whole worker.
Used by reprs.py and rich.py, which both render user objects.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ReprTimeout(BaseException):
    """Raised by SIGALRM inside a slow `__repr__`; BaseException so `except Exception` in user
    code does not swallow it."""


_armed = False


def _on_alarm(signum: int, frame: Any) -> None:
    if _armed:
        raise ReprTimeout


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ReprTimeout in the main thread if the block runs longer than `seconds`.

    Our SIGALRM handler stays installed when it replaced the default (it does nothing while
    disarmed, so a late alarm is harmless); a handler user code installed is put back."""
    global _armed
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return
    previous = signal.getsignal(signal.SIGALRM)
    if previous is not _on_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
    _armed = True
    pending, interval = signal.setitimer(signal.ITIMER_REAL, seconds)  # user code's timer
    began = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _armed = False
        if previous is not _on_alarm and callable(previous):
            signal.signal(signal.SIGALRM, previous)
        if pending > 0:  # give user code its alarm back, minus the time we used
            left = max(pending - (time.monotonic() - began), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, interval)
