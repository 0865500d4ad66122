"""`eager-lsp bench --quick` as CI runs it: it must finish and write its files.

No number is compared with a threshold here: timings depend on the machine, and the goals
are read in docs/benchmarks.md, not asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

RUN_KEYS = {
    "workload",
    "regime",
    "source",
    "rate",
    "rep",
    "mode",
    "e2e_s",
    "last_token_s",
    "non_overlapped_s",
    "bound_s",
    "exec_total_s",
    "overhead_ms",
    "time_to_error_s",
    "tokens_saved",
    "chunks",
    "server_maxrss_kb",
}


def _command() -> list[str]:
    exe = shutil.which("eager-lsp", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "eager_lsp"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_bench_writes_results_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        [*_command(), "bench", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=230,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "goals:" in proc.stdout

    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["plan"]["quick"] is True
    assert {"nproc", "cpu", "python"} <= set(results["meta"]["machine"])
    names = {w["name"] for w in results["workloads"]}
    assert names, "no workload ran"

    runs = results["runs"]
    modes = {r["mode"] for r in runs}
    assert {"serial", "serial-warm", "eager-safe", "eager-eager", "jupyter"} <= modes
    for run in runs:
        assert set(run) >= RUN_KEYS, sorted(RUN_KEYS - set(run))
        assert run["e2e_s"] > 0
    pipelined = [r for r in runs if r["mode"] == "eager-safe"]
    assert all("efficiency" in r for r in pipelined)
    failing = [r for r in runs if r["regime"] == "failing"]
    assert all(r["error"] for r in failing)

    assert results["summary"] and results["goals"]
    assert results["roundtrip"].get("kernel")
    assert results["detector"]["by_length"]
    assert set(results["debug_cost"]["configs"]) == {"off", "default", "listening", "attached"}
    assert set(results["memory"]) == names

    plots = [Path(p) for p in results["plots"]]
    assert any(p.name.startswith("timeline-") for p in plots)
    assert any(p.name == "e2e-by-rate.png" for p in plots)
    for p in plots:
        assert p.is_file() and p.stat().st_size > 1000
    for name in ("table.txt", "tables.md"):
        assert (out / name).stat().st_size > 0


def test_an_unknown_mode_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """`--modes foo` named no mode: it ran nothing and failed with ZeroDivisionError (a newcomer)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "bench",
            "--modes",
            "foo,serial",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "unknown mode foo (choose from serial," in out.stderr, out.stderr
    assert not (tmp_path / "results.json").exists()
