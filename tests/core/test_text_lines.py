"""TextLines keeps its line index up to date when a part of the text is replaced."""

from __future__ import annotations

import random

from eager_lsp.core.text_lines import TextLines
from eager_lsp.lsp.text import Text


def test_a_spliced_line_index_equals_one_built_from_scratch() -> None:
    rng = random.Random(1234)
    pieces = ["", "a", "\n", "xy\n", "\n\n", "é\n", "line\nline", "🐍"]
    text = Text("first\nsecond\n\nthird")
    for _ in range(3000):
        n = len(text.source)
        start = rng.randint(0, n)
        end = rng.randint(start, min(n, start + rng.choice([0, 1, 3, 12])))
        insert = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
        expected = text.source[:start] + insert + text.source[end:]
        text.replace(start, end, insert)
        assert text.source == expected
        fresh = TextLines(expected)
        assert text.line_count == fresh.line_count
        assert [text.line_start(i) for i in range(text.line_count)] == [
            fresh.line_start(i) for i in range(fresh.line_count)
        ]
