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
- The work is bounded: the common head and tail are skipped, and a very large middle or
  changed block is matched by exact lines only (DIFF_LIMIT, BLOCK_LIMIT).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence

from eager_lsp.core.types import Chunk

#: The share of a line's tokens that must still stand together for the line to count.
KEPT_SHARE = 0.6
#: Past this many line pairs in the middle, or this many lines in one changed block, lines
#: count only when found unchanged: a paste of thousands of lines over the generated text
#: must not hold the server for seconds (a 40,000-line paste took 23 s in the full diff).
DIFF_LIMIT = 200_000
BLOCK_LIMIT = 200
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
    if len(mid_old) * len(mid_new) > DIFF_LIMIT:
        kept.update(head + i for i in _exact(mid_old, mid_new))
    else:
        matcher = difflib.SequenceMatcher(None, mid_old, mid_new, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                kept.update(range(head + i1, head + i2))
            elif op == "replace" and j2 - j1 > BLOCK_LIMIT:
                kept.update(head + i1 + i for i in _exact(mid_old[i1:i2], mid_new[j1:j2]))
            elif op == "replace":
                still_in = _finder(mid_new[j1:j2])
                kept.update(head + i for i in range(i1, i2) if still_in(mid_old[i]))
    return [
        c
        for c in chunks
        if not any(i in kept for i in range(c.start_line - 1, c.end_line) if old[i].strip())
    ]


def _exact(old: Sequence[str], new: Sequence[str]) -> list[int]:
    """Indexes of `old`'s lines found unchanged (stripped) in `new`, each found once."""
    left = Counter(line.strip() for line in new)
    found = []
    for i, line in enumerate(old):
        if left[line.strip()] > 0:
            left[line.strip()] -= 1
            found.append(i)
    return found


def _finder(block: Sequence[str]) -> Callable[[str], bool]:
    """Whether most of a line's tokens still stand together, in order, in `block` (its
    tokens are indexed once for all the lines asked about)."""
    others = _TOKEN.findall("\n".join(block))
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(others)

    def still_in(line: str) -> bool:
        words = _TOKEN.findall(line)
        if not words:
            return False
        matcher.set_seq1(words)
        size = matcher.find_longest_match(0, len(words), 0, len(others)).size
        return size >= KEPT_SHARE * len(words)

    return still_in
