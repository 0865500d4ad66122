"""Which statements of a text the user has deleted from the document since it was written.

Why: after a generation stops early (lsp/unwritten.py), the namespace is brought to the text
as the generation wrote it, and written statements that read what an unwritten one changed
run again. A written statement the user has deleted meanwhile must not: code runs only when
the user asks, and deleting it is the opposite of asking. So those statements leave the text
the cleanup plans over (their lines blanked, line numbers kept) and count as gone.

Rules:
- Only a deletion counts. A statement the user edited (a comment appended, a number
  changed) stays: the text as generated is what ran, and it runs again as generated; what
  the user typed never runs here.
- The texts are compared line by line (difflib). A line of the statement is still there when
  it sits in an unchanged block, or in a changed block where a run of at least 60 % of its
  tokens (words, numbers, single symbols) is still found in order; a statement whose lines
  are all gone was deleted. Comparing content, not offsets, holds for both write paths (the
  server's applyEdit and the client's own marks) and for any number of edits since.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from eager_lsp.core.types import Chunk

#: The share of a line's tokens that must still stand together for the line to count.
KEPT_SHARE = 0.6
_TOKEN = re.compile(r"\w+|\S")


def deleted_statements(text: str, now: str, chunks: Sequence[Chunk]) -> list[Chunk]:
    """The `chunks` (statements of `text`, 1-based lines) that `now` no longer holds."""
    if not chunks:
        return []
    old, new = text.splitlines(), now.splitlines()
    # The lines both share at the start and at the end (the code above the generation, the
    # text below) are kept as they are: only the middle is diffed, so a long document costs
    # a linear scan, not difflib's quadratic worst case over every line.
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    kept: set[int] = set(range(head)) | set(range(len(old) - tail, len(old)))
    mid_old, mid_new = old[head : len(old) - tail], new[head : len(new) - tail]
    matcher = difflib.SequenceMatcher(None, mid_old, mid_new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            kept.update(range(head + i1, head + i2))
        elif op == "replace":
            block = "\n".join(mid_new[j1:j2])
            kept.update(head + i for i in range(i1, i2) if _still_in(mid_old[i], block))
    return [
        c
        for c in chunks
        if not any(i in kept for i in range(c.start_line - 1, c.end_line) if old[i].strip())
    ]


def _still_in(line: str, block: str) -> bool:
    """Most of `line`'s tokens still stand together, in order, somewhere in `block`."""
    words = _TOKEN.findall(line)
    if not words:
        return False
    others = _TOKEN.findall(block)
    m = difflib.SequenceMatcher(None, words, others, autojunk=False)
    size = m.find_longest_match(0, len(words), 0, len(others)).size
    return size >= KEPT_SHARE * len(words)
