"""The least edits that turn one text into another, line by line: how several changes of one
didChange are taken (lsp/documents.py).

Why: Neovim sends one change of several lines as several changes (a filter `:%!fmt` comes as
the new text inserted after the old and the old deleted; `:1s/$/ #/ | 6s/$/ #/` as two
edits), and taken change by change, or as the one edit from the first difference to the
last, every statement between them looked edited and lost its result, though its lines were
the same. Compared line by line, only the lines that differ are edited.

Rules:
- The texts' common head and tail are skipped (compared in C); what is left is compared as
  lines (difflib) without their line ends (a text's last line may have none, and is the same
  line), and each block of lines that differs becomes one edit, trimmed to the characters
  that differ in it (a comment appended to a line is an insertion at its end).
- The edits come bottom-up: each one's offsets are those of the text as the edits before it
  left it (they changed only what is below), so they are applied, and recorded, in order.
- Bounded: past LINE_LIMIT lines in the middle, the one edit from the first difference to the
  last is given, as before (a paste of thousands of lines must not hold the server).
"""

from __future__ import annotations

import difflib

LINE_LIMIT = 2000


def common_prefix(a: str, b: str) -> int:
    """How many characters `a` and `b` start with alike (slices compared in C, halving)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _one_edit(old: str, new: str, start: int = 0) -> tuple[int, int, str]:
    """The one edit, at `start` of the whole text, that turns `old` into `new`: what they
    begin and end with alike is not touched."""
    head = common_prefix(old, new)
    tail = common_prefix(old[head:][::-1], new[head:][::-1])
    return start + head, start + len(old) - tail, new[head : len(new) - tail]


def least_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Edits `(start, end, text)` turning `old` into `new`, bottom-up (see the rules). At least
    one: texts alike give the one empty edit at their end."""
    whole = _one_edit(old, new)
    head, end, _ = whole
    if end == head and len(new) == len(old):
        return [whole]
    start = old.rfind("\n", 0, head) + 1  # the line the first difference is on
    line_end = old.find("\n", end)
    more = (len(old) if line_end < 0 else line_end + 1) - end  # to that line's end
    old_mid = old[start : end + more]
    new_mid = new[start : len(new) - (len(old) - end) + more]
    a, b = old_mid.splitlines(keepends=True), new_mid.splitlines(keepends=True)
    if max(len(a), len(b)) > LINE_LIMIT:
        return [whole]
    a_at, b_at = _offsets(a), _offsets(b)
    keys_a, keys_b = [line.rstrip("\r\n") for line in a], [line.rstrip("\r\n") for line in b]
    edits: list[tuple[int, int, str]] = []
    for _tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, keys_a, keys_b).get_opcodes():
        old_block, new_block = old_mid[a_at[i1] : a_at[i2]], new_mid[b_at[j1] : b_at[j2]]
        if old_block == new_block:
            continue
        edit = _one_edit(old_block, new_block, start + a_at[i1])
        if edits and edits[-1][1] == edit[0]:
            # Touching the one before (an equal block that differs only in its last line's
            # end, then lines added or taken after it): one edit, "\nnew" after a line's end
            # and not "new" on it, then "\n".
            before = edits.pop()
            edit = (before[0], edit[1], before[2] + edit[2])
        edits.append(edit)
    return edits[::-1] or [whole]


def _offsets(lines: list[str]) -> list[int]:
    """Where each line starts, and the end."""
    at = [0]
    for line in lines:
        at.append(at[-1] + len(line))
    return at
