"""eager.follow: statements typed (or written by another tool) run once complete."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from eager_lsp import limits
from eager_lsp.lsp import methods

from .conftest import Editor


def type_chars(editor: Editor, uri: str, text: str, *, cursor: bool = True) -> None:
    """Type at the end of the document, one character per didChange, like a person; with
    `cursor`, report the cursor after each one (eager/cursor) as the editors do."""
    for ch in text:
        doc = editor.docs[uri]
        line = doc.text.line_count - 1
        editor.type(uri, line, len(doc.text.line(line)), ch)  # ASCII only
        if cursor:
            last = doc.text.line_count - 1
            editor.cursor(uri, last, len(doc.text.line(last)))


def type_in_line(editor: Editor, uri: str, line: int, text: str, *, cursor: bool) -> None:
    """Type at the end of `line` (the document goes on after it, as Neovim's always ends in
    a newline), one character per didChange; a newline moves to the next line."""
    for ch in text:
        doc = editor.docs[uri]
        editor.type(uri, line, len(doc.text.line(line)), ch)
        if ch == "\n":
            line += 1
        if cursor:
            editor.cursor(uri, line, len(doc.text.line(line)))


async def test_typed_statements_run_once_complete(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("follow.py", "a = 1\n", tmp_path)
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=True) == {"enabled": True}
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the document to run")

    type_chars(editor, uri, "b = a + 1\n")
    await editor.wait_hints(uri, lambda h: h.get(1) == "b = 2", "the typed statement")
    type_chars(editor, uri, "print(b * 10)")
    type_chars(editor, uri, "\n")
    labels = await editor.wait_hints(uri, lambda h: h.get(2) == "» 20", "print")
    assert labels == {0: "a = 1", 1: "b = 2", 2: "» 20"}


async def test_editing_a_statement_that_ran_rebuilds_from_the_top(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("rebuild.py", "a = 1\nb = a + 1\nc = []\nc.append(b)\nn = len(c)\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(4) == "n = 1", "the first run")

    editor.replace(uri, (0, 4), (0, 5), "10")  # a = 10
    editor.cursor(uri, 1, 0)  # moved past it (a statement runs only then)
    labels = await editor.wait_hints(uri, lambda h: h.get(1) == "b = 11", "the re-run")
    # Rebuilt from a fresh namespace: `c` was not appended to twice.
    assert labels[4] == "n = 1"
    stale = editor.notes_for(methods.STALE, uri)
    assert any(n["fromLine"] == 0 for n in stale)


async def test_an_error_halts_until_it_is_edited(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("halt.py", "x = 2\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "x = 2", "the first run")

    type_chars(editor, uri, "y = x / 0\n")
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 1
    assert diags.diagnostics[0].message == "ZeroDivisionError: division by zero"
    type_chars(editor, uri, "z = 5\n")
    await asyncio.sleep(0.5)  # give it a chance to (wrongly) run
    assert 2 not in await editor.hint_labels(uri)

    editor.replace(uri, (1, 8), (1, 9), "4")  # y = x / 4
    editor.cursor(uri, 2, 0)  # moved past it
    labels = await editor.wait_hints(uri, lambda h: h.get(2) == "z = 5", "the rebuild")
    assert labels == {0: "x = 2", 1: "y = 0.5", 2: "z = 5"}
    await editor.settle(uri, lambda ds: not ds)
    await editor.wait_for(
        lambda: (
            (s := editor.notes_for(methods.STATUS, uri)[-1])["state"] == "idle"
            and str(s.get("message")).startswith("following")
        ),
        "the idle state of follow mode",
    )


async def test_follow_off_stops_running_typed_code(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("off.py", "a = 1\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the first run")
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=False) == {"enabled": False}
    type_chars(editor, uri, "b = 2\n")
    await asyncio.sleep(0.5)
    assert await editor.hint_labels(uri) == {0: "a = 1"}


async def test_a_pause_in_the_middle_of_a_line_never_runs_it(
    editor: Editor, tmp_path: Path
) -> None:
    """Neovim's text always ends in a newline: `cou` + newline is a complete statement to the
    detector, yet the user is still typing it."""
    uri = editor.open("pause.py", "a = 1\n\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the first run")
    type_in_line(editor, uri, 1, "cou", cursor=True)
    await asyncio.sleep(1.0)  # a pause in the middle of the line: it must not run
    type_in_line(editor, uri, 1, "nt = a", cursor=True)
    await asyncio.sleep(1.0)
    assert await editor.hint_labels(uri) == {0: "a = 1"}
    type_in_line(editor, uri, 1, "\n", cursor=True)  # a newline and the cursor off the line
    await editor.wait_hints(uri, lambda h: h.get(1) == "count = 1", "the finished line")
    diags = await editor.settle(uri)
    assert list(diags.diagnostics) == []  # `cou` never ran (it would be a NameError)


async def test_without_cursor_reports_only_a_later_line_runs_it(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("nocursor.py", "a = 1\n\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the first run")
    type_in_line(editor, uri, 1, "cou", cursor=False)
    await asyncio.sleep(0.8)
    type_in_line(editor, uri, 1, "nt = a\n", cursor=False)
    await asyncio.sleep(0.8)  # a newline alone: the user may come back to the line
    assert await editor.hint_labels(uri) == {0: "a = 1"}
    type_in_line(editor, uri, 2, "pri", cursor=False)  # a later line started
    await editor.wait_hints(uri, lambda h: h.get(1) == "count = 1", "the line above")
    await asyncio.sleep(0.8)
    assert 2 not in await editor.hint_labels(uri)
    diags = await editor.settle(uri)
    assert list(diags.diagnostics) == []  # neither `cou` nor `pri` ran


async def test_the_last_diagnostics_name_the_last_version_typed(
    editor: Editor, tmp_path: Path
) -> None:
    """Typing that moves no result (characters within a new line that is held back) publishes
    nothing by itself; once typing pauses, the diagnostics are sent again for the version the
    client has, so a client that drops outdated diagnostics is not left with none."""
    uri = editor.open("version.py", "a = 1\n\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the first run")
    await editor.settle(uri)
    type_in_line(editor, uri, 1, "b = a", cursor=True)  # still being typed: nothing runs
    diags = await editor.settle(uri)
    assert diags.version == editor.docs[uri].version and list(diags.diagnostics) == []
    assert await editor.hint_labels(uri) == {0: "a = 1"}


async def test_a_half_typed_line_in_the_middle_of_the_file_never_runs(
    editor: Editor, tmp_path: Path
) -> None:
    """A user trial in Neovim (bug B): `gg o` in `x = 1 / y = 2`, then `cou` typed with
    pauses, the cursor on that line: it ran and raised a NameError."""
    uri = editor.open("middle.py", "x = 1\ny = 2\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(1) == "y = 2", "the first run")
    editor.replace(uri, (0, 5), (1, 0), "\n\n")  # Neovim's `o` on line 0, as it sends it
    editor.cursor(uri, 1, 0)
    for ch in "cou":
        type_in_line(editor, uri, 1, ch, cursor=True)
        await asyncio.sleep(0.6)  # a pause in the middle of the line: it must not run
    diags = await editor.settle(uri)
    assert list(diags.diagnostics) == []  # `cou` did not run (it would be a NameError)
    assert 1 not in await editor.hint_labels(uri)
    type_in_line(editor, uri, 1, "nt = x + 1", cursor=True)
    editor.cursor(uri, 2, 0)  # moved past it: the cursor on a later line
    await editor.wait_hints(uri, lambda h: h.get(1) == "count = 2", "the finished line")
    diags = await editor.settle(uri)
    assert list(diags.diagnostics) == []


async def test_moving_the_cursor_up_off_the_last_line_does_not_run_it(
    editor: Editor, tmp_path: Path
) -> None:
    """Bug C: `o`, `cou`, <Esc>, `k`: the cursor left the line upwards; the only newline after
    it is the one Neovim keeps at the end."""
    uri = editor.open("up.py", "x = 1\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "x = 1", "the first run")
    editor.type(uri, 1, 0, "\n")
    type_in_line(editor, uri, 1, "cou", cursor=True)
    editor.cursor(uri, 0, 2)  # `k`
    await asyncio.sleep(1.0)  # give it a chance to (wrongly) run
    diags = await editor.settle(uri)
    assert list(diags.diagnostics) == []
    assert await editor.hint_labels(uri) == {0: "x = 1"}


async def test_fixing_a_syntax_error_in_typed_text_runs_it(editor: Editor, tmp_path: Path) -> None:
    """A user tour in Neovim: a function body typed without its indent stops the stream at
    the IndentationError before any of it ran; indenting the body must run it (it was held
    for good: follow mode halted as after a runtime error, but nothing it had released was
    edited, for a syntax error releases nothing)."""
    uri = editor.open("syntax.py", "a = 1\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(0) == "a = 1", "the first run")

    type_chars(editor, uri, "def f(x):\nreturn x + a\n")  # the body's indent forgotten
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 2
    assert diags.diagnostics[0].message.startswith("IndentationError")

    editor.type(uri, 2, 0, "    ")  # indent it
    editor.cursor(uri, 3, 0)  # and move past it
    type_chars(editor, uri, "y = f(1)\n")
    labels = await editor.wait_hints(uri, lambda h: h.get(3) == "y = 2", "the fixed function")
    assert labels[2] == "f = <function f>"
    await editor.settle(uri, lambda ds: not ds)


async def test_a_blank_body_line_then_its_fix_runs_again(editor: Editor, tmp_path: Path) -> None:
    """The tour's own sequence: a blank body line (Neovim's `C`) is settled text, so the
    stream is restarted over it and stops at the IndentationError below it."""
    uri = editor.open("func.py", "", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    type_chars(editor, uri, "def f(x):\n    return 10 / x\n\ny = f(0)\nz = y + 1\n")
    await editor.settle(uri, lambda ds: len(ds) == 1 and "ZeroDivision" in ds[0].message)
    editor.replace(uri, (1, 0), (1, 17), "return 10 * x")  # un-indent
    editor.cursor(uri, 2, 0)
    await editor.settle(uri, lambda ds: len(ds) == 1 and ds[0].range.start.line == 1)
    editor.replace(uri, (1, 0), (1, 13), "")  # `C`: the line is blank for a moment
    editor.cursor(uri, 1, 0)
    await editor.settle(uri, lambda ds: len(ds) == 1 and ds[0].range.start.line == 3)
    editor.type(uri, 1, 0, "    return 10 * x")
    editor.cursor(uri, 2, 0)
    labels = await editor.wait_hints(uri, lambda h: h.get(4) == "z = 1", "the re-run")
    assert labels[3] == "y = 0"
    await editor.settle(uri, lambda ds: not ds)


async def test_an_interrupt_pauses_following_without_an_error(
    editor: Editor, tmp_path: Path
) -> None:
    """An interrupt stops following at the statement it stopped (as an error would: edit it to
    run it again), but the status says it was interrupted, not `error`."""
    text = "import time\nwhile True:\n    time.sleep(0.01)\nafter = 1\n"
    uri = editor.open("spin.py", text, tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_for(
        lambda: any(
            s["state"] == "running" and 1 in s.get("runningLines", [])
            for s in editor.notes_for(methods.STATUS, uri)
        ),
        "the loop to run",
    )
    answer = await editor.command(methods.INTERRUPT, uri=uri)
    assert answer == {"interrupted": True, "stateLost": False}
    last = await editor.wait_for(  # (a status "idle" "following" may come first)
        lambda: (
            (s := editor.notes_for(methods.STATUS, uri)[-1])["message"] != methods.FOLLOWING
            and s["state"] != "running"
            and s
        ),
        "the status after the interrupt",
    )
    assert last["state"] == "idle", last
    assert last["message"].startswith(methods.FOLLOWING) and "interrupted" in last["message"]
    await asyncio.sleep(0.3)  # nothing runs after it: following waits for an edit
    assert 3 not in await editor.hint_labels(uri)


async def test_editing_a_statement_while_it_re_runs_interrupts_it_and_runs_the_new_text(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode re-runs an edited statement; edited again while that re-run still runs, it
    is interrupted and the new text runs (follow mode waited for the old text to end: a
    minute here, forever for a loop)."""
    from .test_interpreter import _running_line

    uri = editor.open("again.py", "import time\ntime.sleep(0)\nz = 1\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 1", "the first run")
    seen = len(editor.notes_for(methods.STATUS, uri))
    editor.replace(uri, (1, len("time.sleep(")), (1, len("time.sleep(0")), "60")
    editor.cursor(uri, 2, 0)
    await _running_line(editor, uri, 1, after=seen)
    await asyncio.sleep(0.3)
    t0 = asyncio.get_running_loop().time()
    seen = len(editor.notes_for(methods.STATUS, uri))
    editor.replace(uri, (1, len("time.sleep(")), (1, len("time.sleep(60")), "0.2")
    editor.cursor(uri, 2, 0)
    last = await editor.wait_for(
        lambda: [
            s
            for s in editor.notes_for(methods.STATUS, uri)[seen:]
            if s["state"] != "running" and "re-ran" in s.get("message", "")
        ],
        "the re-run of the new text",
    )
    assert asyncio.get_running_loop().time() - t0 < 30, last  # not after the minute's sleep
    assert last[-1]["state"] == "idle", last
    labels = await editor.wait_hints(uri, lambda h: h.get(2) == "z = 1", "z after the re-run")
    assert 1 not in labels or "Interrupt" not in labels[1], labels
    await editor.settle(uri, lambda ds: not ds)


async def test_following_goes_on_after_a_stopped_re_run(editor: Editor, tmp_path: Path) -> None:
    """eager.stop of a re-run of an edit: follow mode still follows the next edit of the
    statement it stopped (the stopped re-run's cancellation must not end follow mode's loop)."""
    from .test_interpreter import _running_line

    uri = editor.open("on.py", "import time\nx = time.sleep(0) or 1\nz = x\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 1", "the first run")
    seen = len(editor.notes_for(methods.STATUS, uri))
    editor.replace(uri, (1, 0), (1, len("x = time.sleep(0) or 1")), "x = time.sleep(60) or 1")
    editor.cursor(uri, 2, 0)
    await _running_line(editor, uri, 1, after=seen)
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    await asyncio.sleep(0.5)
    editor.replace(uri, (1, 0), (1, len("x = time.sleep(60) or 1")), "x = time.sleep(0) or 2")
    editor.cursor(uri, 2, 0)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 2", "the edit followed after the stop")


async def test_stop_during_a_re_run_says_how_it_ended(editor: Editor, tmp_path: Path) -> None:
    """eager.stop of follow mode's re-run of an edit: the statement it cut short shows its
    KeyboardInterrupt, the answer says code was interrupted, and the status ends idle
    `…; stopped` (it stayed `running` until the next edit, and the answer said nothing)."""
    from .test_interpreter import _running_line

    uri = editor.open("stop.py", "import time\nx = time.sleep(0) or 1\nz = x\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 1", "the first run")
    seen = len(editor.notes_for(methods.STATUS, uri))
    editor.replace(uri, (1, 0), (1, len("x = time.sleep(0) or 1")), "x = time.sleep(60) or 1")
    editor.cursor(uri, 2, 0)
    await _running_line(editor, uri, 1, after=seen)
    seen = len(editor.notes_for(methods.STATUS, uri))
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": True,
        "interrupted": True,
        "stateLost": False,
    }
    await asyncio.sleep(0.3)
    last = editor.notes_for(methods.STATUS, uri)[-1]
    assert last["state"] == "idle", editor.notes_for(methods.STATUS, uri)[seen:]
    assert last["message"].startswith(methods.FOLLOWING + " · re-ran"), last
    assert last["message"].endswith(f"; {methods.STOPPED}"), last
    results = [
        n for n in editor.notes_for(methods.CHUNK_RESULT, uri) if n["chunk"]["startLine"] == 1
    ]
    assert results[-1]["error"]["type"] == "KeyboardInterrupt", results[-1]
    assert results[-1]["error"]["byUser"] is True


async def test_stop_during_the_first_follow_run_says_how_it_ended(
    editor: Editor, tmp_path: Path
) -> None:
    """eager.stop while follow mode's own stream runs a statement: as above, `following ·
    stopped; edit it to re-run`, and editing the statement runs it again."""
    from .test_interpreter import _running_line

    uri = editor.open("first.py", "import time\nx = time.sleep(60) or 1\nz = x\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await _running_line(editor, uri, 1)
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": True,
        "interrupted": True,
        "stateLost": False,
    }
    await asyncio.sleep(0.3)
    last = editor.notes_for(methods.STATUS, uri)[-1]
    assert (last["state"], last["message"]) == (
        "idle",
        f"{methods.FOLLOWING} · {methods.STOPPED}; edit it to re-run",
    ), last
    editor.replace(uri, (1, 0), (1, len("x = time.sleep(60) or 1")), "x = time.sleep(0) or 2")
    editor.cursor(uri, 2, 0)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 2", "the edit followed after the stop")


@pytest.mark.settings({"execution": {"gate": "safe"}})
async def test_the_status_says_where_and_why_the_safe_gate_holds(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode's stream has no end while the user types: a statement the safe gate holds
    (and all after it) waits, and the status says so, where and why (it read `running 2/4
    (2 pending)` and looked stuck; a user's report)."""
    text = "x = 1\nimport signal\nh = signal.getsignal(2)\ny = 2\n"
    uri = editor.open("held.py", text, tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    held = await editor.wait_for(
        lambda: [s for s in editor.notes_for(methods.STATUS, uri) if "heldLine" in s],
        "a status that says the gate holds",
    )
    assert held[-1]["heldLine"] == 2, held[-1]
    assert "signal.getsignal" in held[-1]["heldReason"], held[-1]
    assert held[-1]["chunksPending"] >= 1, held[-1]
    labels = await editor.hint_labels(uri)
    assert 2 not in labels and 3 not in labels, labels  # held: not run


async def test_follow_on_after_a_run_runs_only_what_differs(editor: Editor, tmp_path: Path) -> None:
    """Turning follow mode on after eager.runDocument does not run the document again (its
    side effects happened twice): only what differs from what ran runs."""
    log = tmp_path / "ran.log"
    text = f"with open({str(log)!r}, 'a') as f:\n    f.write('ran\\n')\nz = 1\n"
    uri = editor.open("once.py", text, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert log.read_text() == "ran\n"
    seen = len(editor.notes_for(methods.STATUS, uri))
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_for(
        lambda: [
            s
            for s in editor.notes_for(methods.STATUS, uri)[seen:]
            if s["state"] == "idle" and s.get("message", "").startswith(methods.FOLLOWING + " ·")
        ],
        "follow mode's first round",
    )
    await asyncio.sleep(0.5)
    assert log.read_text() == "ran\n"  # not run again
    labels = await editor.hint_labels(uri)
    assert labels.get(2) == "z = 1", labels
    # and it follows: an edit runs
    editor.replace(uri, (2, 0), (2, len("z = 1")), "z = 2")
    editor.cursor(uri, 3, 0)
    await editor.wait_hints(uri, lambda h: h.get(2) == "z = 2", "the edit")
    assert log.read_text() == "ran\n"


@pytest.mark.settings({"execution": {"gate": "safe"}})
async def test_why_the_gate_holds_is_bounded(editor: Editor, tmp_path: Path) -> None:
    """`heldReason` names code the model wrote (a dotted name of any length), in every
    status: it is cut to its cap."""
    name = "os." + ".".join(["a" * 50] * 100)  # 5,000 characters
    uri = editor.open("long.py", f"import os\n{name}()\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    held = await editor.wait_for(
        lambda: [s for s in editor.notes_for(methods.STATUS, uri) if "heldLine" in s],
        "a status that says the gate holds",
    )
    assert held[-1]["heldLine"] == 1, held[-1]
    assert len(held[-1]["heldReason"]) <= limits.HELD_REASON_CAP, len(held[-1]["heldReason"])
    assert held[-1]["heldReason"].startswith("calls os.aaaa"), held[-1]["heldReason"][:80]


async def test_a_restart_runs_the_line_being_typed_as_it_is_shown(
    editor: Editor, tmp_path: Path
) -> None:
    """While a line is typed its old text stands in for it (the line below goes on working);
    a restart runs the text as shown (a user tour: `b = 2` beside `a = 5` after :EagerRestart,
    and after an undo an error of the old text with no diagnostic anywhere)."""
    uri = editor.open("held.py", "a = 1\nb = a + 1\nprint('b is', b)\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_hints(uri, lambda h: h.get(1) == "b = 2", "the first run")

    editor.replace(uri, (0, 4), (0, 5), "5")  # a = 5, the cursor still on it: held
    editor.cursor(uri, 0, 5)
    await editor.command(methods.RESTART_INTERPRETER, uri=uri)
    labels = await editor.wait_hints(uri, lambda h: h.get(1) == "b = 6", "the text as shown")
    assert labels.get(0) == "a = 5" and labels.get(2) == "» b is 6", labels
