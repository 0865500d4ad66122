"""Gate `parallel` in the editor: the status lists the statements running at the same time
(`runningLines`), and each result says which statements ran alongside it
(`timings.parallelWith`), so the results view can show it."""

from __future__ import annotations

from pathlib import Path

import pytest

from eager_lsp.lsp import methods

from .conftest import Editor

WAITS = (
    "import time\n"
    "def call(i):\n    time.sleep(0.6)\n    return i\n"
    "a = call(1)\n"  # line 4 (0-based)
    "b = call(2)\n"  # 5
    "c = call(3)\n"  # 6
    "total = a + b + c\n"  # 7: waits for all three
)


@pytest.mark.settings({"execution": {"gate": "parallel"}})
async def test_status_and_results_show_statements_running_in_parallel(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("waits.py", WAITS, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    statuses = editor.notes_for(methods.STATUS, uri)
    assert any(s.get("runningLines") == [4, 5, 6] for s in statuses), statuses
    assert statuses[-1]["state"] == "idle" and statuses[-1]["runningLines"] == []
    results = {r["chunk"]["startLine"]: r for r in editor.notes_for(methods.CHUNK_RESULT, uri)}
    assert results[4]["timings"]["parallelWith"] == [5, 6]
    assert results[5]["timings"]["parallelWith"] == [4, 6]
    assert results[7]["timings"]["parallelWith"] == []
    assert results[7]["values"][0]["summary"] == "6"


async def test_the_default_gate_runs_one_statement_at_a_time(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("waits.py", WAITS.replace("0.6", "0.05"), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    statuses = editor.notes_for(methods.STATUS, uri)
    assert all(len(s.get("runningLines", [])) <= 1 for s in statuses), statuses
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    assert all(r["timings"]["parallelWith"] == [] for r in results)
