"""The command line as a new user meets it: --version, defaults in --help, and --model
without an endpoint refused with a way out (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from eager_lsp import __version__


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version(tmp_path: Path) -> None:
    out = cli("--version", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"eager-lsp {__version__}"


def test_help_shows_defaults(tmp_path: Path) -> None:
    run = cli("run", "--help", cwd=tmp_path).stdout
    assert "(default: 50.0)" in run and "(default: safe)" in run and "(default: 4)" in run, run
    assert "(default: False)" not in run and "(default: None)" not in run, run
    gen = " ".join(cli("generate", "--help", cwd=tmp_path).stdout.split())
    assert "(default: auto)" in gen and "(default: 1024)" in gen and "(default: 0)" in gen, gen
    assert "(default: qwen2.5-coder-1.5b)" in gen and "(default: 60)" in gen, gen
    assert gen.count("(default") == gen.count("(default:"), gen  # no bare "(default)" besides


def test_an_empty_file_says_there_is_nothing_to_run(tmp_path: Path) -> None:
    for text in ("\n  \n", "# only a comment\n\n   # and another\n"):
        src = tmp_path / "empty.py"
        src.write_text(text)
        out = cli("run", str(src), cwd=tmp_path)
        assert out.returncode == 0 and "has no code: nothing to run" in out.stderr, out
        assert out.stdout == "", out.stdout


def test_model_without_an_endpoint_is_an_error(tmp_path: Path) -> None:
    out = cli("generate", "print 1", "--model", "gpt-4o-mini", "--no-debug", cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--model gpt-4o-mini names a model of an OpenAI-compatible endpoint" in out.stderr
    assert "--base-url" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_negative_rates_and_a_zero_polling_interval_are_refused(tmp_path: Path) -> None:
    """`--rate -1` used to be taken; `watch --interval 0` polled in a busy loop at 100 % CPU."""
    src = tmp_path / "a.py"
    src.write_text("a = 1\n")
    for args, what in (
        (("run", "--rate", "-1", str(src)), "--rate: must be a number of at least 0"),
        (("run", "--rate", "nan", str(src)), "--rate: must be a number of at least 0"),
        (("watch", str(src), "--interval", "0"), "--interval: must be a number of at least 0.01"),
        (("run", "--rate", "fast", str(src)), "--rate: not a number: 'fast'"),
    ):
        out = cli(*args, cwd=tmp_path)
        assert out.returncode == 2 and what in out.stderr, (args, out.stderr)
