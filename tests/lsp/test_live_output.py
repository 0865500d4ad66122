"""`eager/output`: a statement that prints for a while shows its output while it runs, through
the real server and worker, for a document run and for generated code; its chunkResult comes
after and holds all of it (docs/protocol.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

LOOP = """\
import time
for i in range(4):
    print("tick", i)
    time.sleep(0.6)
done = True
"""


def _for_chunk(editor: Editor, uri: str, start_line: int) -> tuple[list[dict[str, Any]], int]:
    """The statement's eager/output notes, and where its chunkResult is among all notes."""
    seq = [(m, n) for m, n in editor.sequence if n.get("uri") == uri]
    outputs = [n for m, n in seq if m == methods.OUTPUT and n["chunk"]["startLine"] == start_line]
    result_at = next(
        i
        for i, (m, n) in enumerate(seq)
        if m == methods.CHUNK_RESULT and n["chunk"]["startLine"] == start_line
    )
    return outputs, result_at


def _check_live(editor: Editor, uri: str, start_line: int, end_line: int) -> None:
    outputs, result_at = _for_chunk(editor, uri, start_line)
    assert outputs, editor.sequence
    seq = [(m, n) for m, n in editor.sequence if n.get("uri") == uri]
    last_output = max(i for i, (m, n) in enumerate(seq) if m == methods.OUTPUT)
    assert last_output < result_at  # the result comes last
    result = seq[result_at][1]
    assert result["stdout"] == "tick 0\ntick 1\ntick 2\ntick 3\n"
    live = "".join(o["stdout"] for o in outputs)  # the last tick may come only with the result
    assert live.startswith("tick 0\n") and result["stdout"].startswith(live)
    for o in outputs:
        assert o["chunk"]["index"] == result["chunk"]["index"]
        assert (o["chunk"]["startLine"], o["chunk"]["endLine"]) == (start_line, end_line)
        assert o["stderr"] == ""


async def test_a_document_runs_output_arrives_while_its_statement_runs(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("loop.py", LOOP, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    # the first tick is there while the loop still runs: no result for it yet
    await editor.wait_for(lambda: editor.notes_for(methods.OUTPUT, uri), "live output")
    assert not any(
        r["chunk"]["startLine"] == 1 for r in editor.notes_for(methods.CHUNK_RESULT, uri)
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None
    _check_live(editor, uri, 1, 3)


async def test_generated_code_shows_its_output_while_it_runs(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=LOOP, chunk_chars=4, delay=0.005)
    uri = editor.open("gen.py", "# ticks\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="print ticks")
    summary = await editor.summary(uri)
    assert summary["error"] is None
    assert editor.docs[uri].source == "# ticks\n" + LOOP
    _check_live(editor, uri, 2, 4)  # document lines: the prompt's comment is line 0


async def test_quick_statements_send_no_output_notes(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("quick.py", "for i in range(3):\n    print(i)\nx = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert editor.notes_for(methods.OUTPUT, uri) == []
    [first] = [
        r for r in editor.notes_for(methods.CHUNK_RESULT, uri) if r["chunk"]["startLine"] == 0
    ]
    assert first["stdout"] == "0\n1\n2\n"


def test_a_statement_whose_output_was_held_back_sends_no_later_piece() -> None:
    """A piece dropped (its generated text not written yet, or edited) drops the rest of that
    statement's pieces: a client would show output without its start, then the result whole
    after it. Another statement's pieces still go (RunBinding alone: no server needed)."""
    from typing import cast

    from eager_lsp.core.types import Chunk, ChunkOutput
    from eager_lsp.lsp.runs import RunBinding

    held = [True]
    sent: list[tuple[int, int, str]] = []
    binding = RunBinding(
        cast(Any, None),  # the document is only read for results, not for output
        lambda run_line: run_line - 1,
        on_entry=lambda e: None,
        hold=lambda last: held[0],
        on_output=lambda first, last, out: sent.append((first, last, out.stdout)),
    )

    def chunk(index: int, line: int) -> Chunk:
        return Chunk(index, line, line + 1, "x\n", 0, 0.0, "compound")

    first, second = chunk(0, 1), chunk(1, 4)
    binding(ChunkOutput(0.0, first, "a\n", ""))  # held: not written yet
    held[0] = False
    binding(ChunkOutput(0.3, first, "b\n", ""))  # written now, but its start was not sent
    binding(ChunkOutput(0.6, second, "c\n", ""))
    assert sent == [(3, 4, "c\n")]


async def test_a_statement_whose_interpreter_dies_keeps_what_it_printed(
    editor: Editor, tmp_path: Path
) -> None:
    """The interpreter's copy of the output dies with it; what arrived live is put into the
    statement's result, so its error comes with the lines printed before it (the Neovim
    buffer showed only the error, the lines it had shown gone: a user's tour)."""
    crash = (
        "import os, time\n"
        "for i in range(3):\n"
        "    print('pre-crash', i, flush=True)\n"
        "    time.sleep(0.6)\n"
        "os._exit(3)\n"
    )
    uri = editor.open(
        "crash.py",
        "import os, time\nif True:\n"
        + "".join("    " + line + "\n" for line in crash.splitlines()[1:]),
        tmp_path,
    )
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"] and "exited with code 3" in summary["error"]
    [lost] = [
        r for r in editor.notes_for(methods.CHUNK_RESULT, uri) if r["chunk"]["startLine"] == 1
    ]
    assert lost["error"]["type"] == "InterpreterLost"
    live = "".join(o["stdout"] for o in editor.notes_for(methods.OUTPUT, uri))
    assert live.startswith("pre-crash 0\n")
    assert lost["stdout"] == live  # what was shown stays, and the prefix rule holds
