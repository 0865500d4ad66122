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


# -- a generation into a file: only the answer's opening echo of the code above is dropped ----

ABOVE = "import random\nrandom.seed(1)\nscores = [random.randint(0, 100) for _ in range(30)]\n"


def echo_run(answer: str, size: int) -> tuple[str, RepeatFilter]:
    f = RepeatFilter(None, ran=ABOVE, failing="", leading_only=True)
    out = "".join(f.feed(answer[i : i + size]) for i in range(0, len(answer), size))
    return out + f.finish(), f


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_a_generation_drops_its_opening_echo_of_the_file_and_keeps_later_repeats(
    size: int,
) -> None:
    # As the bundled model answered "print how many scores are at least 50" at the end of
    # ABOVE: the file's code again (re-drawing `scores` would change them), then the answer.
    answer = (
        "import random\n"
        "\n"
        "scores = [random.randint(0, 100) for _ in range(30)]\n"
        "# count them\n"
        "print(sum(1 for s in scores if s >= 50))\n"
        "random.seed(1)\n"  # after new code: meant to run again, kept
        "print(max(scores))\n"
    )
    out, f = echo_run(answer, size)
    assert out == (
        "# count them\n"
        "print(sum(1 for s in scores if s >= 50))\n"
        "random.seed(1)\n"
        "print(max(scores))\n"
    )
    assert [d.strip() for d in f.stats.dropped] == [
        "import random",
        "scores = [random.randint(0, 100) for _ in range(30)]",
    ]
    assert not f.stats.unchanged


def test_past_the_echo_the_answer_streams_piece_by_piece() -> None:
    f = RepeatFilter(None, ran=ABOVE, failing="", leading_only=True)
    assert f.feed("import random\n") == ""  # may be the echo: held
    # a line that surely begins the next statement ends the one held (dropped) and is no echo
    assert f.feed("x = sum(") == "x = sum("
    assert f.feed("scores)\n") == "scores)\n"
    # past the echo nothing waits, not even a line whose first word may become `else`
    assert f.feed("el") == "el"
    assert f.feed("apsed = 0\n") == "apsed = 0\n"
    assert f.feed("print(x") == "print(x"
    assert f.feed(")\nimport random\n") == ")\nimport random\n"
    assert f.finish() == ""
    assert [d.strip() for d in f.stats.dropped] == ["import random"]


def test_a_line_that_may_still_continue_the_statement_before_it_waits() -> None:
    f = RepeatFilter(None, ran=RAN, failing=FAILING)
    assert f.feed("if items:\n    print(1)\n") == "if items:\n    print(1)\n"
    assert f.feed("el") == ""  # `else:` or `elapsed = …`?
    assert f.feed("se:\n") == "else:\n"  # it continues the `if`
    assert f.feed("    print(2)\n# a note") == "    print(2)\n"  # a comment waits for what follows


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_new_imports_first_do_not_end_the_echo(size: int) -> None:
    # The bundled model's answer to "count each word" below a `words = ...` line.
    above = "words = 'the fox the end'.split()\n"
    answer = (
        "from collections import Counter\n"
        "import math\n"
        "\n"
        "words = 'the fox the end'.split()\n"
        "counts = Counter(words)\n"
        "import os\n"  # after new code: kept, and so is what follows
        "words = 'the fox the end'.split()\n"
    )
    f = RepeatFilter(None, ran=above, failing="", leading_only=True)
    out = "".join(f.feed(answer[i : i + size]) for i in range(0, len(answer), size)) + f.finish()
    assert out == (
        "from collections import Counter\n"
        "import math\n"
        "\n"
        "counts = Counter(words)\n"
        "import os\n"
        "words = 'the fox the end'.split()\n"
    )
    assert [d.strip() for d in f.stats.dropped] == ["words = 'the fox the end'.split()"]


@pytest.mark.parametrize("size", [1, 1000])
def test_an_answer_that_echoes_nothing_is_passed_whole(size: int) -> None:
    answer = "total = 0\nfor s in [1, 2]:\n    total += s\nprint(total)\n"
    out, f = echo_run(answer, size)
    assert out == answer and not f.stats.dropped
