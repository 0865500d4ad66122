"""CoalescingStdout: messages leave in one write, in order, once the loop has nothing else
ready (a cascade of turns is one burst), and a busy loop still writes within the bound.

Tests about the idle rule freeze the loop's clock: `MAX_DELAY_S` is 2 ms, and on a loaded
host a turn can take longer than that, which writes early (correctly) and fails them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from unittest import mock

import pytest

from eager_lsp.lsp import stdout
from eager_lsp.lsp.stdout import CoalescingStdout


class _Raw(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


async def test_one_write_per_burst() -> None:
    raw = _Raw()
    out = CoalescingStdout(raw)
    for message in (b"one", b"two", b"three"):  # pygls: write, then flush, per message
        out.write(message)
        out.flush()
    assert raw.writes == 0
    await asyncio.sleep(0.01)
    assert (raw.writes, raw.getvalue()) == (1, b"onetwothree")
    out.write(b"four")
    out.flush()
    await asyncio.sleep(0.01)
    assert (raw.writes, raw.getvalue()) == (2, b"onetwothreefour")


def test_outside_a_loop_it_writes_at_once() -> None:
    raw = _Raw()
    out = CoalescingStdout(raw)
    out.write(b"x")
    out.flush()
    assert raw.getvalue() == b"x"


async def test_a_cascade_of_turns_is_one_write() -> None:
    """A read wakes a task, which wakes another, each writing a message a turn later: one
    write once the loop is idle, not one per turn."""
    raw = _Raw()
    out = CoalescingStdout(raw)
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def step(n: int) -> None:
        out.write(b"%d;" % n)
        out.flush()
        if n < 4:
            loop.call_soon(step, n + 1)
        else:
            done.set_result(None)

    with mock.patch.object(loop, "time", return_value=loop.time()):
        step(0)
        await done
    assert raw.writes == 0  # the loop was never idle in between
    await asyncio.sleep(0.01)
    assert (raw.writes, raw.getvalue()) == (1, b"0;1;2;3;4;")


async def test_a_loop_that_stays_busy_still_writes_within_the_bound() -> None:
    raw = _Raw()
    out = CoalescingStdout(raw)
    loop = asyncio.get_running_loop()
    turns = 0
    written_at: list[int] = []
    done = loop.create_future()

    def busy() -> None:  # something is always ready to run, for 1,000 turns
        nonlocal turns
        turns += 1
        if raw.writes and not written_at:
            written_at.append(turns)
        if turns < 1000:
            loop.call_soon(busy)
        else:
            done.set_result(None)

    busy()
    out.write(b"message")
    out.flush()
    await done
    assert raw.getvalue() == b"message"
    # Written after about MAX_TURNS turns of the busy loop (or MAX_DELAY_S, if sooner),
    # long before it went idle.
    assert written_at and written_at[0] <= 2 * stdout.MAX_TURNS, written_at
    assert stdout.MAX_TURNS <= 8 and stdout.MAX_DELAY_S <= 0.002


def test_what_the_loop_left_is_written_at_its_end() -> None:
    """The loop ends with a write still waiting for it to go idle (an `exit` right behind
    the message): `write_pending` at the end of serving writes it."""
    raw = _Raw()
    out = CoalescingStdout(raw)

    async def main() -> None:
        out.write(b"answer")
        out.flush()

    loop = asyncio.new_event_loop()
    try:
        with mock.patch.object(loop, "time", return_value=loop.time()):
            loop.run_until_complete(main())  # it stops before the write's turn comes
    finally:
        loop.close()
    assert raw.writes == 0
    out.write_pending()
    assert raw.getvalue() == b"answer"


async def test_an_editor_gone_is_said_once_not_logged_as_an_error_per_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real pipe whose reading end (the editor) is closed: the write fails with
    BrokenPipeError inside a loop callback, which asyncio logged as an ERROR with a
    traceback for every message after the editor quit. Now it is said once and the rest is
    dropped (the server ends at stdin's EOF)."""
    r, w = os.pipe()
    os.close(r)
    errors: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    raw = os.fdopen(w, "wb")
    out = CoalescingStdout(raw)
    with caplog.at_level(logging.INFO, logger="eager_lsp.lsp.stdout"):
        for message in (b"one", b"two"):
            out.write(message)
            out.flush()
            await asyncio.sleep(0.01)
    loop.set_exception_handler(None)
    assert errors == [], errors
    said = [rec.getMessage() for rec in caplog.records if "closed" in rec.getMessage()]
    assert len(said) == 1, caplog.records
    with contextlib.suppress(OSError):
        raw.close()
