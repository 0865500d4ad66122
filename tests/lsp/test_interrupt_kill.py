"""A run the user ended, told once and as it is: an interrupt that had to kill the interpreter
(the code ignored it past the grace period), a stop that had to, a restart during a run.

Found in the editors' tours: the killed statement offered "Fix with AI", the status said
`interrupted` although the interpreter was restarted, one interrupt gave three messages (the
server's "the interpreter … stopped" warning among them), a restart during a run flashed
`stopped` before `interpreter restarted`, an interrupted statement was an Error diagnostic,
and the summary counted the interrupted statement as run. Real worker subprocesses throughout.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor
from .test_interpreter import _running_line
from .test_repair import _code_actions

GRACE = {"execution": {"interruptGraceSeconds": 0.5}}
# The sleep ignores SIGINT: an interrupt cannot land, the interpreter is killed after the grace.
DEAF = (
    "kept = 7\n"
    "import signal, time\n"
    "_ = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "time.sleep(60)\n"
    "after = 1\n"
)
SLEEP_LINE = 3  # 0-based


def _statuses(editor: Editor, uri: str, after: int = 0) -> list[dict[str, Any]]:
    return editor.notes_for(methods.STATUS, uri)[after:]


def _warnings(editor: Editor) -> list[str]:
    return [
        m.message
        for m in editor.client.messages
        if m.type in (lsp.MessageType.Warning, lsp.MessageType.Error)
    ]


def _status_with_summary(editor: Editor, uri: str) -> tuple[str, str]:
    """The status in force when the (first) summary came: what a client reads with it."""
    last: dict[str, Any] = {}
    for method, note in editor.sequence:
        if note.get("uri") != uri:
            continue
        if method == methods.GENERATION_SUMMARY:
            return last.get("state", ""), last.get("message", "")
        if method == methods.STATUS:
            last = note
    raise AssertionError("no summary")


def _error_at(editor: Editor, uri: str, line: int) -> dict[str, Any]:
    """The error of the last eager/chunkResult of the statement at (0-based) `line`."""
    results = [
        n for n in editor.notes_for(methods.CHUNK_RESULT, uri) if n["chunk"]["startLine"] == line
    ]
    assert results and results[-1]["error"] is not None, results
    error: dict[str, Any] = results[-1]["error"]
    return error


async def _interrupt_until_it_runs(editor: Editor, uri: str) -> dict[str, Any]:
    """eager.interrupt once the statement runs (an interrupt between statements reaches none
    and says so)."""
    nothing = {"interrupted": False, "stateLost": False}
    for _ in range(600):
        answer: dict[str, Any] = await editor.command(methods.INTERRUPT, uri=uri)
        if answer != nothing:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError("the statement never ran")


@pytest.mark.settings(GRACE)
async def test_an_interrupt_that_had_to_kill_is_the_users_not_an_error(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("deaf.py", DEAF, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, SLEEP_LINE)
    seen = len(_statuses(editor, uri))
    assert await _interrupt_until_it_runs(editor, uri) == {
        "interrupted": True,
        "stateLost": True,
    }
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True, summary
    assert summary["error"].startswith("InterpreterLost"), summary
    # what ran to its end: the three statements before the sleep (not the sleep, nor `after`)
    assert summary["chunks"] == 3, summary
    ended = [s for s in _statuses(editor, uri, seen) if s["state"] != "running"]
    # the truth, once: the interpreter was restarted (not "interrupted", and never `error`)
    assert [(s["state"], s["message"]) for s in ended] == [("idle", methods.RESTARTED)], ended
    assert _status_with_summary(editor, uri) == ("idle", methods.RESTARTED)
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    diag = diags.diagnostics[0]
    assert diag.range.start.line == SLEEP_LINE and "InterpreterLost" in diag.message
    assert diag.severity == lsp.DiagnosticSeverity.Information, diag  # not wrong: stopped
    assert await _code_actions(editor, uri, diag) == []  # no "Fix with AI" on the user's kill
    # the values of the killed interpreter are gone from the editor too (`kept = 7` stayed
    # drawn although `kept` no longer existed), as after a restart; the statement's own stays
    stale = editor.notes_for(methods.STALE, uri)
    assert stale and stale[-1]["fromLine"] == 0 and "toLine" not in stale[-1], stale
    labels = await editor.hint_labels(uri)
    assert 0 not in labels, labels
    # its result says the user ended it: `stateLost` alone reads as a crash
    error = _error_at(editor, uri, SLEEP_LINE)
    assert (error["type"], error["stateLost"], error["byUser"]) == ("InterpreterLost", True, True)
    await asyncio.sleep(0.3)  # (a message would have come with the loss)
    # the interrupt's answer says the state is lost: no server warning says it again
    assert _warnings(editor) == [], _warnings(editor)


async def test_a_crash_nobody_asked_for_stays_an_error_with_its_warning(
    editor: Editor, tmp_path: Path
) -> None:
    """The other side of the rule: an interpreter that dies by itself is the code's failure."""
    uri = editor.open("crash.py", "kept = 7\nimport os\nos._exit(3)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"].startswith("InterpreterLost"), summary
    assert _statuses(editor, uri)[-1]["state"] == "error"
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    diag = diags.diagnostics[0]
    assert diag.severity == lsp.DiagnosticSeverity.Error, diag
    actions = await _code_actions(editor, uri, diag)
    assert [a["title"] for a in actions] == [methods.FIX_TITLE], actions
    error = _error_at(editor, uri, 2)
    assert (error["type"], error["stateLost"], error["byUser"]) == ("InterpreterLost", True, False)
    await editor.wait_for(
        lambda: [m for m in _warnings(editor) if "interpreter for crash.py stopped" in m],
        "the warning that the interpreter stopped",
    )


async def test_a_landed_interrupt_is_information_and_did_not_run(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("spin.py", "kept = 7\nwhile True:\n    pass\nafter = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, 1)
    assert await _interrupt_until_it_runs(editor, uri) == {
        "interrupted": True,
        "stateLost": False,
    }
    summary = await editor.summary(uri)
    assert summary["error"].startswith("KeyboardInterrupt"), summary
    assert summary["chunks"] == 1, summary  # `kept = 7`; the loop was interrupted
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].severity == lsp.DiagnosticSeverity.Information, diags
    error = _error_at(editor, uri, 1)
    assert (error["type"], error["stateLost"], error["byUser"]) == (
        "KeyboardInterrupt",
        False,
        True,
    )


async def test_a_restart_during_a_run_sends_only_its_last_word(
    editor: Editor, tmp_path: Path
) -> None:
    """VS Code's tour: the status bar showed `stopped`, then `interpreter restarted`."""
    uri = editor.open("again.py", "import time\nwhile True:\n    time.sleep(0.01)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, 1)
    seen = len(_statuses(editor, uri))
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    summary = await editor.summary(uri)
    assert (summary["stoppedEarly"], summary["error"]) == (True, None), summary
    await asyncio.sleep(0.3)  # (a late status would come now)
    ended = [s for s in _statuses(editor, uri, seen) if s["state"] != "running"]
    # the run's end and the restart say the same last word (the run says it with its summary)
    assert {(s["state"], s["message"]) for s in ended} == {("idle", methods.RESTARTED)}, ended
    assert _status_with_summary(editor, uri) == ("idle", methods.RESTARTED)


@pytest.mark.settings(GRACE)
async def test_a_restart_during_a_generation_sends_only_its_last_word(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=DEAF, chunk_chars=8, delay=0.005)
    uri = editor.open("gen.py", "", tmp_path)
    assert await editor.command(methods.GENERATE, uri=uri, prompt="sleep") == {"started": True}
    await editor.wait_for(
        lambda: len(editor.notes_for(methods.CHUNK_RESULT, uri)) >= 3, "the statements before"
    )
    seen = len(_statuses(editor, uri))
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    summary = await editor.summary(uri)
    assert (summary["stoppedEarly"], summary["error"]) == (True, None), summary
    await asyncio.sleep(0.3)
    ended = [s for s in _statuses(editor, uri, seen) if s["state"] not in ("generating", "running")]
    assert {(s["state"], s["message"]) for s in ended} == {("idle", methods.RESTARTED)}, ended
    assert _status_with_summary(editor, uri) == ("idle", methods.RESTARTED)
    assert _warnings(editor) == [], _warnings(editor)


@pytest.mark.settings(GRACE)
async def test_a_stop_that_had_to_kill_says_the_interpreter_was_restarted(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=DEAF, chunk_chars=8, delay=0.005)
    uri = editor.open("stop.py", "", tmp_path)
    assert await editor.command(methods.GENERATE, uri=uri, prompt="sleep") == {"started": True}
    await editor.wait_for(
        lambda: any(SLEEP_LINE in s.get("runningLines", []) for s in _statuses(editor, uri)),
        "the sleep to run",
    )
    # the answer says the code was interrupted, and the interpreter killed for it
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": True,
        "interrupted": True,
        "stateLost": True,
    }
    summary = await editor.summary(uri)
    # the stop's kill is no error of the code's; the statement shows what happened
    assert (summary["stoppedEarly"], summary["error"]) == (True, None), summary
    last = _statuses(editor, uri)[-1]
    assert (last["state"], last["message"]) == ("idle", methods.RESTARTED), last
    assert not [s for s in _statuses(editor, uri) if s["state"] == "error"]
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    diag = diags.diagnostics[0]
    assert diag.severity == lsp.DiagnosticSeverity.Information, diag
    assert await _code_actions(editor, uri, diag) == []
    await asyncio.sleep(0.3)
    assert _warnings(editor) == [], _warnings(editor)
    assert not [m for m in editor.messages() if methods.FIX_TITLE in m], editor.messages()


@pytest.mark.settings(GRACE)
async def test_following_says_the_interpreter_was_restarted_after_an_interrupt_that_killed(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode, as the document's run: an interrupt that had to kill the interpreter ends
    `interpreter restarted` (its variables are gone), not `interrupted`."""
    uri = editor.open("follow.py", DEAF, tmp_path)
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=True) == {"enabled": True}
    await _running_line(editor, uri, SLEEP_LINE)
    seen = len(_statuses(editor, uri))
    assert await _interrupt_until_it_runs(editor, uri) == {
        "interrupted": True,
        "stateLost": True,
    }
    ended = await editor.wait_for(
        lambda: [
            s
            for s in _statuses(editor, uri, seen)
            if s["state"] != "running" and s["message"] != methods.FOLLOWING
        ],
        "the status after the interrupt",
    )
    restarted = f"{methods.FOLLOWING} · {methods.RESTARTED}; edit it to re-run"
    assert [(s["state"], s["message"]) for s in ended] == [("idle", restarted)], ended
    await asyncio.sleep(0.3)  # (a later word would come now)
    late = [s for s in _statuses(editor, uri, seen) if s["state"] != "running"]
    assert all(methods.INTERRUPTED not in s["message"] for s in late), late


@pytest.mark.settings(GRACE)
async def test_a_rerun_after_an_edit_says_the_interpreter_was_restarted_after_an_interrupt_that_killed(
    editor: Editor, tmp_path: Path
) -> None:
    """Follow mode's re-run of an edit (lsp/incremental.py), not its first run: an interrupt
    that had to kill the interpreter ends `interpreter restarted`, not `interrupted` (it said
    `interrupted` although the variables were gone)."""
    uri = editor.open("edit.py", DEAF.replace("sleep(60)", "sleep(0)"), tmp_path)
    assert await editor.command(methods.FOLLOW, uri=uri, enabled=True) == {"enabled": True}
    await editor.wait_hints(uri, lambda h: h.get(4) == "after = 1", "the first run")
    editor.type(uri, SLEEP_LINE, len("time.sleep("), "6")  # time.sleep(60)
    editor.cursor(uri, 4, 0)
    await _running_line(editor, uri, SLEEP_LINE)
    seen = len(_statuses(editor, uri))
    assert await _interrupt_until_it_runs(editor, uri) == {
        "interrupted": True,
        "stateLost": True,
    }
    ended = await editor.wait_for(
        lambda: [
            s
            for s in _statuses(editor, uri, seen)
            if s["state"] != "running" and s["message"] != methods.FOLLOWING
        ],
        "the status after the interrupt",
    )
    state, message = ended[-1]["state"], ended[-1]["message"]
    assert state == "idle" and message.startswith(methods.FOLLOWING), ended
    assert message.endswith(f"; {methods.RESTARTED}"), ended
    assert methods.INTERRUPTED not in message, ended


async def test_a_stop_says_whether_it_interrupted_code(editor: Editor, tmp_path: Path) -> None:
    """eager.stop's answer: the code it was running was interrupted (the interrupt landed: the
    interpreter keeps its variables); a stop between runs interrupted nothing."""
    uri = editor.open("stop.py", "kept = 7\nimport time\ntime.sleep(60)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, 2)
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": True,
        "interrupted": True,
        "stateLost": False,
    }
    summary = await editor.summary(uri)
    assert (summary["stoppedEarly"], summary["error"]) == (True, None), summary
    assert _status_with_summary(editor, uri) == ("idle", methods.STOPPED)
    error = _error_at(editor, uri, 2)
    assert (error["type"], error["byUser"]) == ("KeyboardInterrupt", True), error
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": False,
        "interrupted": False,
        "stateLost": False,
    }


@pytest.mark.settings(GRACE)
async def test_a_stop_of_a_document_run_that_had_to_kill_says_so(
    editor: Editor, tmp_path: Path
) -> None:
    """eager.stop of eager.runDocument whose statement ignores the interrupt: the interpreter is
    killed, and the answer, the status and the statement say so. (The run was cancelled: the
    killed statement showed nothing, the status said `stopped` and the answer nothing, while
    `kept` was gone.)"""
    uri = editor.open("deaf.py", DEAF, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, SLEEP_LINE)
    assert await editor.command(methods.STOP, uri=uri) == {
        "stopped": True,
        "interrupted": True,
        "stateLost": True,
    }
    summary = await editor.summary(uri)
    assert (summary["stoppedEarly"], summary["error"], summary["chunks"]) == (True, None, 3)
    assert _status_with_summary(editor, uri) == ("idle", methods.RESTARTED)
    error = _error_at(editor, uri, SLEEP_LINE)
    assert (error["type"], error["stateLost"], error["byUser"]) == ("InterpreterLost", True, True)
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].severity == lsp.DiagnosticSeverity.Information, diags
    await asyncio.sleep(0.3)
    assert _warnings(editor) == [], _warnings(editor)
