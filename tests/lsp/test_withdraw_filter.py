"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) Document run (gate eager): several changes in one didChange while a statement waits."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from .conftest import Editor
from .test_withdraw_lines import _ran_on, _start


def _pos(line: int, ch: int = 0) -> lsp.Position:
    return lsp.Position(line=line, character=ch)


async def test_a_neovim_filter_that_changes_only_the_first_line_takes_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    """`:%!sed 's/^import os, time$/import os, time  # std/'` in Neovim: the new text comes
    inserted after the old, then the old deleted (lsp/least_edits.py's docstring)."""
    uri, go, side = await _start(editor, tmp_path)
    old = editor.docs[uri].source
    n = old.count("\n")
    new = old.replace("import os, time\n", "import os, time  # std\n", 1)
    changes = [
        (lsp.Range(start=_pos(n), end=_pos(n)), new),
        (lsp.Range(start=_pos(0), end=_pos(n)), ""),
    ]
    editor._change(editor.docs[uri], changes)
    assert editor.docs[uri].source == new
    await _ran_on(editor, uri, go, side)


async def test_two_substitutions_on_other_lines_take_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    """`:1s/$/ #/ | 5s/$/ #/` (0-based 0 and 4: a blank line)."""
    uri, go, side = await _start(editor, tmp_path)
    old = editor.docs[uri].source
    lines = old.split("\n")
    changes = [
        (lsp.Range(start=_pos(0, len(lines[0])), end=_pos(0, len(lines[0]))), " #"),
        (lsp.Range(start=_pos(4, 0), end=_pos(4, 0)), " #"),
    ]
    lines[0] += " #"
    lines[4] += " #"
    editor._change(editor.docs[uri], changes)
    assert editor.docs[uri].source == "\n".join(lines)
    await _ran_on(editor, uri, go, side)


async def test_a_whole_text_change_adding_a_line_on_top_takes_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _start(editor, tmp_path)
    new = "# top\n" + editor.docs[uri].source
    editor._change(
        editor.docs[uri], [(lsp.Range(start=_pos(0), end=_pos(0)), "# top\n")], full=True
    )
    assert editor.docs[uri].source == new
    await _ran_on(editor, uri, go, side)
