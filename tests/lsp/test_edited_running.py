"""A statement whose text is edited while it runs: what ran is no longer what is shown, so its
result is not shown as the statement's result, its live output stops and its running hover
goes (lsp/runs.py): a body line edited counts as much as its first or last, in a document
run, a follow-mode run or re-run, and a generation. A finished statement whose body line is
edited loses its result the same way (lsp/store.py). Through the real server and worker; the
loop waits for a file the test creates, so nothing races the edit."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eager_lsp.lsp import methods
from eager_lsp.lsp.documents import Document
from eager_lsp.lsp.runs import LineMap
from eager_lsp.lsp.text import LineEdit, Text
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor
from .test_hover import _hover

# Line 3 is the body line the user edits (same line count); the loop waits in its first
# round until the file `go` exists.
LOOP = """\
import os, time
total = 0
for i in range(3):
    total += i
    print("tick", i, flush=True)
    while not os.path.exists({go!r}):
        time.sleep(0.05)
print(total)
"""


def _live(editor: Editor, uri: str) -> str:
    return "".join(n["stdout"] for n in editor.notes_for(methods.OUTPUT, uri))


def _results_at(editor: Editor, uri: str, line: int) -> list[dict[str, Any]]:
    return [
        r for r in editor.notes_for(methods.CHUNK_RESULT, uri) if r["chunk"]["startLine"] == line
    ]


def _total(result: dict[str, Any]) -> str | None:
    return next((v["repr"] for v in result.get("values", []) if v["name"] == "total"), None)


async def test_a_result_whose_body_line_was_edited_while_it_ran_is_not_shown(
    editor: Editor, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    uri = editor.open("loop.py", LOOP.format(go=str(go)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: "tick 0\n" in _live(editor, uri), "the loop to run")
    running = await _hover(editor, uri, 3)
    assert running is not None and "running for" in running, running

    editor.replace(uri, (3, 14), (3, 14), " * 10")  # total += i * 10: a line inside it
    assert editor.docs[uri].text.line(3) == "    total += i * 10"
    # What runs is no longer the text shown: no running hover on it any more.
    assert await _hover(editor, uri, 3) is None
    go.touch()
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary

    # No result for the loop: the value it would show (total = 3) is not that of its text.
    assert _results_at(editor, uri, 2) == [], _results_at(editor, uri, 2)
    labels = await editor.hint_labels(uri)
    assert not any(line in labels for line in range(2, 7)), labels
    # Nothing of its output after the edit was sent live either.
    assert "tick 1" not in _live(editor, uri) and "tick 2" not in _live(editor, uri)
    # The statement below, not edited, shows what it printed (the value the loop left).
    assert labels.get(7) == "» 3", labels


async def test_a_finished_statement_whose_body_line_is_edited_loses_its_result(
    editor: Editor, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    go.touch()
    uri = editor.open("done.py", LOOP.format(go=str(go)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    labels = await editor.wait_hints(uri, lambda h: h.get(7) == "» 3")
    assert any(line in labels for line in range(2, 7)), labels  # the loop's values
    assert _total(_results_at(editor, uri, 2)[-1]) == "3"

    editor.replace(uri, (3, 14), (3, 14), " * 10")  # nothing re-runs (follow mode is off)
    stale = await editor.wait_for(
        lambda: [n for n in editor.notes_for(methods.STALE, uri) if n["fromLine"] == 2],
        "eager/stale for the loop",
    )
    assert stale[-1]["toLine"] == 6, stale
    labels = await editor.wait_hints(uri, lambda h: not any(n in h for n in range(2, 7)))
    assert labels.get(7) == "» 3", labels  # its own text unchanged: it stays
    assert await _hover(editor, uri, 4) is None  # nothing said about the edited loop

    # An edit above moves the others; the loop's result does not come back.
    editor.replace(uri, (1, 0), (1, 0), "# moved\n")
    labels = await editor.wait_hints(uri, lambda h: h.get(8) == "» 3")
    assert labels.get(2) == "total = 0" and not any(n in labels for n in range(3, 8)), labels


async def test_follow_mode_shows_the_rerun_of_the_latest_text_not_the_edited_one(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode re-runs an edited statement; edited again while that re-run runs, the
    re-run's result (of the text before the second edit) is not shown as the loop's: the
    next re-run's is, for the text on screen."""
    go = tmp_path / "go"
    uri = editor.open("follow.py", LOOP.format(go=str(go)), tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_for(lambda: _live(editor, uri).count("tick 0\n") == 1, "the first run")

    editor.replace(uri, (3, 14), (3, 14), " * 10")  # total += i * 10
    editor.cursor(uri, 4, 0)  # moved past it: it re-runs (the running loop is interrupted)
    await editor.wait_for(lambda: _live(editor, uri).count("tick 0\n") == 2, "the re-run")

    editor.replace(uri, (3, 19), (3, 19), "0")  # total += i * 100, while the re-run runs
    editor.cursor(uri, 4, 0)
    # (answered after the edit was taken: the loop ends only after it, go being made next)
    assert await _hover(editor, uri, 3) is None  # what runs is no longer the text shown
    go.touch()
    await editor.wait_hints(uri, lambda h: h.get(7) == "» 300", "the latest text's re-run")
    totals = [_total(r) for r in _results_at(editor, uri, 2)]
    # The first re-run (total = 30) was never shown as the loop's result; the second was.
    assert "30" not in totals and totals[-1] == "300", totals
    # The epoch's interrupted run of the original text showed nothing either.
    assert "3" not in totals, totals


async def test_follow_mode_shows_no_result_while_the_edited_line_is_still_typed(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode runs a line being typed as it ran (configuration.md, "Follow mode"), and
    its stream's lines are the document's: the loop's result, of the text before the edit,
    is not shown next to the edited text; moving past the line re-runs it."""
    go = tmp_path / "go"
    uri = editor.open("held.py", LOOP.format(go=str(go)), tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_for(lambda: "tick 0\n" in _live(editor, uri), "the first run")

    editor.replace(uri, (3, 14), (3, 14), " * 10")  # still on the line: nothing re-runs
    editor.cursor(uri, 3, 19)
    assert await _hover(editor, uri, 3) is None
    go.touch()
    await editor.wait_hints(uri, lambda h: h.get(7) == "» 3", "the statement below it")
    assert _results_at(editor, uri, 2) == [], _results_at(editor, uri, 2)

    editor.cursor(uri, 4, 0)  # moved past it: it re-runs, and that result is shown
    labels = await editor.wait_hints(uri, lambda h: h.get(7) == "» 30", "the re-run")
    assert [_total(r) for r in _results_at(editor, uri, 2)] == ["30"], labels


async def test_a_generated_statement_edited_while_it_runs_shows_no_result(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """An edit inside generated text stops the generation (its writing and its run: the loop
    is interrupted); the interrupted loop's result is not shown on the edited text (it was,
    as a KeyboardInterrupt diagnostic, and the status said `error`)."""
    go = tmp_path / "go"
    code = LOOP.format(go=str(go))
    fake_openai.enqueue(text=code, chunk_chars=8, delay=0.005)
    uri = editor.open("gen.py", "# loop\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="loop")
    await editor.wait_for(lambda: "tick 0\n" in _live(editor, uri), "the loop to run")
    await editor.wait_for(lambda: editor.docs[uri].source == "# loop\n" + code, "all written")

    editor.replace(uri, (4, 14), (4, 14), " * 10")  # the loop's body line
    summary = await editor.summary(uri)
    assert summary["error"] == "the generated text was edited", summary
    go.touch()
    assert _results_at(editor, uri, 3) == [], _results_at(editor, uri, 3)
    await editor.settle(uri)
    diags = editor.latest_diagnostics(uri)
    assert diags is not None and list(diags.diagnostics) == [], diags
    status = editor.notes_for(methods.STATUS, uri)[-1]
    assert status["state"] == "idle", status  # no error: the user's own edit stopped it
    labels = await editor.hint_labels(uri)
    assert not any(n in labels for n in range(3, 9)), labels


async def test_results_of_an_unedited_text_are_shown_a_byte_order_mark_included(
    editor: Editor, tmp_path: Path
) -> None:
    """The text check compares a statement's lines with its code: a byte-order mark at the
    start of the text is no code (the detector leaves it out), so it does not hide the first
    statement's result."""
    uri = editor.open("bom.py", "\ufeffx = 1\nfor i in range(2):\n    x += i\ny = x\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    labels = await editor.wait_hints(uri, lambda h: h.get(3) == "y = 2")
    assert labels.get(0) == "x = 1" and 2 in labels, labels


# -- LineMap.span: a statement's lines through the edits, in one walk ----------------------


def _each_line(edits: list[LineEdit], first: int, last: int) -> tuple[int, int] | None:
    """The rule `span` replaces: every line of the statement through every edit, in turn; an
    edit that changes a line of it, or puts lines between two of them, ends it."""
    lines: list[int | None] = list(range(first - 1, last))
    for edit in edits:
        lines = [edit.map(n) for n in lines if n is not None]
        start = lines[0]
        if None in lines or start is None or lines != list(range(start, start + len(lines))):
            return None
    start, end = lines[0], lines[-1]
    assert start is not None and end is not None
    return start, end


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**31))
def test_a_span_maps_as_mapping_each_of_its_lines_through_each_edit_would(seed: int) -> None:
    rnd = random.Random(seed)
    doc = Document(uri="file:///t/span.py", language_id="python", version=1, text=Text(""))
    lines = LineMap(doc)
    for _ in range(rnd.randint(0, 8)):
        first = rnd.randint(0, 30)
        last = first + rnd.choice([-1, -1, 0, 0, 1, 3])
        delta = rnd.choice([-2, -1, 0, 0, 1, 2, 4])
        if last < first:
            delta = rnd.choice([0, 1, 3])  # an insertion, or an edit that changed nothing
        delta = max(delta, -(last - first + 1))
        lines.on_change(0, 0, "", LineEdit(first, last, delta), False)
    for _ in range(20):
        start = rnd.randint(1, 35)
        end = start + rnd.choice([0, 0, 1, 2, 5])
        expect = _each_line(lines._edits, start, end)
        assert lines.span(start, end) == expect, (start, end, lines._edits)
        if expect is not None:
            assert expect == (lines.map(start), lines.map(end))
