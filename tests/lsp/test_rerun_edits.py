"""Edit-aware re-execution through the real server and worker: follow mode re-runs only what
an edit affects, and Fix with AI re-runs the statements that depend on the replaced one."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor


def results_on(editor: Editor, uri: str, line: int) -> int:
    """How many times the statement starting on `line` (0-based) reported a result."""
    return sum(
        1 for r in editor.notes_for(methods.CHUNK_RESULT, uri) if r["chunk"]["startLine"] == line
    )


def status_messages(editor: Editor, uri: str) -> list[str]:
    return [str(s.get("message", "")) for s in editor.notes_for(methods.STATUS, uri)]


LOAD = (
    "loads = []\n"
    "loads.append('loaded')\n"
    "data = [3, 1, 2]\n"
    "label = 'max'\n"
    "print(label, max(data))\n"
    "size = len(data)\n"
)


async def test_follow_reruns_the_edited_statement_and_its_dependents_only(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("load.py", LOAD, tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(5) == "size = 3")
    assert results_on(editor, uri, 1) == 1

    editor.replace(uri, (3, 9), (3, 12), "top")  # label = 'top'
    editor.cursor(uri, 4, 0)  # moved past the edited line: it re-runs
    labels = await editor.wait_hints(uri, lambda h: h.get(4) == "» top 3")
    assert labels[3] == "label = 'top'" and labels[5] == "size = 3"
    # the load step and the statements that do not read `label` did not run again
    assert [results_on(editor, uri, n) for n in range(6)] == [1, 1, 1, 2, 2, 1]
    message = await editor.wait_for(
        lambda: [m for m in status_messages(editor, uri) if "re-ran" in m], "the status"
    )
    assert message[-1].startswith("following · re-ran 2 of 6 statements (")
    assert "a full rebuild would take ≈" in message[-1]


async def test_follow_removes_a_deleted_statements_names(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("gone.py", LOAD, tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(5) == "size = 3")

    editor.replace(uri, (3, 0), (4, 0), "")  # delete `label = 'max'`
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 3
    assert diags.diagnostics[0].message == "NameError: name 'label' is not defined"
    assert results_on(editor, uri, 1) == 1  # the load step kept its state


async def test_follow_falls_back_to_a_full_rebuild_and_says_why(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("dyn.py", "a = 1\nexec('b = a + 1')\nc = 5\nd = c\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(3) == "d = 5")

    editor.replace(uri, (2, 4), (2, 5), "6")
    editor.cursor(uri, 3, 0)  # moved past the edited line: it re-runs
    await editor.wait_hints(uri, lambda h: h.get(3) == "d = 6")
    messages = await editor.wait_for(
        lambda: [m for m in status_messages(editor, uri) if "full rebuild" in m],
        "the status",
    )
    assert messages[-1].startswith("following · full rebuild"), messages
    assert "line 2: `exec()`" in messages[-1]
    assert results_on(editor, uri, 0) == 2  # everything ran again, from a fresh namespace


async def test_fix_with_ai_reruns_the_statements_that_depend_on_the_fix(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3)
    text = "x = 4\ny = x / 0\nz = y + 1\nw = 7\nprint('z', z)\n"
    uri = editor.open("fixdeps.py", text, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert 2 not in await editor.hint_labels(uri)  # stopped at the error

    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    labels = await editor.wait_hints(uri, lambda h: h.get(4) == "» z 3.0")
    assert labels[1] == "y = 2.0" and labels[2] == "z = 3.0"
    assert results_on(editor, uri, 0) == 1  # x = 4 was not re-run
    assert results_on(editor, uri, 1) == 2  # the failing run and the fix's
    messages = await editor.wait_for(
        lambda: [m for m in status_messages(editor, uri) if m.startswith("Fix with AI: ")],
        "the status",
    )
    # z and the print depend on y; w = 7 does not, and was stopped by the error: it ran too.
    assert messages[-1].startswith("Fix with AI: re-ran 3 of 5 statements")


async def test_follow_goes_on_following_after_a_rerun(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("goon.py", LOAD, tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(5) == "size = 3")
    editor.replace(uri, (2, 7), (2, 16), "[5, 6]")  # data = [5, 6]
    editor.cursor(uri, 3, 0)  # moved past the edited line: it re-runs
    await editor.wait_hints(uri, lambda h: h.get(5) == "size = 2" and h.get(4) == "» max 6")
    assert results_on(editor, uri, 1) == 1  # the load step kept its state

    for ch in "twice = size * 2\n":  # typed at the end, one character at a time
        doc = editor.docs[uri]
        last = doc.text.line_count - 1
        editor.type(uri, last, len(doc.text.line(last)), ch)
        last = doc.text.line_count - 1
        editor.cursor(uri, last, len(doc.text.line(last)))
    labels = await editor.wait_hints(uri, lambda h: h.get(6) == "twice = 4")
    assert labels[5] == "size = 2" and results_on(editor, uri, 1) == 1
