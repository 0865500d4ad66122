"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) Document run (gate eager): several changes in one didChange while a statement waits."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from .conftest import Editor
from .test_withdraw_lines import _start


def _send(editor: Editor, uri: str, changes, new_source: str) -> None:
    doc = editor.docs[uri]
    from eager_lsp.lsp.text import Text

    doc.text = Text(new_source, editor.encoding)
    doc.version += 1
    editor.client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
            content_changes=changes,
        )
    )


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
        lsp.TextDocumentContentChangePartial(range=lsp.Range(start=_pos(n), end=_pos(n)), text=new),
        lsp.TextDocumentContentChangePartial(range=lsp.Range(start=_pos(0), end=_pos(n)), text=""),
    ]
    _send(editor, uri, changes, new)
    await editor.hint_labels(uri)
    go.touch()
    summary = await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    assert not said, said
    assert not summary["stoppedEarly"], summary
    assert side.exists()


async def test_two_substitutions_on_other_lines_take_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    """`:1s/$/ #/ | 5s/$/ #/` (0-based 0 and 4: a blank line)."""
    uri, go, side = await _start(editor, tmp_path)
    old = editor.docs[uri].source
    lines = old.split("\n")
    changes = [
        lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=_pos(0, len(lines[0])), end=_pos(0, len(lines[0]))), text=" #"
        ),
        lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=_pos(4, 0), end=_pos(4, 0)), text=" #"
        ),
    ]
    lines[0] += " #"
    lines[4] += " #"
    _send(editor, uri, changes, "\n".join(lines))
    await editor.hint_labels(uri)
    go.touch()
    await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    assert not said, said
    assert side.exists()


async def test_a_whole_text_change_adding_a_line_on_top_takes_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _start(editor, tmp_path)
    new = "# top\n" + editor.docs[uri].source
    _send(editor, uri, [lsp.TextDocumentContentChangeWholeDocument(text=new)], new)
    await editor.hint_labels(uri)
    go.touch()
    await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    assert not said, said
    assert side.exists()
