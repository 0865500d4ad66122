"""The executed code's interpreter may be older than the server's (`execution.python`, a
project's venv): the worker, zygote included, runs on Python 3.8+ (stdlib only, no newer
syntax or runtime generics). It used to crash at import on 3.8 (`tuple[...]` at module level)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _oldest_python() -> str | None:
    """A real Python 3.8 or 3.9 (pyenv's shims exist but may refuse to run: asked for its
    sys.executable)."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[89].*/bin/python")))
    found += [p for p in (shutil.which(f"python3.{minor}") for minor in (8, 9)) if p]
    for candidate in found:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip():
            return probe.stdout.strip()
    return None


OLD = _oldest_python()


@pytest.mark.skipif(OLD is None, reason="no Python 3.8 or 3.9 on this machine to run the worker")
@pytest.mark.parametrize("gate", ["eager", "parallel"])
@pytest.mark.parametrize("debug", [False, True])
def test_code_runs_and_errors_map_on_an_older_interpreter(
    tmp_path: Path, debug: bool, gate: str
) -> None:
    assert OLD is not None
    version = subprocess.run(
        [OLD, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    src = tmp_path / "old.py"
    src.write_text("import sys\nx = 6 * 7\nprint('ran on', sys.version_info[:2], x)\ny = x / 0\n")
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--rate", "0", "--python", OLD, str(src)]
        + ["--gate", gate]
        + (["--debug"] if debug else ["--no-debug"]),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "server")},
    )
    assert f"ran on {version} 42" in out.stdout, out.stdout + out.stderr
    assert "ZeroDivisionError: division by zero at line 4" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr, out.stderr


def test_an_interpreter_that_cannot_start_is_one_clear_line(tmp_path: Path) -> None:
    src = tmp_path / "a.py"
    src.write_text("a = 1\n")
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--python", "/bin/false", str(src)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "server")},
    )
    assert out.returncode == 1, out.stderr
    assert "eager-lsp: the interpreter is not usable: worker failed to start" in out.stderr
    assert "Traceback" not in out.stderr, out.stderr
