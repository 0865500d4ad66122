"""Several changes in one didChange are taken as the least edits, line by line, that make the
same text (lsp/least_edits.py): Neovim sends a filter (`:%!fmt`) as the new text inserted
after the old and the old deleted, and `:1s/$/ #/ | 6s/$/ #/` as two changes. Taken change by
change, or as one edit from the first difference to the last, every statement between looked
edited and lost its result. (A whole-text change, as a full-sync client sends, kept them before too: its
test guards that.) Through the real server and worker."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from eager_lsp.lsp import methods

from .conftest import Editor

TEXT = "x = 1\ny = x + 1\ndef f(a):\n    return a * 2\nz = f(y)\nprint(z)\n"


async def _ran(editor: Editor, tmp_path: Path) -> str:
    uri = editor.open("one.py", TEXT, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert len(await editor.hint_labels(uri)) == 5
    return uri


def _range(line: int, end_line: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line, 0), end=lsp.Position(end_line, 0))


async def test_a_filter_that_changed_nothing_keeps_every_result(
    editor: Editor, tmp_path: Path
) -> None:
    uri = await _ran(editor, tmp_path)
    doc = editor.docs[uri]
    lines = TEXT.count("\n")
    # as Neovim reports `:%!cat`: the new lines put after the old, then the old ones deleted
    editor._change(doc, [(_range(lines, lines), TEXT), (_range(0, lines), "")])
    assert doc.source == TEXT
    answer = await editor.command(methods.RESULTS, uri=uri)
    assert answer == {"sent": 5}, answer
    assert editor.notes_for(methods.STALE, uri) == []
    labels = await editor.hint_labels(uri)
    assert labels[0] == "x = 1" and labels[5] == "» 4", labels


async def test_a_filter_that_changed_one_line_keeps_the_others(
    editor: Editor, tmp_path: Path
) -> None:
    uri = await _ran(editor, tmp_path)
    doc = editor.docs[uri]
    lines = TEXT.count("\n")
    changed = TEXT.replace("y = x + 1", "y = x + 2")
    editor._change(doc, [(_range(lines, lines), changed), (_range(0, lines), "")])
    stale = await editor.wait_for(lambda: editor.notes_for(methods.STALE, uri), "eager/stale")
    assert [(s["fromLine"], s.get("toLine")) for s in stale] == [(1, 1)], stale
    assert (await editor.command(methods.RESULTS, uri=uri)) == {"sent": 4}


async def test_a_whole_text_change_keeps_what_it_did_not_change(
    editor: Editor, tmp_path: Path
) -> None:
    uri = await _ran(editor, tmp_path)
    doc = editor.docs[uri]
    editor._change(doc, [(_range(0, 0), "# top\n")], full=True)
    assert doc.source == "# top\n" + TEXT
    assert (await editor.command(methods.RESULTS, uri=uri)) == {"sent": 5}
    labels = await editor.hint_labels(uri)
    assert labels[1] == "x = 1" and labels[6] == "» 4", labels


async def test_two_changes_far_apart_keep_the_results_between_them(
    editor: Editor, tmp_path: Path
) -> None:
    """As Neovim sends `:1s/$/  # first/ | 5s/$/  # last/`: the results of the lines between
    (and of the untouched statement `def f`) stay; the two edited lines lose theirs."""
    uri = await _ran(editor, tmp_path)
    doc = editor.docs[uri]
    first, last = len("x = 1"), len("z = f(y)")
    editor._change(
        doc,
        [
            (lsp.Range(start=lsp.Position(0, first), end=lsp.Position(0, first)), "  # first"),
            (lsp.Range(start=lsp.Position(4, last), end=lsp.Position(4, last)), "  # last"),
        ],
    )
    assert doc.source.splitlines()[4] == "z = f(y)  # last"
    stale = await editor.wait_for(lambda: editor.notes_for(methods.STALE, uri), "eager/stale")
    await editor.wait_for(lambda: len(editor.notes_for(methods.STALE, uri)) >= 2, "both stale")
    assert sorted(
        (s["fromLine"], s.get("toLine")) for s in editor.notes_for(methods.STALE, uri)
    ) == [
        (0, 0),
        (4, 4),
    ], stale
    assert (await editor.command(methods.RESULTS, uri=uri)) == {"sent": 3}
    labels = await editor.hint_labels(uri)
    assert labels[1] == "y = 2" and labels[5] == "» 4", labels
