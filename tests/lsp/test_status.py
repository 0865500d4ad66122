"""A status that tells the truth: counts of done / running / pending statements, the provider
and model in use, a stop summary that counts what ran, `error` cleared when the failing line
goes, and no hints left on an emptied file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from eager_lsp.lsp.generation import STATUS_INTERVAL_S
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor


def _statuses(editor: Editor, uri: str) -> list[dict]:
    return editor.notes_for(methods.STATUS, uri)


async def test_run_status_counts_running_pending_and_done(editor: Editor, tmp_path: Path) -> None:
    text = "import time\nfor _ in range(3):\n    time.sleep(0.01)\na = 1\nb = 2\n"
    uri = editor.open("counts.py", text, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    statuses = _statuses(editor, uri)
    last = statuses[-1]
    assert last["state"] == "idle"
    assert (last["chunksDone"], last["chunksRunning"], last["chunksPending"]) == (4, 0, 0)
    assert last["chunksTotal"] == 4
    # Each statement was seen running (its exec_start comes before its result).
    assert any(s["state"] == "running" and s.get("chunksRunning") == 1 for s in statuses)
    for s in statuses:
        if "chunksTotal" in s:
            done, running, pending = s["chunksDone"], s["chunksRunning"], s["chunksPending"]
            assert done + running + pending == s["chunksTotal"], s
    # Which model a generation would use.
    assert last["provider"] == "openai" and last["model"] == "fake", last


async def test_a_stopped_generation_counts_what_ran(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    code = "".join(f"v{i} = {i}\n" for i in range(200))
    fake_openai.enqueue(text=code, chunk_chars=4, delay=0.02)
    uri = editor.open("stopped.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="slow")
    await editor.wait_for(
        lambda: len(editor.notes_for(methods.CHUNK_RESULT, uri)) >= 4, "four results"
    )
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    shown = len(editor.notes_for(methods.CHUNK_RESULT, uri))
    assert summary["chunks"] >= 4 and summary["chunks"] >= shown, (summary, shown)
    assert summary["elapsedS"] > 0, summary


async def test_error_status_goes_when_the_failing_line_goes(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("undo.py", "x = 1\ny = x / 0\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert _statuses(editor, uri)[-1]["state"] == "error"
    editor.replace(uri, (1, 0), (2, 0), "")  # the failing line is deleted (or undone)
    await editor.wait_for(lambda: _statuses(editor, uri)[-1]["state"] == "idle", "idle")
    await editor.settle(uri, lambda ds: not ds)


async def test_an_emptied_file_keeps_no_hints(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("empty.py", "x = 1\ny = 2\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert await editor.hint_labels(uri) == {0: "x = 1", 1: "y = 2"}
    editor.replace(uri, (0, 0), (2, 0), "")  # select all, delete
    assert editor.docs[uri].source == ""
    for _ in range(100):
        if not await editor.hint_labels(uri):
            break
        await asyncio.sleep(0.05)
    assert await editor.hint_labels(uri) == {}
    stale = editor.notes_for(methods.STALE, uri)
    assert stale and stale[-1]["fromLine"] == 0, stale


async def test_follow_is_running_only_while_something_runs(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("follow.py", "a = 1\nb = 2\n", tmp_path)
    await editor.command(methods.FOLLOW, uri=uri, enabled=True)
    await editor.wait_for(
        lambda: len(editor.notes_for(methods.CHUNK_RESULT, uri)) == 2, "the document to run"
    )
    await editor.wait_for(
        lambda: _statuses(editor, uri)[-1]["state"] == "idle", "idle while following"
    )
    assert _statuses(editor, uri)[-1]["message"] == "following"
    assert any(s["state"] == "running" for s in _statuses(editor, uri))
    await asyncio.sleep(0.3)  # nothing more arrives: it stays idle
    assert _statuses(editor, uri)[-1]["state"] == "idle"


def _local_extra_installed() -> bool:
    """The default bundled model's packages (`.[local]`, which the test command installs)."""
    import importlib.util

    from eager_lsp.providers.local_model import PART_MODULES

    return all(importlib.util.find_spec(m) is not None for m in ("xllamacpp", *PART_MODULES))


@pytest.mark.model
@pytest.mark.skipif(not _local_extra_installed(), reason="the `local` extra is not installed")
@pytest.mark.settings({"llm": {"provider": "local", "maxTokens": 24}})
async def test_the_local_model_start_is_reported_every_second(
    editor: Editor, tmp_path: Path
) -> None:
    if editor.kind != "neovim":
        pytest.skip("one client is enough: this starts the real local model (15-25 s)")
    uri = editor.open("local.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="print the sum of 1 and 2")
    await editor.summary(uri)
    messages = [s.get("message") for s in _statuses(editor, uri) if s["state"] == "generating"]
    assert "starting the local model… (0 s)" in messages, messages
    assert "starting the local model… (1 s)" in messages, messages
    first = next(s for s in _statuses(editor, uri) if s["state"] == "generating")
    assert first["provider"] == "local" and first["model"].startswith("Qwen2.5-Coder-1.5B"), first


async def test_a_generation_reports_at_its_start_while_it_streams_and_at_its_end(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The status and the progress bar as a generation goes: "generating" with 0 tokens
    first; while it streams, counts that only grow, at most one status per
    `STATUS_INTERVAL_S` (they are considered for every piece and every result, and were once
    sent for most of them); "idle" last with every token; progress begin, reports, end."""
    code = "".join(f"v{i} = {i}\n" for i in range(12))
    fake_openai.enqueue(text=code, chunk_chars=4, delay=0.03)
    uri = editor.open("reports.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="go")
    summary = await editor.summary(uri)
    assert summary["chunks"] == 12, summary
    statuses = _statuses(editor, uri)
    assert statuses[0]["state"] == "generating" and statuses[0]["tokens"] == 0, statuses[0]
    streaming = [s for s in statuses if s["state"] == "generating" and s["tokens"] > 0]
    # A rate once the stream has run a while (~0.6 s here), never one from its first moments
    # (a status microseconds after the first piece once said 422,119 tok/s): ~33 pieces/s.
    rates = [s["tokensPerSecond"] for s in streaming if "tokensPerSecond" in s]
    assert streaming and rates and all(0 < r < 1000 for r in rates), streaming
    tokens = [s["tokens"] for s in streaming]
    assert tokens == sorted(tokens) and tokens[-1] <= summary["tokens"], tokens
    # 12 results and ~22 pieces; a status for most of them would be far over this bound
    assert len(streaming) <= summary["elapsedS"] / STATUS_INTERVAL_S + 2, (summary, streaming)
    last = statuses[-1]
    assert last["state"] == "idle" and last["tokens"] == summary["tokens"], last
    assert last["chunksDone"] == last["chunksTotal"] == 12, last
    (values,) = [v for v in editor.client.progress_reports.values() if v]
    kinds = [type(v).__name__ for v in values]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd", kinds
    reports = [v.message for v in values[1:-1]]
    assert reports and all(m.endswith(" statements run") for m in reports), reports
    assert values[-1].message == "done"


async def test_the_status_names_the_model_of_the_settings_now(
    editor: Editor, tmp_path: Path
) -> None:
    """The provider and model in a status are worked out once per settings (a status goes
    out every few tokens), so a settings change must show in the next status."""
    uri = editor.open("model.py", "a = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    assert _statuses(editor, uri)[-1]["model"] == "fake"
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"eager": {"llm": {"model": "another"}}})
    )
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri, 2)
    assert _statuses(editor, uri)[-1]["model"] == "another"


async def test_a_generation_whose_model_is_done_says_running_while_its_code_runs(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Once the model's text is all in, a statement still running makes the status `running`
    (no token rate): it said `generating 16 tok/s` for as long as the statement slept."""
    fake_openai.enqueue(text="import time\nx = 1\ntime.sleep(1.5)\ny = 2\n", chunk_chars=4)
    uri = editor.open("late.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="sleep")
    await editor.summary(uri)
    states = [n["state"] for n in editor.notes_for(methods.STATUS, uri)]
    assert "running" in states, states
    after = states[states.index("running") :]
    assert "generating" not in after and after[-1] == "idle", states
    running = next(n for n in editor.notes_for(methods.STATUS, uri) if n["state"] == "running")
    assert running["tokens"] > 0 and "tokensPerSecond" not in running, running
