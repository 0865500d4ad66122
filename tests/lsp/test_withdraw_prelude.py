"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) A generation asked for below the user's code: the code above runs first (the prelude,
lsp/execution.py run_prelude). The loop above waits; the file write below it waits behind
it; the user deletes the write before it runs."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

ABOVE = """\
import os, time
for i in range(1):
    open({mark!r}, "w").close()
    while not os.path.exists({go!r}):
        time.sleep(0.02)
open({side!r}, "w").write("ran")

"""


async def test_a_statement_above_a_generation_deleted_while_it_waits_never_runs(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    go, side, mark = tmp_path / "go", tmp_path / "side", tmp_path / "mark"
    fake_openai.enqueue(text="x = 1\n", chunk_chars=40)
    uri = editor.open("pre.py", ABOVE.format(go=str(go), side=str(side), mark=str(mark)), tmp_path)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="more", position={"line": 7, "character": 0}
    )
    await editor.wait_for(mark.exists, "the loop above to run")
    editor.replace(uri, (5, 0), (6, 0), "")  # the user deletes the write
    await editor.hint_labels(uri)
    go.touch()
    summary = await editor.summary(uri)
    print("SUMMARY", summary)
    print("MESSAGES", editor.messages())
    assert not side.exists(), "the deleted statement ran"
