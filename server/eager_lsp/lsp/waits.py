"""Bounded waits on the edit path, without a task or a thread-safe hop per wait.

Every edit a generation writes waits three times: for new text (the writer), for the editor's
answer to `workspace/applyEdit`, and for the didChange that shows the edit. With ten documents
generating that is hundreds of waits a second. `asyncio.wait_for` runs an awaited coroutine as
a task of its own, and around a future it adds a waiter, a callback and a timer, and on a
timeout cancels what it waited for; `asyncio.shield` adds two more callbacks; pygls answers
requests in `concurrent.futures` futures, and `asyncio.wrap_future` moves each answer to the
loop with `call_soon_threadsafe` (a write to the loop's self-pipe and a wake-up), even from
the loop's own thread. Here a wait is one loop future and one timer, and what is waited for is
never cancelled by the wait (a late answer to a request is harmless; cancelling one made pygls
fail on its answer, see edits.client_answer).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any


def _release(waiter: asyncio.Future[None], *_: Any) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def wait_done(fut: asyncio.Future[Any], timeout: float | None) -> bool:
    """Wait until `fut` is done, at most `timeout` seconds; whether it is. `fut` is left as
    it is (not cancelled) on a timeout and when the waiting task is cancelled."""
    if fut.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    release = functools.partial(_release, waiter)
    fut.add_done_callback(release)
    timer = loop.call_later(timeout, _release, waiter) if timeout is not None else None
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        fut.remove_done_callback(release)
    return fut.done()


class Wake:
    """A flag one task waits on with a timeout (an `asyncio.Event` for a single waiter)."""

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        if self._waiter is not None:
            _release(self._waiter)

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self, timeout: float | None) -> bool:
        """Wait until set, at most `timeout` seconds; whether it is set."""
        if self._set:
            return True
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _release, waiter) if timeout is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        return self._set


def on_loop(fut: concurrent.futures.Future[Any]) -> asyncio.Future[Any]:
    """A loop future that gets `fut`'s outcome: at once when `fut` is completed on the loop's
    own thread (as pygls does with the answers it reads), through `call_soon_threadsafe`
    only from another thread."""
    loop = asyncio.get_running_loop()
    out: asyncio.Future[Any] = loop.create_future()

    def copy(done: concurrent.futures.Future[Any]) -> None:
        if asyncio._get_running_loop() is loop:
            _copy(done, out)
        else:
            try:
                loop.call_soon_threadsafe(_copy, done, out)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    fut.add_done_callback(copy)
    return out


def _copy(source: concurrent.futures.Future[Any], dest: asyncio.Future[Any]) -> None:
    if dest.done():
        return
    if source.cancelled():
        dest.cancel()
    elif (exc := source.exception()) is not None:
        dest.set_exception(exc)
    else:
        dest.set_result(source.result())
