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


async def test_one_hand_off_per_message_and_every_message_whole() -> None:
    messages = [{"jsonrpc": "2.0", "method": f"m{i}", "params": {"i": i}} for i in range(5)]
    data = b"".join(
        _frame(m, b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" if i % 2 else b"")
        for i, m in enumerate(messages)
    )
    protocol = _Protocol()
    reader = MessageReader(io.BytesIO(data))
    await run_async(
        stop_event=threading.Event(),
        reader=reader,
        protocol=protocol,  # type: ignore[arg-type]
    )
    assert protocol.got == messages
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
        protocol = _Protocol()
        await run_async(
            stop_event=threading.Event(),
            reader=MessageReader(_Trickle(data, step)),  # type: ignore[arg-type]
            protocol=protocol,  # type: ignore[arg-type]
        )
        assert protocol.got == messages, step


async def test_the_end_of_stdin_inside_a_message_ends_the_loop() -> None:
    whole = _frame({"jsonrpc": "2.0", "method": "a", "params": None})
    cut = _frame({"jsonrpc": "2.0", "method": "b", "params": None})[:-3]
    protocol = _Protocol()
    await run_async(
        stop_event=threading.Event(),
        reader=MessageReader(io.BytesIO(whole + cut)),
        protocol=protocol,  # type: ignore[arg-type]
    )
    assert [m["method"] for m in protocol.got] == ["a"]
