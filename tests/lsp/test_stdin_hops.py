"""lsp/stdin.py: the thread reads a whole message per hand-off; pygls's loop reads the same
messages from it as from its own reader (header lines, the blank line, the body).

The real server over real pipes is tests/lsp/test_stdin_reader.py; here pygls's own message
loop (`run_async`) reads a byte stream, and the hand-offs to the thread are counted."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from pygls.io_ import run_async

from eager_lsp.lsp.stdin import MessageReader


def _frame(msg: dict[str, Any], extra_header: bytes = b"") -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n" % len(body) + extra_header + b"\r\n" + body


class _Protocol:
    def __init__(self) -> None:
        self.got: list[Any] = []

    def structure_message(self, data: dict[str, Any]) -> Any:
        return data

    def handle_message(self, message: Any) -> None:
        self.got.append(message)


async def _read_all(reader: MessageReader) -> list[Any]:
    """Every message pygls's own loop reads from `reader`, to the end of its stream."""
    protocol = _Protocol()
    await run_async(
        stop_event=threading.Event(),
        reader=reader,
        protocol=protocol,  # type: ignore[arg-type]
    )
    return protocol.got


async def test_one_hand_off_per_message_and_every_message_whole() -> None:
    messages = [{"jsonrpc": "2.0", "method": f"m{i}", "params": {"i": i}} for i in range(5)]
    data = b"".join(
        _frame(m, b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" if i % 2 else b"")
        for i, m in enumerate(messages)
    )
    reader = MessageReader(io.BytesIO(data))
    got = await _read_all(reader)
    assert got == messages
    assert reader.hand_offs == len(messages) + 1  # and one that finds the end of stdin


class _Trickle(io.RawIOBase):
    """A pipe that gives a few bytes per read, as a slow writer's pipe does."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out, self.data = self.data[: self.step], self.data[self.step :]
        return out


async def test_messages_that_arrive_a_few_bytes_at_a_time() -> None:
    messages = [{"jsonrpc": "2.0", "method": f"m{i}", "params": {"i": i}} for i in range(4)]
    data = b"".join(_frame(m) for m in messages)
    for step in (1, 3, 7, 64):
        got = await _read_all(MessageReader(_Trickle(data, step)))  # type: ignore[arg-type]
        assert got == messages, step


async def test_the_end_of_stdin_inside_a_message_ends_the_loop() -> None:
    whole = _frame({"jsonrpc": "2.0", "method": "a", "params": None})
    cut = _frame({"jsonrpc": "2.0", "method": "b", "params": None})[:-3]
    got = await _read_all(MessageReader(io.BytesIO(whole + cut)))
    assert [m["method"] for m in got] == ["a"]


class _Counted(io.RawIOBase):
    """`head`, then `filler` bytes of b"x" made as they are read (never all in memory), then
    `tail`, at most `step` bytes per read."""

    def __init__(self, head: bytes, filler: int, tail: bytes, step: int) -> None:
        self.parts = [head, filler, tail]
        self.step = step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while self.parts:
            part = self.parts[0]
            if isinstance(part, int):
                take = min(part, self.step)
                if part - take:
                    self.parts[0] = part - take
                else:
                    self.parts.pop(0)
                return b"x" * take
            if part:
                self.parts[0] = part[self.step :]
                return part[: self.step]
            self.parts.pop(0)
        return b""


async def test_a_body_over_the_cap_is_read_past_without_being_held(
    monkeypatch: Any,
) -> None:
    from eager_lsp import limits

    monkeypatch.setattr(limits, "INBOUND_MESSAGE_CAP", 10_000)
    monkeypatch.setattr(limits, "INBOUND_HEADER_CAP", 100)
    after = {"jsonrpc": "2.0", "method": "after", "params": None}
    stream = _Counted(
        b"Content-Length: 2000000\r\n\r\n",
        2_000_000,
        b"X-Long: " + b"z" * 20_000 + b"\r\n" + _frame(after),
        4096,
    )
    reader = MessageReader(stream)  # type: ignore[arg-type]
    held = [0]
    fill = reader._fill

    def watched_fill() -> bool:
        more = fill()
        held[0] = max(held[0], len(reader._buffer))
        return more

    reader._fill = watched_fill  # type: ignore[method-assign]
    got = await _read_all(reader)
    assert got == [after]
    assert held[0] <= 2 * 4096, held  # never more than about one read of the dropped body


async def test_header_lines_without_end_are_not_kept(monkeypatch: Any) -> None:
    """Endless header lines (before a Content-Length, or after it past the header cap) are
    read and dropped, not kept for pygls; the message after them arrives whole."""
    from eager_lsp import limits

    monkeypatch.setattr(limits, "INBOUND_HEADER_CAP", 1000)
    after = {"jsonrpc": "2.0", "method": "after", "params": None}
    body = json.dumps(after).encode()
    junk = b"X-A: y\r\n" * 20_000
    data = junk + b"Content-Length: %d\r\n" % len(body) + junk + b"\r\n" + body + _frame(after)
    reader = MessageReader(io.BytesIO(data))
    handed: list[int] = []
    read_message = reader._read_message

    def watched() -> list[bytes]:
        parts = read_message()
        handed.append(sum(len(p) for p in parts))
        return parts

    reader._read_message = watched  # type: ignore[method-assign]
    got = await _read_all(reader)
    assert got == [after, after]
    assert max(handed) <= 1000 + len(body) + 100, handed


class _Reads(io.RawIOBase):
    """Counts reads; each gives as much as asked (a pipe with a fast writer)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.reads = data, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        out, self.data = self.data[:n], self.data[n:]
        return out


async def test_a_big_body_is_read_in_large_pieces() -> None:
    """An 8 MiB body takes a handful of reads (each up to 1 MiB) joined once, not one 64 KiB
    read after another with the buffer copied each time (quadratic in the body's size)."""
    msg = {"jsonrpc": "2.0", "method": "big", "params": {"text": "x" * (8 << 20)}}
    stream = _Reads(_frame(msg))
    got = await _read_all(MessageReader(stream))  # type: ignore[arg-type]
    assert got == [msg]
    assert stream.reads <= 12, stream.reads
