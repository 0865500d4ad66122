"""An attempt that leaves nothing where it replaced text puts the document back as it was
(lsp/put_back.py): a failed, empty, stopped or unchanged repair leaves the failing statement,
its error and its Fix with AI; a failed generation leaves no blank line behind, and a
selection it was to replace comes back. Through the real server and worker, the model a real
HTTP server on 127.0.0.1 speaking the OpenAI streaming format. Before, a repair whose model
failed deleted the failing statement (its error and the fix with it) as soon as it started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor
from .test_repair import _code_actions

USER = "x = 4\ny = x / 0\nz = 1\n"


async def _failing(editor: Editor, tmp_path: Path, text: str = USER) -> tuple[str, lsp.Diagnostic]:
    uri = editor.open("fix.py", text, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    return uri, diags.diagnostics[0]


async def _still_fixable(editor: Editor, uri: str, text: str, line: int) -> None:
    """The text is as it was, its error on `line` again, and Fix with AI offered there."""
    assert editor.docs[uri].source == text, editor.docs[uri].source
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    diag = diags.diagnostics[0]
    assert diag.range.start.line == line and "ZeroDivisionError" in diag.message, diag
    actions = await _code_actions(editor, uri, diag)
    assert [a["title"] for a in actions] == [methods.FIX_TITLE], actions
    detail = await editor.command(methods.RESULT_DETAIL, uri=uri, line=line)
    assert detail["error"]["type"] == "ZeroDivisionError", detail


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 500, "error_message": "boom"},
        {"pieces": []},
        {"pieces": ["y = x ", "/ 2"], "drop_after": 1, "delay": 0.05},
    ],
    ids=["http-500", "empty", "broken-mid-line"],
)
async def test_a_repair_that_writes_nothing_leaves_the_failing_statement(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path, reply: dict[str, Any]
) -> None:
    fake_openai.enqueue(**reply)
    uri, diag = await _failing(editor, tmp_path)
    assert diag.range.start.line == 1
    assert await editor.command(methods.FIX_WITH_AI, uri=uri, line=1) == {"started": True}
    summary = await editor.summary(uri, 2)
    assert summary["error"], summary  # the model's failure is said, never "done"
    await _still_fixable(editor, uri, USER, 1)


async def test_a_repair_stopped_before_its_first_token_leaves_the_failing_statement(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="y = x / 2\n", first_delay=10.0)
    uri, _ = await _failing(editor, tmp_path)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.wait_for(lambda: fake_openai.chat_requests, "the repair's request")
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri, 2)
    assert summary["stoppedEarly"] is True, summary
    await _still_fixable(editor, uri, USER, 1)


async def test_an_unchanged_repair_keeps_the_statement_its_error_and_no_blank_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model answers the failing statement as it was, twice (the loop asks once more): it
    is not run again, and it stays with its error (the text used to come back without it, with
    a blank line below)."""
    fake_openai.enqueue(text="y = x / 0\nz = 1\n", chunk_chars=3)
    fake_openai.enqueue(text="y = x / 0\n", chunk_chars=3)
    uri, _ = await _failing(editor, tmp_path)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    await _still_fixable(editor, uri, USER, 1)
    assert any("unchanged" in m for m in editor.messages()), editor.messages()


async def test_the_failing_last_line_without_a_line_break_comes_back_as_it_was(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(status=500, error_message="boom")
    text = "x = 4\ny = x / 0"
    uri, _ = await _failing(editor, tmp_path, text)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    await _still_fixable(editor, uri, text, 1)


@pytest.mark.parametrize(
    "reply",
    [{"status": 500, "error_message": "boom"}, {"pieces": []}],
    ids=["http-500", "empty"],
)
async def test_a_generation_that_writes_nothing_leaves_no_blank_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path, reply: dict[str, Any]
) -> None:
    """At the end of a line with text the generation opens a line of its own; with nothing
    written it goes again (a blank line was left, one more at every try)."""
    uri = editor.open("gen.py", "x = 1\n# end\n", tmp_path)
    for n in (1, 2):
        fake_openai.enqueue(**reply)
        position = {"line": 0, "character": 5}
        await editor.command(methods.GENERATE, uri=uri, prompt="more", position=position)
        await editor.summary(uri, n)
        assert editor.docs[uri].source == "x = 1\n# end\n", (n, editor.docs[uri].source)


async def test_a_selection_a_failed_generation_was_to_replace_comes_back(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(status=500, error_message="boom")
    text = "a = 1\nb = 2\nc = 3\n"
    uri = editor.open("sel.py", text, tmp_path)
    selection = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
    await editor.command(methods.GENERATE, uri=uri, prompt="better b", range=selection)
    await editor.summary(uri)
    assert editor.docs[uri].source == text, editor.docs[uri].source


async def _fixed(editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path) -> str:
    """USER's failing `y = x / 0` fixed by Fix with AI to `y = x / 2`, no error left."""
    fake_openai.enqueue(text="y = x / 2\n")
    uri, _ = await _failing(editor, tmp_path)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    summary = await editor.summary(uri, 2)
    assert summary["error"] is None, summary
    fixed = editor.docs[uri].source
    assert fixed == "x = 4\ny = x / 2\nz = 1\n", fixed
    await editor.settle(uri, lambda ds: not ds)
    return uri


async def test_undoing_a_fix_brings_the_failing_statement_back_with_its_error(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The fix wrote code the user did not want; they undo it (the editor sends the text it
    replaced back): the failing statement shows its error and offers Fix with AI again, as
    it did before the fix. Before, both had gone with the text the fix replaced. A text that
    is not the whole way back shows nothing of it."""
    uri = await _fixed(editor, fake_openai, tmp_path)
    # an undo that is not the whole way back (a comment typed meanwhile stays)
    editor.type(uri, 0, 5, "  # four")
    editor.replace(uri, (1, 0), (1, 9), "y = x / 0")
    await editor.settle(uri, lambda ds: not ds)
    assert "ZeroDivisionError" not in str(
        await editor.command(methods.RESULT_DETAIL, uri=uri, line=1)
    )
    editor.replace(uri, (0, 5), (0, 13), "")  # the comment undone too: the text it began on
    await _still_fixable(editor, uri, USER, 1)


async def test_after_a_restart_undoing_a_fix_shows_no_error_from_before_it(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A restart clears every result shown: the error of the statement a fix replaced is not
    brought back by undoing the fix afterwards."""
    uri = await _fixed(editor, fake_openai, tmp_path)
    await editor.command(methods.RESTART_INTERPRETER, uri=uri)
    editor.replace(uri, (1, 0), (1, 9), "y = x / 0")  # the undo: the text the fix began on
    assert editor.docs[uri].source == USER
    await editor.settle(uri, lambda ds: not ds)
    detail = await editor.command(methods.RESULT_DETAIL, uri=uri, line=1)
    assert "ZeroDivisionError" not in str(detail), detail
