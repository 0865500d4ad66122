"""Bad input never takes the server down: each case gives a clear message, keeps the text
already inserted, and leaves the interpreter usable."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor


async def _still_usable(editor: Editor, uri: str, count: int) -> None:
    """The interpreter still runs code and the server still answers."""
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri, count)
    assert summary["error"] is None, summary


async def test_unknown_closed_and_non_python_documents(editor: Editor, tmp_path: Path) -> None:
    result = await editor.command(methods.RUN_DOCUMENT, uri="file:///nowhere/ghost.py")
    assert result["started"] is False and result["reason"] == "not_open"

    uri = editor.open("closed.py", "x = 1\n", tmp_path)
    editor.close(uri)
    result = await editor.command(methods.GENERATE, uri=uri, prompt="anything")
    assert result["started"] is False and result["reason"] == "not_open"

    notes = editor.open("notes.txt", "just prose\n", tmp_path, language_id="plaintext")
    result = await editor.command(methods.GENERATE, uri=notes, prompt="anything")
    assert result["started"] is False and result["reason"] == "not_python"

    result = await editor.command(methods.INTERRUPT)
    assert result["interrupted"] is False and "uri" in result["error"]

    py = editor.open("ok.py", "", tmp_path)
    result = await editor.command(methods.GENERATE, uri=py, prompt="   ")
    assert result["started"] is False and "prompt" in result["error"]

    messages = editor.messages()
    assert any("is not open" in m for m in messages)
    assert any("notes.txt is not a Python document" in m for m in messages)
    assert await editor.hints(notes) == []


FAILURES = [
    ({"status": 401, "error_message": "bad key"}, "rejected the API key"),
    ({"status": 429, "error_message": "slow down"}, "Rate limited"),
    ({"status": 500, "error_message": "boom"}, "the model answered HTTP 500: boom"),
    ({"pieces": ["x = 1\n", "y = ", "2\n", "z = 3\n"], "malformed_after": 3}, "malformed"),
    # (other code than the case before, which is in the file by then: written again, it would
    # be an echo of the code above, and not written)
    ({"pieces": ["w = 1\n", "v = ", "2\n", "z = 3\n"], "drop_after": 3}, "dropped"),
    ({"pieces": []}, "no code"),
]


async def test_model_failures_are_reported_and_leave_things_usable(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = editor.open("model.py", "", tmp_path)
    for n, (reply, expected) in enumerate(FAILURES, start=1):
        fake_openai.enqueue(reply)
        before = editor.docs[uri].source
        assert (await editor.command(methods.GENERATE, uri=uri, prompt="go"))["started"]
        summary = await editor.summary(uri, 2 * n - 1)
        assert summary["error"] and expected in summary["error"], (reply, summary)
        assert any(expected in m for m in editor.messages()), (reply, editor.messages())
        text = editor.docs[uri].source
        assert text.startswith(before)  # nothing the document had was lost
        if "malformed_after" in reply or "drop_after" in reply:
            # Text that arrived before the break stays, and its complete statements ran.
            pieces = reply["pieces"]
            assert text == before + "".join(pieces[:3]), text
            line = before.count("\n")
            assert (await editor.hint_labels(uri))[line] == pieces[0].strip()
        await _still_usable(editor, uri, 2 * n)


async def test_model_endpoint_down(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.stop()  # the configured base URL now refuses connections
    uri = editor.open("down.py", "a = 1\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="go")
    summary = await editor.summary(uri)
    assert "Cannot reach the model" in (summary["error"] or "")
    assert any("Cannot reach the model" in m for m in editor.messages())
    assert editor.docs[uri].source == "a = 1\n"
    await _still_usable(editor, uri, 2)
    assert (await editor.hint_labels(uri)) == {0: "a = 1"}


async def test_a_crashing_interpreter_is_replaced(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("crash.py", "a = 1\nimport os\nos._exit(3)\nb = 2\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"] and summary["error"].startswith("InterpreterLost")
    assert any("the interpreter for crash.py stopped" in m for m in editor.messages())
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 2
    # The next run gets a fresh interpreter.
    editor.replace(uri, (1, 0), (3, 0), "")
    await _still_usable(editor, uri, 2)
    assert (await editor.hint_labels(uri)) == {0: "a = 1", 1: "b = 2"}


async def test_fix_with_ai_takes_only_a_line_number(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`line` is a 0-based integer, as for eager.resultDetail: `true` is not line 1 (the old
    code took it as 1 and started a fix), and a string, a float or a negative number is refused
    before anything is looked up."""
    uri = editor.open("lines.py", "x = 4\ny = x / 0\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    for line in (True, "1", 1.0, None, -1):
        result = await editor.command(methods.FIX_WITH_AI, uri=uri, line=line)
        assert result["started"] is False and result["reason"] == "invalid", (line, result)
    result = await editor.command(methods.FIX_WITH_AI, uri=uri, line=10**30)
    assert result["started"] is False and result["reason"] == "no_error"
    assert fake_openai.chat_requests == []
    assert editor.docs[uri].source == "x = 4\ny = x / 0\n"


async def test_generate_takes_a_position_of_whole_numbers_only(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A `1.5`, a `"1"` or a `true` for a line is refused, not rounded or taken for a line
    number (the old code floored 1.5 to line 1 and generated there); nothing is asked of the
    model and the text is untouched."""
    uri = editor.open("where.py", "a = 1\nb = 2\n", tmp_path)
    for bad in ({"line": 1.5, "character": 0}, {"line": "1", "character": 0},
                {"line": True, "character": 0}, {"line": 1}):  # fmt: skip
        result = await editor.command(methods.GENERATE, uri=uri, prompt="x", position=bad)
        assert result["started"] is False and result["reason"] == "invalid", (bad, result)
        assert "whole numbers" in result["error"], result
        ranged = await editor.command(
            methods.GENERATE,
            uri=uri,
            prompt="x",
            range={"start": {"line": 0, "character": 0}, "end": bad},
        )
        assert ranged["started"] is False and ranged["reason"] == "invalid", (bad, ranged)
    assert fake_openai.chat_requests == []
    assert editor.docs[uri].source == "a = 1\nb = 2\n"
    # A whole number past the end (even past what an LSP position can hold) is the end.
    fake_openai.enqueue(text="c = 3\n", chunk_chars=3)
    far = {"line": 2**40, "character": 10**20}
    result = await editor.command(methods.GENERATE, uri=uri, prompt="x", position=far)
    assert result["started"] is True, result
    assert (await editor.summary(uri))["error"] is None
    assert editor.docs[uri].source == "a = 1\nb = 2\nc = 3\n"
