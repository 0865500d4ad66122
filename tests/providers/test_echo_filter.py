"""app/echo.py: a generation's closing echo of the code below the insertion point, dropped
before it is written or run, however the answer is split (the opening echo of the code above
is RepeatFilter's `leading_only`, test_repair_filter.py)."""

from __future__ import annotations

import pytest

from eager_lsp.app.echo import TrailingEcho, without_echo
from eager_lsp.app.statement_stream import statements

BELOW = "print('done')\nresult = {'n': 1}\n"


def run(answer: str, size: int, below: str = BELOW) -> tuple[str, TrailingEcho]:
    f = TrailingEcho(None, statements(below))
    out = "".join(f.feed(answer[i : i + size]) for i in range(0, len(answer), size))
    return out + f.finish(), f


SIZES = [1, 2, 3, 7, 1000]


@pytest.mark.parametrize("size", SIZES)
def test_the_answer_ending_with_the_code_below_loses_that_ending(size: int) -> None:
    # As the bundled model answered "count the words" above a `print('done')`.
    answer = "counts = {}\nprint(counts)\nprint( 'done' )  # again\n\nresult = {'n': 1}\n"
    out, f = run(answer, size)
    assert out == "counts = {}\nprint(counts)\n"
    assert [d.strip() for d in f.stats.dropped] == [
        "print( 'done' )  # again",
        "result = {'n': 1}",
    ]


@pytest.mark.parametrize("size", SIZES)
def test_the_code_below_in_the_middle_of_the_answer_stays(size: int) -> None:
    answer = "print('done')\nresult = {'n': 1}\nresult['n'] += 1\n"
    out, f = run(answer, size)
    assert out == answer and not f.stats.dropped


@pytest.mark.parametrize("size", SIZES)
def test_only_the_first_statements_below_in_order_count(size: int) -> None:
    # the second statement below alone at the end: not an echo
    out, f = run("x = 1\nresult = {'n': 1}\n", size)
    assert out == "x = 1\nresult = {'n': 1}\n" and not f.stats.dropped
    # the two in the wrong order: only the last, the first below, is the echo's start
    out, f = run("x = 1\nresult = {'n': 1}\nprint('done')\n", size)
    assert out == "x = 1\nresult = {'n': 1}\n" and len(f.stats.dropped) == 1


def test_a_line_the_stream_stalls_in_is_passed_as_far_as_it_came() -> None:
    """A stalled stream's partial line is written (the writer's partial line): the filter
    must not hold back `v3=` until its end when it cannot be the line below (the Neovim
    e2e tests of a stall mid-line found that it did)."""
    f = TrailingEcho(None, statements("end = 1\n"))
    assert f.feed("v0=0\nv1=1\nv2=2\nv3=") == "v0=0\nv1=1\nv2=2\nv3="
    assert f.feed("3\nen") == "3\n"  # `en` may become `end = 1`: held
    assert f.feed("d = 2\n") == "end = 2\n"
    assert f.finish() == ""


def test_new_code_streams_as_it_arrives_and_only_a_possible_echo_waits() -> None:
    f = TrailingEcho(None, statements(BELOW))
    assert f.feed("total = su") == "total = su"
    assert f.feed("m([1])\n") == "m([1])\n"
    assert f.feed("print(") == ""  # may become print('done'): held
    assert f.feed("total)\n") == "print(total)\n"  # it did not
    assert f.feed("print('done')\n") == ""  # it is: held until something follows
    assert f.feed("x = 2\n") == "print('done')\nx = 2\n"  # released: the answer went on
    assert f.finish() == ""


@pytest.mark.parametrize("size", [1, 1000])
def test_a_compound_statement_below_is_compared_whole(size: int) -> None:
    below = "for i in range(2):\n    print(i)\nprint('end')\n"
    out, f = run("y = 3\nfor i in range(2):\n    print(i)\n", size, below)
    assert out == "y = 3\n" and len(f.stats.dropped) == 1
    out, f = run("y = 3\nfor i in range(2):\n    print(i + 1)\n", size, below)
    assert out == "y = 3\nfor i in range(2):\n    print(i + 1)\n"


async def test_both_echoes_dropped_from_one_stream_into_one_count() -> None:
    async def pieces():  # the model's answer, three characters at a time
        text = "import os\nx = 1\ny = x + 1\nprint(y)\nprint('done')\n"
        for i in range(0, len(text), 3):
            yield text[i : i + 3]

    stream, stats = without_echo(pieces(), above="x = 1\n", below="print('done')\n")
    out = "".join([p async for p in stream])
    assert out == "import os\ny = x + 1\nprint(y)\n"
    assert [d.strip() for d in stats.dropped] == ["x = 1", "print('done')"]
