"""lsp/stdin.py: a pipe is read on the event loop, anything else by a thread one whole message
per hand-off; pygls's loop reads the same messages from either as from its own reader (header
lines, the blank line, the body), and the framer cuts the same messages however bytes come.

The real server over real pipes is tests/lsp/test_stdin_reader.py; here pygls's own message
loop (`run_async`) reads a byte stream or a real pipe, and reads and hand-offs are counted."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import time
from typing import Any

import pytest
from pygls.io_ import run_async

from eager_lsp.lsp.stdin import Framer, MessageReader


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
    held = _watch_held(reader)
    got = await _read_all(reader)
    assert got == [after]
    assert max(held) <= 2 * 4096, max(held)  # never more than about one read of the dropped body


async def test_a_body_of_too_many_values_is_dropped(monkeypatch: Any) -> None:
    """Few bytes each, dozens once parsed: past limits.INBOUND_VALUE_CAP values outside
    strings a body is not handed to the parser (objects, arrays, short strings alike); one
    under the cap is, and so is text full of brackets and commas inside one string (a
    document's text)."""
    from eager_lsp import limits

    monkeypatch.setattr(limits, "INBOUND_VALUE_CAP", 1000)
    bomb = {"jsonrpc": "2.0", "method": "bomb", "params": [{} for _ in range(1001)]}
    nested = {"jsonrpc": "2.0", "method": "nested", "params": [[[]] for _ in range(600)]}
    strings = {"jsonrpc": "2.0", "method": "strings", "params": ["ab"] * 1001}
    keys = {"jsonrpc": "2.0", "method": "keys", "params": {f"k{i}": 0 for i in range(600)}}
    under = {"jsonrpc": "2.0", "method": "under", "params": [[] for _ in range(300)] + ["x" * 5000]}
    text = {"jsonrpc": "2.0", "method": "text", "params": {"text": 'a\\"{[,:' * 20_000}}
    after = {"jsonrpc": "2.0", "method": "after", "params": None}
    data = b"".join(_frame(m) for m in (bomb, nested, strings, keys, under, text, after))
    for step in (len(data), 4096, 7):
        got = await _read_all(MessageReader(_Trickle(data, step)))  # type: ignore[arg-type]
        assert [m["method"] for m in got] == ["under", "text", "after"], step


def _reference(body: bytes) -> tuple[int, int]:
    """Marks (`,` `:` `{` `[`) outside strings and strings, read byte by byte as JSON does."""
    marks = strings = 0
    inside = escaped = False
    for byte in body:
        c = chr(byte)
        if inside:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                inside = False
        elif c == '"':
            inside, strings = True, strings + 1
        elif c in ",:{[":
            marks += 1
    return marks, strings


@pytest.mark.parametrize("window", [1 << 16, 7, 1])
def test_the_value_count_reads_escapes_and_strings_as_json_does(
    monkeypatch: Any, window: int
) -> None:
    """The value cap's count against a byte-by-byte reading, on crafted bodies (escaped quotes
    and backslashes at string ends, `\\"` that is no escape, unclosed strings) and random
    ones; a body with NUL bytes (UTF-16/32, which json.loads also reads) is taken as over,
    since its quotes cannot be told from halves of other characters. Strings are cut out a
    window at a time (small windows here: a string open across windows)."""
    import random

    from eager_lsp import limits
    from eager_lsp.lsp import stdin
    from eager_lsp.lsp.stdin import _too_many_values

    cap = 20
    monkeypatch.setattr(limits, "INBOUND_VALUE_CAP", cap)
    monkeypatch.setattr(stdin, "_WINDOW", window)
    pieces = [b'"a"', b'"\\""', b'"\\\\"', b'"\\\\\\""', b"{", b"[", b",", b":", b'"{[,:"']
    pieces += [b"1", b" ", b"]", b"}", b'"\\u0022"', b'"x\\\\",']
    rng = random.Random(7)
    bodies = [rng.choice(pieces) * rng.randint(5, 30) for _ in range(200)]
    bodies += [
        b"".join(rng.choice(pieces) for _ in range(rng.randint(20, 120))) for _ in range(600)
    ]
    bodies += [b'"' + b'\\",' * 40, b"[" + b'"\\"\\\\",' * 30, b'["' + b",:{[" * 30]
    for body in bodies:
        marks, strings = _reference(body)
        # (small or mark-poor bodies are let through unread)
        expected = (
            len(body) > 2 * cap
            and body.count(b",") + body.count(b":") + body.count(b"{") + body.count(b"[") > cap
            and (strings > cap or marks > cap)
        )
        assert _too_many_values(body) == expected, body
        assert _too_many_values(bytearray(body)) == expected, body
    # In UTF-16 "∀" is the bytes 00 22: a quote byte that is half of a character
    bomb = json.dumps(["∀", [{} for _ in range(30)], "b"], ensure_ascii=False)
    assert json.loads(bomb.encode("utf-16-le")) == json.loads(bomb)  # what pygls would read
    assert _too_many_values(bomb.encode("utf-16-le"))


async def test_a_wrong_content_length_costs_the_message_it_runs_into_not_the_rest() -> None:
    """A body longer or shorter than its Content-Length ends glued to the next header line;
    the framer reads on from that header (pygls's own reader lost every later message), also
    when the glued line is longer than a header may be (a long body's rest)."""
    long = "x" * 3 * 8192  # over INBOUND_HEADER_CAP
    msgs = [{"jsonrpc": "2.0", "method": f"m{i}", "params": {"i": i, "s": long}} for i in range(4)]
    for wrong in (+12, -5, -9000):
        body = json.dumps(msgs[0]).encode()
        bad = b"Content-Length: %d\r\n\r\n" % (len(body) + wrong) + body
        data = bad + b"".join(_frame(m) for m in msgs[1:])
        for step in (len(data), 5):
            got = await _read_all(MessageReader(_Trickle(data, step)))  # type: ignore[arg-type]
            methods = [m["method"] for m in got if isinstance(m, dict)]
            assert methods[-2:] == ["m2", "m3"], (wrong, step, methods)


async def test_a_header_whose_name_ends_in_content_length_is_a_header() -> None:
    """`X-Original-Content-Length: 9` before the real Content-Length is an ordinary header
    line (pygls ignores it), not a header glued to a body."""
    m = {"jsonrpc": "2.0", "method": "m", "params": {"i": 1}}
    data = b"X-Original-Content-Length: 9\r\n" + _frame(m)
    data += _frame(m, b"X-Original-Content-Length: 9\r\n")
    for step in (len(data), 3):
        got = await _read_all(MessageReader(_Trickle(data, step)))  # type: ignore[arg-type]
        assert got == [m, m], step


def _watch_held(reader: MessageReader) -> list[int]:
    """What the reader's framer holds (outside whole messages) after each piece it gets."""
    held: list[int] = []
    push = reader.framer.push

    def watched(data: bytes) -> None:
        push(data)
        held.append(reader.framer.held())

    reader.framer.push = watched  # type: ignore[method-assign]
    return held


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
    take = reader.framer.take

    def watched() -> list[bytes] | None:
        parts = take()
        if parts is not None:
            handed.append(sum(len(p) for p in parts))
        return parts

    reader.framer.take = watched  # type: ignore[method-assign]
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


# -- the framer: the same messages however the bytes are cut -------------------------------


def _frames(data: bytes, step: int | None, end: bool = True) -> list[list[bytes]]:
    framer = Framer()
    out: list[list[bytes]] = []
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        framer.push(piece)
        while (parts := framer.take()) is not None:
            out.append(parts)
    if end:
        framer.end()
        while (parts := framer.take()) is not None and parts != [b""]:
            out.append(parts)
        out.append(parts or [])
    return out


def test_the_framer_cuts_the_same_messages_however_the_bytes_come(monkeypatch: Any) -> None:
    from eager_lsp import limits

    monkeypatch.setattr(limits, "INBOUND_MESSAGE_CAP", 300)
    monkeypatch.setattr(limits, "INBOUND_HEADER_CAP", 60)
    a = _frame({"jsonrpc": "2.0", "method": "a", "params": None})
    b = _frame({"jsonrpc": "2.0", "method": "b", "params": [1, 2]}, b"Content-Type: x\r\n")
    big = b"Content-Length: 400\r\n\r\n" + b"x" * 400  # over the message cap: read past
    overlong = b"X-Long: " + b"z" * 100 + b"\r\n"  # over the header cap: one dropped line
    streams = {
        "plain": a + b + a,
        "junk before": b"hello\r\n" + a,
        "empty body": b"Content-Length: 0\r\n\r\n" + a,
        "over the cap": a + big + b,
        "overlong line": overlong + a + b[:20] + overlong + b[20:],
        "many headers": a[:20] + b"X-A: 1\r\n" * 20 + a[20:],
        "end inside a body": a + b[:-4],
        "end inside the headers": a + b[:10],
        "end inside a dropped body": a + big[:200],
    }
    for name, data in streams.items():
        whole = _frames(data, None)
        assert whole[-1][-1:] == [b""] or whole[-1] == [b""], name  # the end comes last
        for step in (1, 2, 3, 5, 7, 13, 64):
            assert _frames(data, step) == whole, (name, step)
    assert _frames(streams["plain"], None)[:3] == [
        [a[:20], b"\r\n", a[22:]],
        [b[:20], b"Content-Type: x\r\n", b"\r\n", b[39:]],
        [a[:20], b"\r\n", a[22:]],
    ]
    assert [p[-1] for p in _frames(streams["over the cap"], None)] == [a[22:], b[39:], b""]
    assert (
        _frames(streams["overlong line"], 5)[1][1] == b"X-Eager-Dropped: overlong header line\r\n"
    )
    assert len(_frames(streams["many headers"], 3)[0]) < 10  # header lines past the cap: dropped
    assert _frames(streams["end inside a body"], 1)[-2:] == [
        [b[:20], b"Content-Type: x\r\n", b"\r\n", b[39:-4]],  # a shorter body, then the end
        [b""],
    ]
    assert _frames(streams["end inside a dropped body"], 9)[-1] == [b""]


# -- on the event loop: a pipe is read there, with no thread -------------------------------


def _pipe_reader() -> tuple[MessageReader, int]:
    r, w = os.pipe()
    return MessageReader(os.fdopen(r, "rb", buffering=0)), w


async def test_a_pipe_is_read_on_the_loop_without_a_thread() -> None:
    messages = [{"jsonrpc": "2.0", "method": f"m{i}", "params": {"i": i}} for i in range(6)]
    data = b"".join(_frame(m) for m in messages)
    reader, w = _pipe_reader()

    def write() -> None:  # in pieces, with pauses, then the end
        for i in range(0, len(data), 17):
            os.write(w, data[i : i + 17])
            time.sleep(0.002)
        os.close(w)

    writer = threading.Thread(target=write)
    writer.start()
    got = await _read_all(reader)
    writer.join()
    assert got == messages
    assert reader._mode == "loop" and reader._thread is None and reader.hand_offs == 0
    assert reader.reads > 1


async def test_the_loop_stops_reading_while_read_messages_wait(monkeypatch: Any) -> None:
    """An editor that writes faster than the server handles is held back by the pipe: the loop
    stops reading while more than the cap of whole messages waits, then goes on."""
    from eager_lsp.lsp import stdin

    monkeypatch.setattr(stdin, "_READY_CAP", 500)
    messages = [{"jsonrpc": "2.0", "method": f"m{i}", "params": "p" * 50} for i in range(200)]
    data = b"".join(_frame(m) for m in messages)
    reader, w = _pipe_reader()
    os.write(w, data[:60_000])  # (the pipe holds 64 KiB)
    waiting: list[int] = []
    handle = _Protocol.handle_message

    def watched(self: _Protocol, message: Any) -> None:
        waiting.append(reader.framer.ready_bytes)
        handle(self, message)

    monkeypatch.setattr(_Protocol, "handle_message", watched)
    writer = threading.Thread(target=lambda: (os.write(w, data[60_000:]), os.close(w)))
    writer.start()
    got = await _read_all(reader)
    writer.join()
    assert got == messages
    assert max(waiting) <= 500 + (1 << 16), max(waiting)  # the cap and one read at most
    assert reader.reads < len(messages)  # several messages per read, not a read each


async def test_a_regular_file_or_dev_null_is_read_on_a_thread(tmp_path: Any) -> None:
    msg = {"jsonrpc": "2.0", "method": "m", "params": None}
    path = tmp_path / "in"
    path.write_bytes(_frame(msg))
    with open(path, "rb", buffering=0) as fh:
        reader = MessageReader(fh)
        assert await _read_all(reader) == [msg]
        assert reader._mode == "thread"
    with open(os.devnull, "rb", buffering=0) as fh:
        reader = MessageReader(fh)
        assert await _read_all(reader) == []
        assert reader._mode == "thread"  # a character device, but the loop cannot watch it


async def test_a_message_read_with_the_one_before_waits_for_its_handler_to_start() -> None:
    """A request and a didChange in one read: the request's (async) handler takes its first
    step before the didChange is handled, as when each message was a thread's hand-off (a
    didChange typed right after "generate" must not overtake the generation's start)."""
    order: list[str] = []

    class Starting(_Protocol):
        def handle_message(self, message: Any) -> None:
            order.append(f"handle {message['method']}")

            async def handler() -> None:
                order.append(f"start {message['method']}")

            asyncio.get_running_loop().create_task(handler())

    reader, w = _pipe_reader()
    os.write(w, b"".join(_frame({"jsonrpc": "2.0", "method": m}) for m in ("a", "b", "c")))
    os.close(w)
    await run_async(stop_event=threading.Event(), reader=reader, protocol=Starting())  # type: ignore[arg-type]
    assert order == ["handle a", "start a", "handle b", "start b", "handle c", "start c"]


async def test_a_failure_while_reading_on_the_loop_reaches_the_message_loop_once() -> None:
    """A read that fails (a broken stdin, or a bug in cutting) stops the reading and is raised
    to pygls's loop; the loop's readiness callback does not fail again and again."""
    reader, w = _pipe_reader()
    os.write(w, _frame({"jsonrpc": "2.0", "method": "m"}))

    def broken(data: bytes) -> None:
        raise ValueError("cut badly")

    reader.framer.push = broken  # type: ignore[method-assign]
    try:
        await _read_all(reader)
    except ValueError:
        pass
    else:
        raise AssertionError("the failure did not reach the message loop")
    await asyncio.sleep(0.05)
    assert reader.reads == 1 and not reader._reading  # one read, then no more
    os.close(w)


def test_a_read_after_an_exit_mid_turn_does_not_block_the_loop() -> None:
    """pygls ends the server by raising SystemExit in a callback: the loop's turn stops there,
    and the stdin reader's callback, queued behind it, stays queued. asyncio's clean-up then
    runs the loop again, whose next select queues the same callback once more while stdin still
    has bytes (an answer the editor sent after `exit`): the first call read them, and the second
    blocked in `read` on the empty pipe, which the editor keeps open until the process ends.
    The process hung until its exit deadline ended it (a CI run's stacks showed it)."""
    r, w = os.pipe()
    unblocked = threading.Event()

    def unblock() -> None:  # only if the loop is stuck in a read: the test fails then
        unblocked.set()
        os.write(w, _frame({"jsonrpc": "2.0", "method": "late"}))

    loop = asyncio.new_event_loop()
    timer = threading.Timer(10.0, unblock)
    try:
        with os.fdopen(r, "rb", buffering=0) as stdin:
            reader = MessageReader(stdin)
            first = loop.create_task(reader.readline())  # registers the reader on the loop

            def exit_next_turn() -> None:  # as pygls's exit: SystemExit out of a callback
                os.write(w, _frame({"jsonrpc": "2.0", "id": 1, "result": None}))
                loop.call_soon(_raise_exit)

            loop.call_soon(exit_next_turn)
            try:
                loop.run_until_complete(first)
            except SystemExit:
                pass
            timer.start()
            loop.run_until_complete(asyncio.sleep(0.2))  # as asyncio.run's clean-up does
            assert not unblocked.is_set(), "the loop blocked in a read of stdin"
            first.cancel()
            loop.run_until_complete(asyncio.sleep(0))
    finally:
        timer.cancel()
        loop.close()
        os.close(w)


def _raise_exit() -> None:
    raise SystemExit(0)
