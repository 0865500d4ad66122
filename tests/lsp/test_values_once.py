"""Each value is rendered once per editor: a client that draws values itself (the VS Code
extension sends `inline.decorations: true`) gets no inlay hints, inline values or hover from the
server; every other client (Neovim) gets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods

from .conftest import Editor

SCRIPT = "x = 6 * 7\nprint('hello', x)\n"


async def _run(editor: Editor, tmp_path: Path) -> str:
    uri = editor.open("once.py", SCRIPT, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.wait_for(
        lambda: len(editor.notes_for(methods.CHUNK_RESULT, uri)) == 2, "two chunk results"
    )
    return uri


async def _inline_values(editor: Editor, uri: str) -> list[lsp.InlineValue]:
    result = await editor.client.text_document_inline_value_async(
        lsp.InlineValueParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(2, 0)),
            context=lsp.InlineValueContext(
                frame_id=0,
                stopped_location=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)),
            ),
        )
    )
    return list(result or [])


@pytest.mark.settings({"inline": {"decorations": True}})
async def test_a_client_that_draws_values_gets_no_hints(editor: Editor, tmp_path: Path) -> None:
    uri = await _run(editor, tmp_path)
    assert await editor.hints(uri) == []
    assert await _inline_values(editor, uri) == []
    # The results still reach the client, which draws them.
    assert {r["chunk"]["startLine"] for r in editor.notes_for(methods.CHUNK_RESULT, uri)} == {0, 1}

    # The user turns the extension's decorations off: the server's hints take over.
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"eager": {"inline": {"decorations": False}}})
    )

    async def labels() -> dict[int, str]:
        return await editor.hint_labels(uri)

    got: dict[int, str] = {}

    async def poll() -> bool:
        got.update(await labels())
        return bool(got)

    import asyncio

    for _ in range(200):
        if await poll():
            break
        await asyncio.sleep(0.05)
    assert got == {0: "x = 42", 1: "» hello 42"}


async def test_other_clients_get_hints(editor: Editor, tmp_path: Path) -> None:
    uri = await _run(editor, tmp_path)
    assert await editor.hint_labels(uri) == {0: "x = 42", 1: "» hello 42"}
    values = await _inline_values(editor, uri)
    assert [v.text for v in values if isinstance(v, lsp.InlineValueText)] == [
        "x = 42",
        "» hello 42",
    ]
