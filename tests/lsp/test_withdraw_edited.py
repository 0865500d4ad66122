"""A statement that waits to run, whose text the user edits or deletes before it begins,
never runs, nor anything after it (lsp/execution.py `withdraw_edited`, core/run.py
`Run.withdraw`, the worker's "withdraw"): code runs only as the user asked for it. A user
tour found the file write below a running loop written after the user had deleted it, in a
document run and after a generation's stream had ended. An edit elsewhere (above it) takes
nothing back. Through the real server, worker and fake OpenAI server; the loop waits for a
file the test creates, so nothing races the edit."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

# Line 4 writes the file `side`; the loop (lines 1-3) waits until the file `go` exists.
SCRIPT = """\
import os, time
for i in range(1):
    while not os.path.exists({go!r}):
        time.sleep(0.02)
open({side!r}, "w").write("ran")
print("after")
"""


def _started(editor: Editor, uri: str) -> bool:
    return any(s.get("chunksRunning") for s in editor.notes_for(methods.STATUS, uri))


async def _taken(editor: Editor, uri: str) -> None:
    """The server has taken the edits sent so far (it answers requests after the
    notifications before them): only then may the loop end."""
    await editor.hint_labels(uri)


async def _run_until_the_loop_waits(editor: Editor, tmp_path: Path) -> tuple[str, Path, Path]:
    go, side = tmp_path / "go", tmp_path / "side"
    uri = editor.open("withdraw.py", SCRIPT.format(go=str(go), side=str(side)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: _started(editor, uri), "the loop to run")
    return uri, go, side


async def test_a_statement_deleted_while_it_waits_behind_a_running_loop_never_runs(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _run_until_the_loop_waits(editor, tmp_path)
    editor.replace(uri, (4, 0), (5, 0), "")  # the user deletes the file write
    await _taken(editor, uri)
    go.touch()
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] and summary["error"] is None, summary
    assert not side.exists(), "the deleted statement ran"
    said = [m for m in editor.messages() if "before it ran" in m]
    assert said == [
        "eager: line 5 was edited or deleted before it ran: it and what follows did not run"
    ], editor.messages()
    # Nor did what follows it (it may use what the deleted one did).
    printed = [r.get("stdout") for r in editor.notes_for(methods.CHUNK_RESULT, uri)]
    assert "after\n" not in printed, printed


async def test_a_statement_edited_while_it_waits_runs_neither_its_old_text_nor_its_new(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _run_until_the_loop_waits(editor, tmp_path)
    editor.type(uri, 4, 0, "# ")  # commented out
    await _taken(editor, uri)
    go.touch()
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"], summary
    assert not side.exists()


async def test_an_edit_above_a_waiting_statement_takes_nothing_back(
    editor: Editor, tmp_path: Path
) -> None:
    uri, go, side = await _run_until_the_loop_waits(editor, tmp_path)
    editor.type(uri, 0, 0, "# a note\n")  # above everything: the write moves down a line
    await _taken(editor, uri)
    go.touch()
    summary = await editor.summary(uri)
    assert summary["error"] is None and not summary["stoppedEarly"], summary
    assert side.read_text() == "ran"
    labels = await editor.wait_hints(uri, lambda h: h.get(6) == "» after")
    assert labels.get(6) == "» after", labels


async def test_generated_code_undone_after_the_stream_ended_does_not_run(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model's stream is over (everything is written) while its loop still waits; the
    user takes the generated text back: the write behind the loop does not run. (On this
    client's path, the server's applyEdit, the edit also stops the generation as a conflict,
    which skipped it before `withdraw` too; the editors' own path, eager/streamEdit, where
    the undo is no conflict, is tests/e2e/test_neovim.py's.)"""
    go, side = tmp_path / "go", tmp_path / "side"
    text = SCRIPT.format(go=str(go), side=str(side))
    fake_openai.enqueue(text=text, chunk_chars=40)
    uri = editor.open("gen.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="write it")
    await editor.wait_for(lambda: editor.docs[uri].source == text, "the whole text written")
    await editor.wait_for(lambda: _started(editor, uri), "the loop to run")
    editor.replace(uri, (0, 0), (text.count("\n"), 0), "")  # the user's undo of all of it
    await _taken(editor, uri)
    go.touch()
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"], summary
    assert not side.exists(), "the undone statement ran"
