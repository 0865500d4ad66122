"""repair.RepeatFilter: the model's answer minus what already ran, however it is split."""

from __future__ import annotations

import pytest

from eager_lsp.app.repair import RepeatFilter

RAN = "import math\nitems = [1, 2, 3]\n\ndef half(x):\n    return x / 2\n"
FAILING = "mean = sum(items) / count\n"


def run(answer: str, size: int) -> tuple[str, RepeatFilter]:
    f = RepeatFilter(None, ran=RAN, failing=FAILING)
    out = ""
    for i in range(0, len(answer), size):
        out += f.feed(answer[i : i + size])
        if f.stats.unchanged:
            return out, f
    return out + f.finish(), f


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1000])
def test_repeats_are_dropped_and_new_code_passes_unchanged(size: int) -> None:
    answer = (
        "import math\n"
        "# the data\n"
        "items = [1,2,3]  # same statement, other spacing\n"
        "def half(x):\n"
        "    return x / 2\n"
        "mean = sum(items) / len(items)\n"
        "if mean > 1:\n"
        "    print(half(mean))\n"
        "else:\n"
        "    print(math.pi)\n"
        "items = [1, 2, 3]\n"
    )
    out, f = run(answer, size)
    assert out == (
        "mean = sum(items) / len(items)\n"
        "if mean > 1:\n"
        "    print(half(mean))\n"
        "else:\n"
        "    print(math.pi)\n"
    )
    assert len(f.stats.dropped) == 4
    assert not f.stats.unchanged


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_the_failing_statement_unchanged_stops_the_answer(size: int) -> None:
    out, f = run("items = [1, 2, 3]\nmean = sum(items)/count\nprint(mean)\n", size)
    assert out == "" and f.stats.unchanged


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_the_failing_statement_after_a_fix_is_kept(size: int) -> None:
    answer = "count = len(items)\nmean = sum(items) / count\n"
    out, f = run(answer, size)
    assert out == answer and not f.stats.unchanged and f.stats.kept == 2


def test_new_code_streams_before_its_statement_is_complete() -> None:
    f = RepeatFilter(None, ran=RAN, failing=FAILING)
    assert f.feed("total = sum(") == "total = sum("  # cannot be a repeat: not held back
    assert f.feed("items)\n") == "items)\n"
