"""lsp/text.py's ASCII shortcuts and publish's line range give what the general definitions
give, on random texts with non-ASCII, astral characters and CRs, in the three encodings."""

from __future__ import annotations

import random

from eager_lsp.lsp import publish
from eager_lsp.lsp.text import Text, _chars_for_units, units


def _slow_units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _slow_chars(line: str, n: int, encoding: str) -> int:
    count = 0
    for i, c in enumerate(line):
        if count >= n:
            return i
        count += _slow_units(c, encoding)
    return len(line)


def test_units_ranges_and_columns_match_the_general_definitions() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", " ", "\n", "é", "😀", "\r", "\t"]
    for _ in range(2000):
        src = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        encoding = rng.choice(["utf-16", "utf-8", "utf-32"])
        text = Text(src, encoding)
        first = rng.randint(-1, text.line_count + 1)
        last = rng.randint(first, text.line_count + 2)
        start = text.line_start(first)
        end = text.line_start(last) + len(text.line(last))
        assert publish._lines_range(text, first, last) == publish._range_payload(
            text.range(start, end)
        )
        line = text.line(rng.randint(0, text.line_count))
        assert units(line, encoding) == _slow_units(line, encoding)
        n = rng.randint(0, 50)
        assert _chars_for_units(line, n, encoding) == _slow_chars(line, n, encoding)
