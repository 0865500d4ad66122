"""core/deleted.py: which written statements the user deleted (only a deletion counts)."""

from __future__ import annotations

import pytest

from eager_lsp.core.deleted import deleted_statements
from eager_lsp.core.rerun import statements

WRITTEN = "x = 1\nz = open('log', 'a').write(f'{x}\\n')\nfor i in range(3):\n    print(i)\n"


def _gone(now: str, text: str = WRITTEN) -> list[str]:
    chunks, _ = statements(text)
    return [c.code.split("\n")[0][:8] for c in deleted_statements(text, now, chunks)]


@pytest.mark.parametrize(
    ("now", "gone"),
    [
        (WRITTEN, []),
        # a comment appended, a number changed, a line typed between: edits, not deletions
        (WRITTEN.replace("x = 1", "x = 1  # the user's note"), []),
        (WRITTEN.replace("x = 1", "x = 12"), []),
        (WRITTEN.replace("x = 1\n", "x = 1\ntyped = 9\nw = [\n"), []),
        # the whole statement deleted, alone or with its neighbour edited at the same time
        (WRITTEN.replace("z = open('log', 'a').write(f'{x}\\n')\n", ""), ["z = open"]),
        (
            WRITTEN.replace("x = 1\nz = open('log', 'a').write(f'{x}\\n')\n", "x = 2\n"),
            ["z = open"],
        ),
        # one line of a compound statement left: it is still there (as generated)
        (WRITTEN.replace("for i in range(3):\n", ""), []),
        (WRITTEN.replace("for i in range(3):\n    print(i)\n", ""), ["for i in"]),
        # replaced by something else entirely, text below included
        (WRITTEN.replace("x = 1", "answer = compute()") + "print(z)\n", ["x = 1"]),
        (WRITTEN.replace("x = 1", "max = 10"), ["x = 1"]),
        ("", ["x = 1", "z = open", "for i in"]),
    ],
)
def test_only_a_deleted_statement_is_gone(now: str, gone: list[str]) -> None:
    assert _gone(now) == gone


def test_a_repeated_statement_is_matched_in_order() -> None:
    text = "n = 0\nn += 1\nn += 1\nprint(n)\n"
    assert _gone("n = 0\nn += 1\nprint(n)\n", text) == ["n += 1"]


def test_a_long_document_is_diffed_only_where_it_differs() -> None:
    """20,000 lines above and below (many of them blank) and one statement deleted between:
    only the middle is compared, so this is quick (the plain line diff of the whole text
    is quadratic in the repeated blank lines)."""
    around = "".join(f"a{i} = {i}\n\n" for i in range(10_000))
    text = around + "x = 1\ny = x + 1\n" + around
    now = around + "x = 1\n" + around
    chunks, _ = statements(text)
    gone = deleted_statements(text, now, [c for c in chunks if c.code.startswith(("x", "y"))])
    assert [c.code for c in gone] == ["y = x + 1\n"]


@pytest.mark.parametrize("pasted", [300, 20_000])
def test_a_large_paste_over_the_code_keeps_only_lines_found_unchanged(pasted: int) -> None:
    """Thousands of lines pasted over the generated code (past DIFF_LIMIT, or one changed
    block past BLOCK_LIMIT): lines count only when found unchanged, so the answer stays
    bounded in time; a statement left as it was is still there, the others are gone."""
    gen = "".join(f"v{i} = compute({i}, 'abc')\n" for i in range(10))
    text = "head = 1\n" + gen + "tail = 2\n"
    paste = "".join(f"w{i} = other({i})\n\n" for i in range(pasted // 2))
    now = "head = 1\n" + paste + "v3 = compute(3, 'abc')\n" + paste + "tail = 2\n"
    chunks, _ = statements(text)
    gone = deleted_statements(text, now, [c for c in chunks if c.code.startswith("v")])
    assert [c.code.split(" ")[0] for c in gone] == [f"v{i}" for i in range(10) if i != 3]
