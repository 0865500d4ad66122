"""`eager-lsp bench` with arguments it cannot use: one line on stderr and exit 2, before any
benchmark starts (real `eager-lsp` processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", "bench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_an_out_dir_that_cannot_be_made_is_one_line(tmp_path: Path, where: str) -> None:
    (tmp_path / "outfile.txt").write_text("kept\n")
    out = "outfile.txt" if where == "file" else "outfile.txt/sub"
    done = bench("--quick", "--out", out, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"eager-lsp: cannot use {out} for the results: "), line
    assert (tmp_path / "outfile.txt").read_text() == "kept\n"


def test_an_unknown_workload_lists_the_names(tmp_path: Path) -> None:
    """A workload's file name (what `ls workloads/` shows) is not its name: the message lists
    the names, and says which one that file is."""
    done = bench("--workload", "exec_sleep_io", "--out", "o", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("eager-lsp: unknown workload exec_sleep_io ("), line
    assert "exec_sleep_io.py is workload wait-sleep" in line
    assert "choose from gen-stats, " in line and "wait-sleep" in line and "he-96" in line
    assert not (tmp_path / "o").exists()  # nothing was begun
