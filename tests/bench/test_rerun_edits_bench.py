"""`eager-lsp bench --rerun-edits` runs and re-runs what each edit affects (a short load step
here; its timings are printed by the benchmark and read in docs/benchmarks.md, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eager_lsp.bench.rerun_edits import measure

pytestmark = pytest.mark.slow


async def test_the_edits_rerun_what_they_affect() -> None:
    lines: list[str] = []
    record = await measure(load_s=0.05, reps=1, log=lines.append)
    assert record["statements"] == 18
    assert record["late_ran"] == [20]  # `last = ...` only
    assert record["load_ran"] == [5, 6, 7, 8, 9, 10, 11, 12]  # the data and its users
    assert record["load_why"]["5"] == "changed" and record["load_why"]["6"] == "reads `data`"
    assert "full rebuild" in lines[0] and "edit a late statement" in lines[0]


def test_the_command_writes_its_numbers(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "bench",
            "--rerun-edits",
            "--reps",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "edit a late statement" in proc.stdout
    data = json.loads((tmp_path / "rerun_edits.json").read_text())
    assert {"full_s", "late_edit_s", "load_edit_s", "late_fraction", "goal_met"} <= set(data)
