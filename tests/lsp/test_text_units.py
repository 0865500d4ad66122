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


def test_a_crlf_line_break_is_not_part_of_the_line() -> None:
    """LSP counts a line's characters without its line break, "\\r\\n" as much as "\\n": the
    end of a line is before its "\\r" (a range or hint there did end one character past the
    line), and a client position past the text clamps there."""
    text = Text("x = 1\r\ny = 2\r\nlast\r", "utf-16")
    assert [text.line(n) for n in range(3)] == ["x = 1", "y = 2", "last\r"]  # (no "\n": no CRLF)
    assert text.end_of_line(0).character == 5
    assert text.offset_at(0, 9) == 5
    end = publish._lines_range(text, 0, 1).end
    assert (end.line, end.character) == (1, 5)


def test_a_crlf_typed_at_the_end_of_a_line_changes_no_line() -> None:
    """Enter at the end of `x = 1` in a CRLF document is "\\r\\n" inserted before its "\\r":
    new lines after line 0, whose text (and result) stays, as with "\\n" in an LF one."""
    crlf = Text("x = 1\r\ny = 2\r\n")
    edit = crlf.line_edit(5, 5, "\r\nz = 5")
    assert (edit.map(0), edit.map(1)) == (0, 2)
    lf = Text("x = 1\ny = 2\n")
    assert lf.line_edit(5, 5, "\nz = 5") == edit


def test_a_cr_neovim_counts_as_text_keeps_the_copy_in_step() -> None:
    """Neovim reads a file with mixed line endings as unix: a line's "\\r" is a character of
    it (`^M`), and positions count it. `A # c` then `J` on `x = 1^M` (the changes Neovim sends,
    recorded from a real one) leave the server's copy as Neovim has it, and Enter after the
    `^M` changes no line (a reviewing helper saw the copy go out of step)."""
    text = Text("x = 1\r\ny = 2\n", "utf-16")
    for (sl, sc), (el, ec), new in [
        ((0, 6), (0, 6), " # c"),
        ((0, 10), (0, 10), " y = 2"),
        ((1, 0), (2, 0), ""),
    ]:
        text.replace(text.offset_at(sl, sc), text.offset_at(el, ec), new)
    assert text.source == "x = 1\r # c y = 2\n"
    enter = Text("x = 1\r\ny = 2\n")
    edit = enter.line_edit(enter.offset_at(0, 6), enter.offset_at(0, 6), "\nz = 5")
    assert (edit.map(0), edit.map(1)) == (0, 2)
    # past that one character, a position clamps to the line's end, before its "\r"
    assert enter.offset_at(0, 7) == enter.offset_at(0, 99) == 5


def test_deleting_a_lines_newline_above_an_empty_line_changes_no_line_of_text() -> None:
    """Neovim sends `u` of a fix put back at the end of the buffer as "replace the newline
    ending `y = x / 0` with two", then "delete the newline ending `y = x / 0`": the text is as
    before, and the second change is the empty line below deleted, not an edit of line 2 (its
    error and Fix action were dropped). Deleting it above a line of text joins the two."""
    text = Text("x = 10\nprint(x)\ny = x / 0\n")
    end = text.offset_at(2, 9)
    assert text.line_edit(end, end + 1, "\n\n").map(2) == 2
    text.replace(end, end + 1, "\n\n")
    edit = text.line_edit(end, end + 1, "")
    assert (edit.map(1), edit.map(2), edit.map(3)) == (1, 2, None)
    text.replace(end, end + 1, "")
    assert text.source == "x = 10\nprint(x)\ny = x / 0\n"
    joined = Text("y = x / 0\nfoo\n").line_edit(9, 10, "")
    assert (joined.map(0), joined.map(1)) == (None, None)
    # several lines' worth: "\nA\nB" deleted before a newline is lines A and B deleted
    lines = Text("x\nA\nB\ny\n").line_edit(1, 5, "")
    assert (lines.map(0), lines.map(1), lines.map(3)) == (0, None, 1)
