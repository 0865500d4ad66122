"""eager.runDocument: the existing text through a fresh namespace; results in the editor."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods

from .conftest import Editor

SCRIPT = """\
import math
x = 6 * 7
print("hello", x)
data = [1, 2, 3]
math.sqrt(x)
y = x / 0
z = 1
"""


async def test_run_document_publishes_results(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("run.py", SCRIPT, tmp_path)
    result = await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert result == {"started": True}
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    assert summary["error"] == "ZeroDivisionError: division by zero"

    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert [(d.range.start.line, d.message, d.source) for d in diags.diagnostics] == [
        (5, "ZeroDivisionError: division by zero", "eager")
    ]
    assert diags.version == editor.docs[uri].version

    labels = await editor.hint_labels(uri)
    assert labels[1] == "x = 42"
    assert labels[2] == "» hello 42"
    assert labels[3] == "data: list[3]"
    assert labels[4].startswith("→ 6.48")
    assert 5 not in labels and 6 not in labels  # failed, then skipped

    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    by_line = {r["chunk"]["startLine"]: r for r in results}
    assert by_line[1]["values"][0]["name"] == "x"
    assert by_line[2]["stdout"] == "hello 42\n"
    assert by_line[5]["ok"] is False
    assert by_line[5]["error"]["type"] == "ZeroDivisionError"
    assert by_line[5]["error"]["line"] == 5
    assert by_line[6]["skipped"] is True
    assert all(r["version"] >= 1 for r in results)

    # workspace/inlayHint/refresh only goes to clients that support it (Neovim 0.11 does;
    # the VS Code capabilities pytest-lsp ships predate inlay hints).
    if editor.kind == "neovim":
        await editor.wait_for(lambda: editor.refreshes > 0, "an inlayHint refresh")
    else:
        assert editor.refreshes == 0


async def test_run_document_resets_the_namespace(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("reset.py", "a = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    editor.replace(uri, (0, 0), (1, 0), "b = a + 1\n")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri, 2)
    assert summary["error"] == "NameError: name 'a' is not defined"
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].message == "NameError: name 'a' is not defined"


async def test_a_statement_that_prints_several_lines_says_how_many(
    editor: Editor, tmp_path: Path
) -> None:
    """The hint shows the first line of the output and the number of lines (a loop that
    printed 1 to 25 read "» 1", as if that were all)."""
    uri = editor.open("loop.py", "for i in range(1, 26):\n    print(i)\nprint('once')\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    labels = await editor.wait_hints(uri, lambda h: 2 in h, "both statements' hints")
    assert labels[1] == "i = 25  » 1 … (25 lines)" and labels[2] == "» once", labels


def test_the_line_count_of_output_that_was_cut_is_a_lower_bound() -> None:
    """Output the worker cut ends with its note, and one clipped in the middle has its
    marker: the count is of the lines kept, with a "+"; blank lines at the end (also CRLF
    ones) do not count. (The extension's decorations.test.ts checks the same cases.)"""
    from eager_lsp.executors.worker.capture import truncation_note
    from eager_lsp.limits import clip_middle
    from eager_lsp.lsp.publish import _more_lines

    assert _more_lines("x\n" * 5 + truncation_note(99)) == " … (5+ lines)"
    assert _more_lines("x\n" * 4 + "parti" + truncation_note(9)) == " … (5+ lines)"
    assert _more_lines("a\r\n\r\n\r\n") == _more_lines("a\n\n\n") == _more_lines("a") == ""
    assert _more_lines("1\r\n2\r\n") == " … (2 lines)"
    assert _more_lines("a\n   \n") == ""
    # the middle left out (the kernel backend's limits.clip_middle): a lower bound too
    assert _more_lines("1\n2\n\n[... 900 characters omitted ...]\n8\n9\n") == " … (5+ lines)"
    assert _more_lines(clip_middle("x\n" * 1000, 200)).endswith("+ lines)")  # its own marker


async def test_the_progress_bar_says_what_ran_before_a_long_statement(
    editor: Editor, tmp_path: Path
) -> None:
    """Reports are throttled; one held back is sent when the interval ends. Before, the bar
    kept the first report ("0/1 statements run", or "1/2") while three statements ran and the
    fourth slept."""
    uri = editor.open("slow.py", "a = 1\nb = 2\nimport time\ntime.sleep(60)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)

    def messages() -> list[str]:
        return [
            getattr(v, "message", None) or ""
            for values in editor.client.progress_reports.values()
            for v in values
        ]

    await editor.wait_for(
        lambda: any(m == "3/4 statements run" for m in messages()), "the report after the third"
    )
    assert messages()[-1] == "3/4 statements run", messages()
    await editor.command(methods.INTERRUPT, uri=uri)
    await editor.summary(uri)
