"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) A document without a final newline: the user deletes its last line (the print) while the
write above it waits. Only the print was deleted; the write's text is as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from eager_lsp.lsp import methods

from .conftest import Editor
from .test_withdraw_edited import _started

SCRIPT = """\
import os, time
for i in range(1):
    while not os.path.exists({go!r}):
        time.sleep(0.02)
open({side!r}, "w").write("ran")
print("after")"""


@pytest.mark.parametrize("how", ["from_end_of_line_above", "whole_last_line_then_newline"])
async def test_deleting_the_last_line_takes_back_only_it(
    editor: Editor, tmp_path: Path, how: str
) -> None:
    go, side = tmp_path / "go", tmp_path / "side"
    uri = editor.open("w.py", SCRIPT.format(go=str(go), side=str(side)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: _started(editor, uri), "the loop to run")
    lines = editor.docs[uri].source.split("\n")
    if how == "from_end_of_line_above":  # VS Code's Delete Line on the last line
        editor.replace(uri, (4, len(lines[4])), (5, len(lines[5])), "")
    else:  # the line's text first, then the newline before it (two keystrokes)
        editor.replace(uri, (5, 0), (5, len(lines[5])), "")
        await editor.hint_labels(uri)
        editor.replace(uri, (4, len(lines[4])), (5, 0), "")
    await editor.hint_labels(uri)
    go.touch()
    await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    print("SAID", said)
    assert side.exists(), f"the write, untouched, did not run: {said}"
    assert said == [
        "eager: line 6 was edited or deleted before it ran: it and what follows did not run"
    ], said
