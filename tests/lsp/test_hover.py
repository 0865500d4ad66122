"""textDocument/hover on a line that ran: the full value (bounded), its stdout, its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from eager_lsp import limits
from eager_lsp.lsp import hover, methods

from .conftest import Editor

SCRIPT = """\
data = list(range(1000))
print("line one")
print("line two")
def boom():
    return 1 / 0
boom()
z = 1
"""


async def _hover(editor: Editor, uri: str, line: int) -> str | None:
    result = await editor.client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=0),
        )
    )
    if result is None:
        return None
    assert isinstance(result.contents, lsp.MarkupContent), result.contents
    assert result.contents.kind == lsp.MarkupKind.Markdown
    return result.contents.value


async def _run(editor: Editor, tmp_path: Path) -> str:
    uri = editor.open("hover.py", SCRIPT, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    return uri


async def test_hover_shows_full_value_output_and_traceback(editor: Editor, tmp_path: Path) -> None:
    uri = await _run(editor, tmp_path)
    # The inlay hint only says list[1000]; the hover has the values themselves (bounded).
    labels = await editor.hint_labels(uri)
    assert labels[0] == "data: list[1000]"
    text = await _hover(editor, uri, 0)
    assert text is not None
    assert "**data**: `list`" in text
    assert "[0, 1, 2, 3, 4, 5" in text and "… " in text  # the worker's bounded repr
    assert len(text) <= hover.HOVER_LIMIT

    out = await _hover(editor, uri, 2)
    assert out is not None and "**stdout**" in out and "line two" in out

    # The failing call: the error and the whole traceback, including the frame in boom().
    err = await _hover(editor, uri, 5)
    assert err is not None
    assert "**ZeroDivisionError**: division by zero" in err
    assert "in boom" in err and "return 1 / 0" in err

    # The statement after the error never ran.
    skipped = await _hover(editor, uri, 6)
    assert skipped is not None and "skipped" in skipped
    # A line without a result (inside the def, which has one: line 3-4) and past the end.
    assert await _hover(editor, uri, 7) is None


@pytest.mark.settings({"inline": {"decorations": True}})
async def test_no_hover_for_a_client_that_draws_its_own(editor: Editor, tmp_path: Path) -> None:
    uri = await _run(editor, tmp_path)
    assert await _hover(editor, uri, 0) is None
    assert await _hover(editor, uri, 5) is None


RICH = """\
import pandas as pd
import matplotlib.pyplot as plt
df = pd.DataFrame({"a": range(50), "b": [x * x for x in range(50)]})
plt.plot(df["a"], df["b"])
"""


async def test_hover_shows_a_data_frame_as_a_table_and_lists_figures(
    editor: Editor, tmp_path: Path
) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    uri = editor.open("rich.py", RICH, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    table = await _hover(editor, uri, 2)
    assert table is not None
    assert "**df**: `DataFrame` · DataFrame 50×2" in table
    assert "|  | a | b |\n|---|---|---|\n| 0 | 0 | 0 |" in table
    assert "first 10 of 50 rows" in table

    results = {r["chunk"]["startLine"]: r for r in editor.notes_for(methods.CHUNK_RESULT, uri)}
    [image] = results[3]["images"]
    assert image["label"] == "figure 1" and Path(image["path"]).read_bytes()[:4] == b"\x89PNG"
    assert results[2]["values"][0]["table"].startswith("|  | a | b |")
    figure = await _hover(editor, uri, 3)
    assert figure is not None and image["path"] in figure and "**figure 1**" in figure


async def test_hover_shows_output_as_a_terminal_and_stays_within_its_json_cap(
    editor: Editor, tmp_path: Path
) -> None:
    """A progress bar redrawn with "\\r" is its last state; emoji escape to 12 bytes of JSON
    each, so the hover is bounded in bytes as well as characters (protocol.md, "Limits")."""
    script = (
        'print("".join(f"\\r{p}%" for p in range(0, 101, 10)))\n'
        "import sys\n"
        'for i in range(2):\n    print("\\U0001f600" * 3000); print("\\U0001f600" * 3000, file=sys.stderr)\n'
    )
    uri = editor.open("bars.py", script, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    bar = await _hover(editor, uri, 0)
    assert bar is not None and "\n100%\n" in bar and "\r" not in bar, bar
    assert (await editor.hint_labels(uri))[0] == "» 100%"  # the bar's latest state, not 0%
    emoji = await _hover(editor, uri, 2)
    assert emoji is not None and "\U0001f600" in emoji
    assert limits.json_size(emoji) <= limits.PAYLOAD_CAP, limits.json_size(emoji)


async def test_hover_heads_a_statement_the_user_interrupted_as_interrupted(
    editor: Editor, tmp_path: Path
) -> None:
    """A statement the user interrupted is headed `interrupted` (as VS Code's own hover and
    both editors' output are): its KeyboardInterrupt is not the code's error."""
    from .test_interpreter import _running_line
    from .test_interrupt_kill import _interrupt_until_it_runs

    uri = editor.open("stop.py", "import time\ntime.sleep(30)\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, 1)
    assert (await _interrupt_until_it_runs(editor, uri))["interrupted"] is True
    await editor.summary(uri)
    text = await _hover(editor, uri, 1)
    if text is None:  # a client that draws its own hover (VS Code) gets none from the server
        return
    head = text.split("\n\n")[0]
    assert head.endswith(" · interrupted"), text
    assert "**KeyboardInterrupt**" in text
    done = await _hover(editor, uri, 0)
    assert done is not None and "interrupted" not in done
