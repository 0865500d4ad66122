"""CoalescingStdout: a loop turn's messages leave in one write, in order, at the turn's end."""

from __future__ import annotations

import asyncio
import io

from eager_lsp.lsp.stdout import CoalescingStdout


class _Raw(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


async def test_one_write_per_loop_turn() -> None:
    raw = _Raw()
    out = CoalescingStdout(raw)
    for message in (b"one", b"two", b"three"):  # pygls: write, then flush, per message
        out.write(message)
        out.flush()
    assert raw.writes == 0
    await asyncio.sleep(0)
    assert (raw.writes, raw.getvalue()) == (1, b"onetwothree")
    out.write(b"four")
    out.flush()
    await asyncio.sleep(0)
    assert (raw.writes, raw.getvalue()) == (2, b"onetwothreefour")


def test_outside_a_loop_it_writes_at_once() -> None:
    raw = _Raw()
    out = CoalescingStdout(raw)
    out.write(b"x")
    out.flush()
    assert raw.getvalue() == b"x"
