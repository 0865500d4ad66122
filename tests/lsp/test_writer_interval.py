"""The interval between edits never holds back the end of a generation.

Edits are at least `min_interval_s` apart so a fast stream becomes a few edits a second. The
writer used to sleep out that interval, so text that came just before the generation ended
waited for it (up to 50 ms after the last token, in front of the last results, which wait
for their text). Here the interval is 30 s: an end that waited it out would time out.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from eager_lsp.lsp.edits import Writer


class _Recording(Writer):
    min_interval_s = 30.0

    def __init__(self) -> None:
        doc: Any = SimpleNamespace(closed=False, wake_waiters=lambda: None)
        super().__init__(doc)
        self.written: list[str] = []

    async def _write(self, text: str) -> bool:
        self.written.append(text)
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
