"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) A generation through eager/streamEdit (the plugins' path): the stream has ended, the loop
runs, the file write waits behind it. The user edits inside the generated text, above the
write, without touching it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor
from .test_withdraw_edited import SCRIPT, _started
from .test_withdraw_lines import _len
from .test_write_path import stream_client  # noqa: F401  (the fixture)

EDITS = {
    # Enter at the end of the first line (a new blank line above the loop and the write)
    "enter_at_end_of_line_1": lambda e, u: e.type(u, 0, _len(e, u, 0), "\n"),
    # a comment line typed above the write
    "comment_line_above_write": lambda e, u: e.type(u, 4, 0, "# write it\n"),
    # nothing added: a comment appended to the first line
    "comment_on_line_1": lambda e, u: e.type(u, 0, _len(e, u, 0), "  # std"),
}


@pytest.mark.parametrize("edit", list(EDITS))
async def test_an_edit_above_the_waiting_write_inside_the_generated_text(
    stream_client: LanguageClient,  # noqa: F811  (the fixture)
    fake_openai: FakeOpenAIServer,
    tmp_path: Path,
    edit: str,
) -> None:
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    go, side = tmp_path / "go", tmp_path / "side"
    text = SCRIPT.format(go=str(go), side=str(side))
    fake_openai.enqueue(text=text, chunk_chars=40)
    uri = editor.open("gen.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="write it")
    await editor.wait_for(lambda: editor.docs[uri].source == text, "the whole text written")
    await editor.wait_for(lambda: _started(editor, uri), "the loop to run")
    EDITS[edit](editor, uri)
    await editor.hint_labels(uri)
    go.touch()
    summary = await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    print("SUMMARY", summary)
    print("MESSAGES", editor.messages())
    print("SOURCE", editor.docs[uri].source)
    assert not said, said
    assert side.exists(), "the write, untouched, did not run"
