"""Interpreter commands, results kept in step with edits, settings, and shutdown."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods

from .conftest import WAIT_S, Editor
from .test_repair import _code_actions


async def test_interrupt_stops_a_runaway_statement_and_keeps_state(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("loop.py", "kept = 7\nwhile True:\n    pass\nafter = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(
        lambda: any(
            n["chunk"]["startLine"] == 0 for n in editor.notes_for(methods.CHUNK_RESULT, uri)
        ),
        "the first statement",
    )
    result = await editor.command(methods.INTERRUPT, uri=uri)
    assert result == {"interrupted": True, "stateLost": False}
    summary = await editor.summary(uri)
    assert summary["error"].startswith("KeyboardInterrupt")
    # The user stopped it: the status says so, it is no error of the code.
    last = editor.notes_for(methods.STATUS, uri)[-1]
    assert (last["state"], last["message"]) == ("idle", "interrupted"), last
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line in (1, 2)
    # nothing for a model to fix: no "Fix with AI" on the interrupt
    assert await _code_actions(editor, uri, diags.diagnostics[0]) == []
    assert await editor.command(methods.INTERRUPT, uri=uri) == {
        "interrupted": False,
        "stateLost": False,
    }


@pytest.mark.settings({"execution": {"interruptGraceSeconds": 0.5}})
async def test_an_interrupt_that_does_not_land_kills_and_says_state_is_lost(
    editor: Editor, tmp_path: Path
) -> None:
    code = "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass\n"
    uri = editor.open("stubborn.py", code, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(
        lambda: editor.notes_for(methods.CHUNK_RESULT, uri), "the import to have run"
    )
    # Until the loop runs: an interrupt that comes as the import's batch ends reaches no
    # statement, and says so ("interrupted": False) rather than claiming it stopped something.
    nothing = {"interrupted": False, "stateLost": False}
    for _ in range(600):
        answer = await editor.command(methods.INTERRUPT, uri=uri)
        if answer != nothing:
            break
        await asyncio.sleep(0.1)
    assert answer == {"interrupted": True, "stateLost": True}
    await editor.summary(uri)
    last = editor.notes_for(methods.STATUS, uri)[-1]
    # what is true at the end: the interpreter was killed and replaced
    assert (last["state"], last["message"]) == ("idle", "interpreter restarted"), last
    editor.replace(uri, (0, 0), (6, 0), "fresh = 1\n")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert (await editor.summary(uri, 2))["error"] is None


async def test_restart_gives_a_fresh_interpreter(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("restart.py", "a = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    assert await editor.hint_labels(uri) == {}  # results of the old interpreter are gone
    editor.replace(uri, (0, 0), (1, 0), "b = 2\n")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert (await editor.summary(uri, 2))["error"] is None


async def _running_line(editor: Editor, uri: str, line: int, after: int = 0) -> None:
    """Wait for a status (the `after`-th on) saying the statement at `line` runs."""
    await editor.wait_for(
        lambda: any(
            s["state"] == "running" and line in s.get("runningLines", [])
            for s in editor.notes_for(methods.STATUS, uri)[after:]
        ),
        f"line {line} to run",
    )


async def test_a_run_stopped_by_a_new_run_or_a_restart_is_no_error(
    editor: Editor, tmp_path: Path
) -> None:
    """Running the document again, or restarting the interpreter, while it runs stops the run:
    its summary is a stop (`stoppedEarly`, no `error`: clients said "stopped early after 2.1 s
    (stopped)"), and no status says `error`."""
    uri = editor.open("again.py", "import time\nwhile True:\n    time.sleep(0.01)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _running_line(editor, uri, 1)
    seen = len(editor.notes_for(methods.STATUS, uri))
    await editor.command(methods.RUN_DOCUMENT, uri=uri)  # again, while it runs
    first = await editor.summary(uri)
    assert (first["stoppedEarly"], first["error"]) == (True, None), first
    await _running_line(editor, uri, 1, after=seen)
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    second = await editor.summary(uri, 2)
    assert (second["stoppedEarly"], second["error"]) == (True, None), second
    statuses = editor.notes_for(methods.STATUS, uri)
    assert not [s for s in statuses if s["state"] == "error"], statuses
    assert (statuses[-1]["state"], statuses[-1]["message"]) == ("idle", "interpreter restarted")


async def test_a_restart_clears_the_error_status(editor: Editor, tmp_path: Path) -> None:
    """A restart drops the results, the failing one with them: the status says so, it does not
    stay at the error that is gone."""
    uri = editor.open("failing.py", "x = 1 / 0\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert editor.notes_for(methods.STATUS, uri)[-1]["state"] == "error"
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    last = await editor.wait_for(
        lambda: (s := editor.notes_for(methods.STATUS, uri)[-1])["state"] == "idle" and s,
        "the status after the restart",
    )
    assert last["message"] == "interpreter restarted", last


async def test_debug_attach_info_is_null_when_debugging_is_off(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("nodebug.py", "", tmp_path)
    assert await editor.command(methods.DEBUG_ATTACH_INFO, uri=uri) is None


@pytest.mark.settings({"debug": {"enabled": True}})
async def test_debug_attach_info_points_at_a_listening_debugpy(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("debug.py", "", tmp_path)
    info = await editor.command(methods.DEBUG_ATTACH_INFO, uri=uri)
    assert info["host"] == "127.0.0.1" and isinstance(info["port"], int)
    with socket.create_connection((info["host"], info["port"]), timeout=10):
        pass


async def test_results_follow_edits_and_go_stale(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("edits.py", "a = 1\nb = a / 0\nc = 3\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)

    editor.type(uri, 0, 0, "# a comment above\n")  # everything moves down one line
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 2
    assert await editor.hint_labels(uri) == {1: "a = 1"}

    editor.replace(uri, (2, 8), (2, 9), "2")  # the failing statement changes
    await editor.settle(uri, lambda ds: not ds)
    stale = editor.notes_for(methods.STALE, uri)
    assert stale[-1]["fromLine"] == 2 and stale[-1]["toLine"] == 2


async def test_inline_values_are_answered(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("inline.py", "x = 40 + 2\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    values = await editor.client.text_document_inline_value_async(
        lsp.InlineValueParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(1, 0)),
            context=lsp.InlineValueContext(
                frame_id=1, stopped_location=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
            ),
        )
    )
    assert [(v.range.start.line, v.text) for v in values or []] == [(0, "x = 42")]


async def test_long_values_are_truncated_with_the_full_value_in_the_tooltip(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("long.py", "s = 'ab' * 200\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    (hint,) = await editor.hints(uri)
    assert isinstance(hint.label, str) and len(hint.label) <= 80 and hint.label.endswith("…")
    assert isinstance(hint.tooltip, lsp.MarkupContent) and "abab" in hint.tooltip.value


async def test_non_ascii_text_keeps_positions_right(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("unicode.py", "s = 'héllo 😀'\nn = len(s)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    hints = await editor.hints(uri)
    doc = editor.docs[uri]
    ends = {h.position.line: h.position.character for h in hints}
    assert ends[0] == doc.text.end_of_line(0).character  # in the negotiated encoding
    assert ends[1] == len("n = len(s)")


@pytest.mark.settings({"execution": {"startOnOpen": False, "gate": "sideways"}})
async def test_lazy_start_and_bad_settings(editor: Editor, tmp_path: Path) -> None:
    assert any("execution.gate" in m for m in editor.messages())
    uri = editor.open("lazy.py", "x = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert (await editor.summary(uri))["error"] is None


async def _pull_max_length_10(editor: Editor, tmp_path: Path, name: str) -> str:
    """`inline.maxLength` 10 in the editor's settings, announced without settings (the server
    pulls them, as from VS Code), then a document with a long value run; its uri."""
    settings = editor.client.get_configuration(section=methods.SETTINGS_SECTION)
    settings["inline"] = {"maxLength": 10}
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None)
    )
    uri = editor.open(name, "value = 'a fairly long string'\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    return uri


@pytest.mark.settings({"llm": {"maxTokens": -5}})
async def test_a_bad_setting_is_reported_once(editor: Editor, tmp_path: Path) -> None:
    """The same settings come from initializationOptions, from the pull after `initialized`
    and from every later change: each warned again (a newcomer helper saw two at start-up).
    And `llm.maxTokens` is checked with the others, not first by the model server."""
    uri = await _pull_max_length_10(editor, tmp_path, "once.py")
    assert len((await editor.hint_labels(uri))[0]) <= 10  # the change was pulled and applied
    warned = [m for m in editor.messages() if "llm.maxTokens" in m]
    assert len(warned) == 1, editor.messages()
    assert "must be a whole number ≥ 1, not -5" in warned[0]


async def test_configuration_changes_apply(editor: Editor, tmp_path: Path) -> None:
    # Pulled (the way VS Code does it): the notification carries no settings.
    uri = await _pull_max_length_10(editor, tmp_path, "cfg.py")
    labels = await editor.hint_labels(uri)
    assert len(labels[0]) <= 10

    # Pushed (settings in the notification, as some clients do).
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"eager": {"inline": {"maxLength": 200}}})
    )
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri, 2)
    labels = await editor.hint_labels(uri)
    assert labels[0] == "value = 'a fairly long string'"


async def test_shutdown_ends_every_interpreter(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("pid.py", "import os\npid = os.getpid()\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    pid = int((await editor.hint_labels(uri))[1].split(" = ")[1])
    os.kill(pid, 0)  # alive
    await editor.client.shutdown_async(None)
    editor.client.exit(None)
    editor.client.capabilities = None  # the fixture must not shut down a second time
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while _alive(pid):
        assert loop.time() < deadline, "the interpreter outlived shutdown"
        await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by the server) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.settings({"execution": {"python": "/nonexistent/python3", "startOnOpen": False}})
async def test_a_run_whose_interpreter_cannot_start_says_so(
    editor: Editor, fake_openai: Any, tmp_path: Path
) -> None:
    """Nothing was stopped: the summary is not `stoppedEarly` (clients said "stopped early
    after 0.0 s"); its `error` says the interpreter could not start, and why."""
    fake_openai.enqueue(text="x = 1\n")
    uri = editor.open("nopython.py", "x = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.command(methods.GENERATE, uri=uri, prompt="x")
    for n in (1, 2):
        summary = await editor.summary(uri, n)
        assert summary["stoppedEarly"] is False, summary
        error = summary["error"] or ""
        assert "could not start the Python interpreter" in error, summary
        assert "/nonexistent/python3" in error, summary  # why


SLOW_PYTHON = Path(tempfile.gettempdir()) / f"eager-test-slow-python-{os.getuid()}.sh"


@pytest.mark.settings({"execution": {"python": str(SLOW_PYTHON), "startOnOpen": False}})
async def test_a_run_stopped_while_its_interpreter_starts_ends_as_a_stop(
    editor: Editor, tmp_path: Path
) -> None:
    """eager.stop while the interpreter is still starting (a slow `execution.python`): the run
    still ends with a status and a summary (it sent neither: the editors waited on it)."""
    SLOW_PYTHON.write_text(f'#!/bin/sh\nsleep 3\nexec {sys.executable} "$@"\n')
    SLOW_PYTHON.chmod(0o755)
    uri = editor.open("slow.py", "x = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await asyncio.sleep(0.3)
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert (summary["stoppedEarly"], summary["error"], summary["chunks"]) == (True, None, 0)
    last = editor.notes_for(methods.STATUS, uri)[-1]
    assert (last["state"], last.get("message")) == ("idle", methods.STOPPED), last
