"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) Document run (gate eager): edits that do not change the waiting statement's text, and the
line the message names."""

from __future__ import annotations

from pathlib import Path

import pytest

from eager_lsp.lsp import methods

from .conftest import Editor
from .test_withdraw_edited import _started

# 0 import; 1-3 loop waits for `go`; 4 blank; 5 write; 6 blank; 7 print
SCRIPT = """\
import os, time
for i in range(1):
    while not os.path.exists({go!r}):
        time.sleep(0.02)

open({side!r}, "w").write("ran")

print("after")
"""


async def _start(editor: Editor, tmp_path: Path):
    go, side = tmp_path / "go", tmp_path / "side"
    uri = editor.open("w.py", SCRIPT.format(go=str(go), side=str(side)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: _started(editor, uri), "the loop to run")
    return uri, go, side


async def _ran_on(editor: Editor, uri: str, go: Path, side: Path) -> None:
    """The edits sent so far took nothing back: once the loop ends, the write runs and no
    message says anything was edited."""
    await editor.hint_labels(uri)  # (the server has taken them)
    go.touch()
    summary = await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    assert not said, said
    assert not summary["stoppedEarly"], summary
    assert side.exists()


def _len(editor, uri, line):
    return len(editor.docs[uri].source.split("\n")[line])


EDITS = {
    "enter_at_end_of_write": lambda e, u: e.type(u, 5, _len(e, u, 5), "\n"),
    "neovim_o_below_write": lambda e, u: e.replace(u, (5, _len(e, u, 5)), (6, 0), "\n\n"),
    "type_on_blank_after_write": lambda e, u: e.type(u, 6, 0, "x = 1"),
    "type_on_blank_before_write": lambda e, u: e.type(u, 4, 0, "# note"),
    "backspace_blank_after_write": lambda e, u: e.replace(u, (5, _len(e, u, 5)), (6, 0), ""),
    "backspace_blank_before_write": lambda e, u: e.replace(u, (4, 0), (5, 0), ""),
    "enter_at_end_of_loop": lambda e, u: e.type(u, 3, _len(e, u, 3), "\n        "),
    "line_above": lambda e, u: e.type(u, 0, 0, "# top\n"),
    "trailing_space_on_write": lambda e, u: e.type(u, 5, _len(e, u, 5), "  "),
}


@pytest.mark.parametrize("edit", list(EDITS))
async def test_an_edit_that_leaves_the_write_as_it_was_takes_nothing_back(
    editor: Editor, tmp_path: Path, edit: str
) -> None:
    uri, go, side = await _start(editor, tmp_path)
    EDITS[edit](editor, uri)
    await _ran_on(editor, uri, go, side)


async def test_the_message_names_the_line_the_edited_statement_is_on_now(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _start(editor, tmp_path)
    editor.type(uri, 0, 0, "# one\n# two\n")  # the write moves from line 6 to line 8
    await editor.hint_labels(uri)
    editor.type(uri, 7, 0, "# ")  # the user comments it out (1-based line 8)
    await editor.hint_labels(uri)
    go.touch()
    await editor.summary(uri)
    assert not side.exists()
    said = [m for m in editor.messages() if "before it ran" in m]
    assert said == [
        "eager: line 8 was edited or deleted before it ran: it and what follows did not run"
    ], said
