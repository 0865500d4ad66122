"""The capture writer and the fd-level sink in process (executors/worker/capture.py): head
and tail kept with one counted gap, what is new since a position, and moves out of the
capture file (bounded reads, whole characters, the guard's trim)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from eager_lsp.executors.worker.capture import CappedWriter, FdSink, cut_output
from eager_lsp.limits import omission_marker


def test_under_the_cap_everything_is_kept() -> None:
    w = CappedWriter(20)
    w.write("0123456789")
    w.write("abcdefghij")
    assert w.getvalue() == "0123456789abcdefghij" and not w.cut
    assert w.since(4) == ("456789abcdefghij", 20)


def test_past_the_cap_head_and_tail_stay_around_one_counted_gap() -> None:
    w = CappedWriter(20)
    for part in ("0123456789", "abcdefghij", "KLMNO", "PQ"):
        w.write(part)
    assert w.cut
    assert w.getvalue() == "0123456789" + omission_marker(7) + "hijKLMNOPQ"
    assert cut_output(w.getvalue())[1]  # readers of the result know it was cut


def test_one_long_write_keeps_its_end() -> None:
    w = CappedWriter(20)
    w.write("a" * 5 + "b" * 1000 + "END")
    assert w.getvalue() == "a" * 5 + "b" * 5 + omission_marker(988) + "b" * 7 + "END"


def test_since_gives_what_is_new_and_limits_it_once_cut() -> None:
    w = CappedWriter(20)
    w.write("0123456789abcdefghij")
    text, pos = w.since(0, limit=3)
    assert (text, pos) == ("0123456789abcdefghij", 20)  # not cut yet: all of it
    w.write("KLMNOPQRST")
    assert w.since(pos, limit=3) == (omission_marker(7) + "RST", 30)
    assert w.since(pos) == ("KLMNOPQRST", 30)  # still kept: no gap
    assert w.since(30, limit=3) == ("", 30)
    # a position before the kept tail: what fell out is counted
    assert w.since(12) == (omission_marker(8) + "KLMNOPQRST", 30)
    # a position in the head: the rest of the head, whole, then the newest
    assert w.since(8, limit=3) == ("89" + omission_marker(17) + "RST", 30)


def test_skip_counts_a_loss_and_the_tail_before_it() -> None:
    w = CappedWriter(20)
    w.write("ab")
    w.skip(5)
    w.write("cd")
    assert w.getvalue() == "ab" + omission_marker(5) + "cd"
    assert w.head_room == 0  # the head has no hole: text after a loss is tail
    w.write("efgh")
    w.skip(100)
    w.write("XY")
    assert w.getvalue() == "ab" + omission_marker(5 + 6 + 100) + "XY"


def test_memory_stays_bounded_under_many_small_writes() -> None:
    w = CappedWriter(1000)
    for i in range(200_000):
        w.write(str(i % 10))
    kept = sum(map(len, w._head)) + sum(map(len, w._tail))
    assert kept <= 1000 + 4096
    assert w.getvalue().endswith("".join(str(i % 10) for i in range(199_500, 200_000)))


@pytest.fixture
def sink() -> Iterator[tuple[FdSink, int]]:
    fd = os.open(os.devnull, os.O_WRONLY)
    s = FdSink(fd)
    try:
        yield s, fd
    finally:
        os.close(fd)


def test_a_move_takes_what_is_new_and_leaves_an_unfinished_character(
    sink: tuple[FdSink, int],
) -> None:
    s, fd = sink
    w = CappedWriter(64)
    s.attach(w)
    os.write(fd, "café".encode()[:-1])
    s.move_into(w)
    assert w.getvalue() == "caf"
    os.write(fd, "é".encode()[-1:] + b"!")
    s.move_into(w)
    assert w.getvalue() == "café!"
    s.finish(w)
    assert s.size() == 0 and w.getvalue() == "café!"


def test_a_large_move_reads_only_head_and_end(sink: tuple[FdSink, int]) -> None:
    s, fd = sink
    w = CappedWriter(64)
    s.attach(w)
    os.write(fd, b"H" * 40 + "é".encode() * 100_000 + b"END")
    s.finish(w)
    out = w.getvalue()
    assert out.startswith("H" * 32 + "\n[... ") and out.endswith("é" * 29 + "END")
    assert "\ufffd" not in out  # the end window started inside a character: skipped whole


def test_the_guard_moves_unread_output_to_the_chunk_then_empties_the_file(
    sink: tuple[FdSink, int],
) -> None:
    s, fd = sink
    w = CappedWriter(64)
    s.attach(w)
    os.write(fd, b"first\n" + b"x" * 5000 + b"\nlast\n")
    assert s.trim(1000) > 0
    assert s.size() == 0
    os.write(fd, b"after\n")
    s.finish(w)
    out = w.getvalue()
    assert out.startswith("first\nx") and out.endswith("x\nlast\nafter\n")


def test_without_a_chunk_the_guard_drops_and_counts(sink: tuple[FdSink, int]) -> None:
    s, fd = sink
    os.write(fd, b"y" * 5000)
    s.trim(1000)
    assert s.size() == 0
    w = CappedWriter(64)
    os.write(fd, b"mine\n")
    s.finish(w)  # a statement on a thread (parallel.py) collects at its end
    assert w.getvalue() == omission_marker(5000) + "mine\n"
    s.discard()
    os.write(fd, b"idle")
    s.attach(w2 := CappedWriter(64))
    s.finish(w2)
    assert w2.getvalue() == ""  # written before the chunk: nobody's
