"""`eager.resultDetail` on a statement still running: `running: true`, its lines, for how long
it has run and the end of what it printed so far (lsp/hover.py `running_detail`), never an
earlier result; once its result is in, the result. And the server's hover (what Neovim's `K`
shows) keeps the end of a long output or traceback, where the last progress and the error are.
Through the real server and worker; the statements print until the test creates a file, so no
request races the end of the run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from eager_lsp import limits
from eager_lsp.lsp import hover, methods, running

from .conftest import WAIT_S, Editor
from .test_hover import _hover
from .test_hover_running import LOOP, _live

NAP = """\
import os, time
x = 1
while not os.path.exists({stop!r}):
    time.sleep(0.05)
y = 2
"""


async def test_detail_of_a_running_statement_says_it_runs_with_its_output_so_far(
    editor: Editor, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    uri = editor.open("loop.py", LOOP.format(stop=str(stop)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: "tick 3\n" in _live(editor, uri), "live output")

    detail = await editor.command(methods.RESULT_DETAIL, uri=uri, line=3)
    assert detail is not None and detail["running"] is True, detail
    assert (detail["startLine"], detail["endLine"]) == (1, 5), detail
    assert detail["stdout"].startswith("tick 0\ntick 1\ntick 2\ntick 3\n"), detail
    assert detail["stdoutBefore"] == 0 and detail["stderr"] == "" and detail["stderrBefore"] == 0
    assert detail["elapsedS"] > 0 and detail["version"] is not None, detail
    assert "ok" not in detail and "chunk" not in detail, detail  # not a result
    # The statement above it has its result, as before; below it nothing ran yet.
    above = await editor.command(methods.RESULT_DETAIL, uri=uri, line=0)
    assert above is not None and above["ok"] is True and "running" not in above, above
    assert await editor.command(methods.RESULT_DETAIL, uri=uri, line=6) is None
    # Refused as before without a line number.
    refused = await editor.command(methods.RESULT_DETAIL, uri=uri, line=True)
    assert refused["reason"] == "invalid", refused

    await editor.wait_for(lambda: "tick 8\n" in _live(editor, uri), "more live output")
    later = await editor.command(methods.RESULT_DETAIL, uri=uri, line=1)
    assert later["running"] is True and "tick 8\n" in later["stdout"], later
    assert later["elapsedS"] > detail["elapsedS"], (later, detail)

    stop.touch()
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    done = await editor.command(methods.RESULT_DETAIL, uri=uri, line=3)
    assert "running" not in done and done["ok"] is True, done
    assert done["stdout"].startswith("tick 0\n") and "tick 8\n" in done["stdout"], done


async def test_a_running_statement_that_printed_nothing_is_described_running(
    editor: Editor, tmp_path: Path
) -> None:
    """A statement that waits and prints nothing: running, with empty streams (it used to be
    `null`, which both editors read as "nothing ran" there)."""
    stop = tmp_path / "stop"
    uri = editor.open("nap.py", NAP.format(stop=str(stop)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    detail = None
    while detail is None and loop.time() < deadline:  # until the run reached it
        answer = await editor.command(methods.RESULT_DETAIL, uri=uri, line=3)
        if answer is not None and answer.get("running"):
            detail = answer
        else:
            await asyncio.sleep(0.05)
    assert detail is not None, "never seen running"
    assert (detail["startLine"], detail["endLine"]) == (2, 3), detail
    assert detail["stdout"] == "" and detail["stderr"] == "", detail
    above = await editor.command(methods.RESULT_DETAIL, uri=uri, line=1)
    assert above["ok"] is True and "running" not in above, above
    stop.touch()
    await editor.summary(uri)
    done = await editor.command(methods.RESULT_DETAIL, uri=uri, line=3)
    assert done["ok"] is True and "running" not in done, done


async def test_the_hover_keeps_the_end_of_a_long_output_and_traceback(
    editor: Editor, tmp_path: Path
) -> None:
    """2000 lines of output (18,000 characters) and a traceback 61 frames deep: the hover has
    their last lines (the final progress, the exception), and says how much is left out above."""
    script = (
        "for i in range(2000):\n"
        '    print(f"row {i:04d}")\n'
        "def ping(n):\n"
        "    return pong(n - 1) if n else 1 / 0\n"
        "def pong(n):\n"
        "    return ping(n - 1)\n"
        "ping(60)\n"
    )
    uri = editor.open("long.py", script, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    out = await _hover(editor, uri, 0)
    assert out is not None
    block = out.split("**stdout**\n\n```text\n", 1)[1].split("\n```", 1)[0]
    assert block.startswith("… (") and "characters above not shown)\n" in block, block[:200]
    assert block.endswith("\nrow 1999"), block[-200:]
    assert "row 0000" not in block, block[:200]
    err = await _hover(editor, uri, 6)
    assert err is not None
    tb = err.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert tb.startswith("… (") and "characters above not shown)\n" in tb, tb[:200]
    assert tb.endswith("ZeroDivisionError: division by zero"), tb[-200:]
    assert "Traceback (most recent call last)" not in tb, tb[:200]


# -- without a server ---------------------------------------------------------------------------


class _Doc:
    uri = "file:///t/a.py"
    version = 7

    def __init__(self) -> None:
        self.running = running.RunningStatements()


def test_a_running_detail_is_bounded_and_counts_what_came_before() -> None:
    """Each stream keeps its last TAIL_LIMIT characters: emoji, escaped to 12 bytes of JSON
    each, still fit the answer's cap."""
    doc = _Doc()
    doc.running.started(1, 0, 0.0, lambda: (4, 6))
    doc.running.output(1, 0, "\U0001f600" * (running.TAIL_LIMIT + 10), "e" * 5)
    doc.running.output(1, 0, "", "\U0001f600" * (running.TAIL_LIMIT * 2))
    detail = hover.running_detail(cast(Any, doc), 5)
    assert detail is not None
    assert (detail.startLine, detail.endLine, detail.running) == (4, 6, True)
    assert detail.stdout == "\U0001f600" * running.TAIL_LIMIT and detail.stdoutBefore == 10
    assert len(detail.stderr) == running.TAIL_LIMIT
    assert detail.stderrBefore == running.TAIL_LIMIT + 5
    assert limits.json_size({"result": detail.__dict__}) <= limits.DETAIL_CAP
    assert hover.running_detail(cast(Any, doc), 3) is None  # not its lines
    assert hover.running_detail(cast(Any, doc), True) is None  # not a line number


async def test_results_are_sent_again_where_the_server_holds_them_now(
    editor: Editor, tmp_path: Path
) -> None:
    """`eager.results`: every result the server holds for the document comes again as
    `eager/chunkResult`, at its current lines (a line inserted above moved them), before the
    answer, which counts them; a statement whose lines were edited has none to send. (Neovim
    asks when lines were replaced by identical text, which its marks do not survive.)"""
    uri = editor.open("again.py", "a = 1\nb = a + 1\nprint(b)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert len(editor.notes_for(methods.CHUNK_RESULT, uri)) == 3
    editor.type(uri, 0, 0, "# above\n")
    editor.replace(uri, (2, 4), (2, 5), "2")  # b = a + 2: edited, its result dropped
    seen = len(editor.notes_for(methods.CHUNK_RESULT, uri))

    answer = await editor.command(methods.RESULTS, uri=uri)
    again = editor.notes_for(methods.CHUNK_RESULT, uri)[seen:]
    assert answer == {"sent": 2}, answer
    lines = [(r["chunk"]["startLine"], r["chunk"]["endLine"]) for r in again]
    assert lines == [(1, 1), (3, 3)], again
    assert again[1]["stdout"] == "2\n" and again[0]["values"][0]["name"] == "a", again
