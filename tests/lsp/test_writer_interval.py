"""The interval between edits never holds back the end of a generation; the server's edit
budget (`EditPace`) lengthens it only while many documents are written into at once.

Edits are at least `min_interval_s` apart so a fast stream becomes a few edits a second. The
writer used to sleep out that interval, so text that came just before the generation ended
waited for it (up to 50 ms after the last token, in front of the last results, which wait
for their text). Here the interval is 30 s: an end that waited it out would time out.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from eager_lsp.lsp.edit_pace import EditPace
from eager_lsp.lsp.edits import Writer


class _Recording(Writer):
    min_interval_s = 30.0

    def __init__(self, pace: EditPace | None = None, interval: float | None = None) -> None:
        doc: Any = SimpleNamespace(closed=False, wake_waiters=lambda: None)
        super().__init__(doc, pace)
        if interval is not None:
            self.min_interval_s = interval
        self.written: list[str] = []
        self.times: list[float] = []

    async def _write(self, text: str) -> bool:
        self.written.append(text)
        self.times.append(asyncio.get_running_loop().time())
        return True


async def _waiting_out_the_interval() -> tuple[_Recording, asyncio.Task[None]]:
    """A writer that wrote one line and holds the second for the interval."""
    w = _Recording()
    task = asyncio.create_task(w.run())
    w.push("a = 1\n")
    while not w.written:
        await asyncio.sleep(0.005)
    w.push("b = 2\n")
    await asyncio.sleep(0.05)
    assert w.written == ["a = 1\n"]
    return w, task


async def test_the_end_is_written_without_waiting_out_the_interval() -> None:
    w, task = await asyncio.wait_for(_waiting_out_the_interval(), 10)
    await asyncio.wait_for(w._drain(None, task), 10)
    assert w.written == ["a = 1\n", "b = 2\n"]
    assert task.done()


async def test_an_abort_ends_the_interval_wait_and_writes_nothing_more() -> None:
    w, task = await asyncio.wait_for(_waiting_out_the_interval(), 10)
    w.abort("refused")
    await asyncio.wait_for(task, 10)
    assert w.written == ["a = 1\n"]


def test_the_pace_lengthens_the_interval_only_with_many_writers() -> None:
    pace = EditPace(per_second=100.0)
    writers = [_Recording(pace, interval=0.05) for _ in range(10)]
    now = 1000.0
    assert pace.interval(writers[0], now) == 0.05  # nobody writing yet
    for w in writers[:5]:
        pace.edited(w, now)
    assert pace.interval(writers[0], now) == 0.05  # five documents: each keeps its own pace
    for w in writers[5:]:
        pace.edited(w, now)
    assert abs(pace.interval(writers[0], now) - 0.1) < 1e-9  # ten: a hundred edits a second
    assert pace.interval(writers[0], now + 1.5) == 0.05  # none edited in the last second
    for w in writers:
        pace.leave(w)
    assert pace.interval(writers[0], now) == 0.05


def test_writers_waiting_for_text_take_none_of_the_budget() -> None:
    """A generation whose model has not sent its first token yet (or stalled) has made no
    edit lately: it does not slow the documents that are streaming."""
    pace = EditPace(per_second=1.0)
    streaming, waiting = _Recording(pace, interval=0.01), _Recording(pace, interval=0.01)
    pace.edited(streaming, 10.0)
    assert pace.interval(streaming, 10.2) == 1.0  # one writer: 1 / per_second
    assert waiting not in pace._last
    pace.edited(waiting, 10.3)
    assert pace.interval(streaming, 10.4) == 2.0


async def _two_writers_sharing(
    pace: EditPace,
) -> list[tuple[_Recording, asyncio.Task[None]]]:
    a, b = _Recording(pace, interval=0.01), _Recording(pace, interval=0.01)
    tasks = [asyncio.create_task(w.run()) for w in (a, b)]
    for w in (a, b):
        w.push("x = 1\n")
    while not (a.written and b.written):
        await asyncio.sleep(0.005)
    for w in (a, b):
        w.push("y = 2\n")
    await asyncio.sleep(0.3)
    return [(a, tasks[0]), (b, tasks[1])]


async def test_writers_sharing_a_small_budget_hold_their_next_edit() -> None:
    """Two writers, a budget of one edit a second: each waits two seconds between edits (its
    own interval is 10 ms), and the end still comes at once."""
    pace = EditPace(per_second=1.0)
    both = await asyncio.wait_for(_two_writers_sharing(pace), 10)
    for w, _ in both:
        assert w.written == ["x = 1\n"]
    for w, task in both:
        await asyncio.wait_for(w._drain(None, task), 10)  # the end cuts the wait short
        assert w.written == ["x = 1\n", "y = 2\n"]


async def test_a_writer_leaves_the_budget_when_it_ends() -> None:
    pace = EditPace(per_second=1.0)
    w = _Recording(pace, interval=0.01)
    task = asyncio.create_task(w.run())
    w.push("x = 1\n")
    while not w.written:
        await asyncio.sleep(0.005)
    now = asyncio.get_running_loop().time()
    assert pace.interval(w, now) == 1.0  # it counts while it writes
    await asyncio.wait_for(w._drain(None, task), 10)
    assert pace.interval(w, now) == 0.01  # and no longer once it has ended
