"""lsp/least_edits.py: the edits make the new text, touch only lines that differ, and stay
bounded. Pure functions: no server needed."""

from __future__ import annotations

import random

from eager_lsp.lsp.least_edits import LINE_LIMIT, least_edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in edits:  # in order, each on the text the ones before left
        text = text[:start] + new + text[end:]
    return text


def test_two_appended_comments_are_two_insertions_at_their_lines_ends() -> None:
    old = "a = 1\nb = 2\nc = 3\n"
    new = "a = 1  # x\nb = 2\nc = 3  # y\n"
    assert least_edits(old, new) == [(17, 17, "  # y"), (5, 5, "  # x")]


def test_alike_texts_give_one_empty_edit() -> None:
    assert least_edits("a\nb\n", "a\nb\n") == [(4, 4, "")]


def test_a_line_moved_inside_a_block_touches_only_the_lines_that_differ() -> None:
    old = "".join(f"v{i} = {i}\n" for i in range(50))
    new = old.replace("v10 = 10\n", "").replace("v40 = 40\n", "v40 = 40\nv10 = 10\n")
    edits = least_edits(old, new)
    assert _apply(old, edits) == new
    assert sum(len(text) + end - start for start, end, text in edits) <= 2 * len("v10 = 10\n")


def test_random_edits_always_make_the_new_text() -> None:
    rng = random.Random(7)
    pool = ["x = 1\n", "y = 2\n", "\n", "# c\n", "z\r\n", "é = 'ü'\n"]
    for _ in range(2000):
        lines = [rng.choice(pool) for _ in range(rng.randint(0, 12))]
        new = list(lines)
        for _ in range(rng.randint(0, 4)):
            at = rng.randint(0, len(new))
            if rng.random() < 0.4:
                new.insert(at, rng.choice([*pool, "q"]))
            elif new:
                j = min(at, len(new) - 1)
                cut = rng.randint(0, len(new[j]))
                new[j] = new[j][:cut] + rng.choice(["", "ab", "\n", "#"]) + new[j][cut:]
        old_text, new_text = "".join(lines), "".join(new)
        assert _apply(old_text, least_edits(old_text, new_text)) == new_text


def test_past_the_line_limit_it_is_the_one_edit_from_first_difference_to_last() -> None:
    old = "".join(f"v{i} = {i}\n" for i in range(LINE_LIMIT + 10))
    new = "# top\n" + old + "# end\n"
    edits = least_edits(old, new)
    assert len(edits) == 1 and edits[0][0] == 0 and _apply(old, edits) == new
