"""eager.follow: statements typed (or written by another tool) run once complete."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from eager_lsp.lsp import methods

from .conftest import WAIT_S, Editor


async def wait_hints(
    editor: Editor, uri: str, ok: Callable[[dict[int, str]], bool], what: str
) -> dict[int, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        labels = await editor.hint_labels(uri)
        if ok(labels):
            return labels
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; hints: {labels}")
        await asyncio.sleep(0.05)


def type_chars(editor: Editor, uri: str, text: str) -> None:
    """Type at the end of the document, one character per didChange, like a person."""
    for ch in text:
        doc = editor.docs[uri]
        line = doc.text.line_count - 1
        editor.type(uri, line, len(doc.text.line(line)), ch)  # ASCII only


async def test_typed_statements_run_once_complete(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("follow.py", "a = 1\n", tmp_path)
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=True) == {"enabled": True}
    await wait_hints(editor, uri, lambda h: h.get(0) == "a = 1", "the document to run")

    type_chars(editor, uri, "b = a + 1\n")
    await wait_hints(editor, uri, lambda h: h.get(1) == "b = 2", "the typed statement")
    type_chars(editor, uri, "print(b * 10)")
    type_chars(editor, uri, "\n")
    labels = await wait_hints(editor, uri, lambda h: h.get(2) == "» 20", "print")
    assert labels == {0: "a = 1", 1: "b = 2", 2: "» 20"}


async def test_editing_a_statement_that_ran_rebuilds_from_the_top(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("rebuild.py", "a = 1\nb = a + 1\nc = []\nc.append(b)\nn = len(c)\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await wait_hints(editor, uri, lambda h: h.get(4) == "n = 1", "the first run")

    editor.replace(uri, (0, 4), (0, 5), "10")  # a = 10
    labels = await wait_hints(editor, uri, lambda h: h.get(1) == "b = 11", "the re-run")
    # Rebuilt from a fresh namespace: `c` was not appended to twice.
    assert labels[4] == "n = 1"
    stale = editor.notes_for(methods.STALE, uri)
    assert any(n["fromLine"] == 0 for n in stale)


async def test_an_error_halts_until_it_is_edited(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("halt.py", "x = 2\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await wait_hints(editor, uri, lambda h: h.get(0) == "x = 2", "the first run")

    type_chars(editor, uri, "y = x / 0\n")
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 1
    assert diags.diagnostics[0].message == "ZeroDivisionError: division by zero"
    type_chars(editor, uri, "z = 5\n")
    await asyncio.sleep(0.5)  # give it a chance to (wrongly) run
    assert 2 not in await editor.hint_labels(uri)

    editor.replace(uri, (1, 8), (1, 9), "4")  # y = x / 4
    labels = await wait_hints(editor, uri, lambda h: h.get(2) == "z = 5", "the rebuild")
    assert labels == {0: "x = 2", 1: "y = 0.5", 2: "z = 5"}
    await editor.settle(uri, lambda ds: not ds)


async def test_follow_off_stops_running_typed_code(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("off.py", "a = 1\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await wait_hints(editor, uri, lambda h: h.get(0) == "a = 1", "the first run")
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=False) == {"enabled": False}
    type_chars(editor, uri, "b = 2\n")
    await asyncio.sleep(0.5)
    assert await editor.hint_labels(uri) == {0: "a = 1"}
