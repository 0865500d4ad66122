"""The command's own output where stdout cannot take it: an encoding without '→' or '…', a
full disk, a closed descriptor.

Each printed a raw traceback ("a run's listener raised" and a UnicodeEncodeError on '→'; two
tracebacks for /dev/full and `>&-`), and `generate > /dev/full` blamed the model ("the model
stream broke … No space left on device"). Real `eager-lsp` processes, real workers, the fake
OpenAI server on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.slow

ENCODINGS = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "C locale": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": None},
}


def _env(extra: dict[str, str | None]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = "sk-test"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _cli(
    *args: str, cwd: Path, env: dict[str, str], shell_redirect: str = ""
) -> tuple[int, str, str]:
    """Exit status, stdout and stderr (decoded leniently: the encoding is what is tested)."""
    argv = [sys.executable, "-m", "eager_lsp", *args]
    if shell_redirect:
        cmd = " ".join(f"'{a}'" for a in argv) + " " + shell_redirect
        proc = subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env, capture_output=True, timeout=120)
    else:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=120)
    out = proc.stdout.decode("utf-8", "replace")
    return proc.returncode, out, proc.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_run_prints_in_an_encoding_without_its_own_characters(
    tmp_path: Path, encoding: str
) -> None:
    """'→' (a value), '…' (a cut) and the script's own 'café' cannot be encoded: they are
    replaced, and the run is the run (status 0, its summary)."""
    (tmp_path / "asc.py").write_text(
        'print("plain ascii script")\nx = 1\nx + 1\nprint("caf\\u00e9 " + "y" * 300)\n'
    )
    code, out, err = _cli(
        "run", "--rate", "0", "--no-debug", "asc.py", cwd=tmp_path, env=_env(ENCODINGS[encoding])
    )
    assert code == 0, out + err
    assert "plain ascii script" in out and "chunks ran" in out, out
    assert "] L3      -> 2 (" in out, out  # (an ASCII stand-in for '→')
    assert "Traceback" not in err and "listener raised" not in err, err


@pytest.mark.parametrize("encoding", ["ascii", "C locale"])
def test_generate_prints_in_an_encoding_without_its_own_characters(
    tmp_path: Path, encoding: str
) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 6 * 7\nx\nprint('caf\\u00e9')\n")
        code, out, err = _cli(
            "generate", "do it", "--base-url", srv.url, "--model", "fake", "--no-debug",
            cwd=tmp_path, env=_env(ENCODINGS[encoding]),
        )  # fmt: skip
    assert code == 0, out + err
    assert "x = 6 * 7" in out and "chunks ran" in out, out
    assert "Traceback" not in err and "broke" not in err, err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"])
def test_run_whose_stdout_cannot_be_written_says_so_in_one_line(
    tmp_path: Path, redirect: str
) -> None:
    (tmp_path / "asc.py").write_text('print("plain ascii script")\nx = 1\n')
    code, _, err = _cli(
        "run", "--rate", "0", "--no-debug", "asc.py",
        cwd=tmp_path, env=_env({}), shell_redirect=redirect,
    )  # fmt: skip
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("eager-lsp: cannot write to stdout: "), err
    why = "No space left on device" if "full" in redirect else "it is closed"
    assert why in err, err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_generate_into_a_full_disk_does_not_blame_the_model(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 6 * 7\nprint(x)\n")
        code, _, err = _cli(
            "generate", "do it", "--base-url", srv.url, "--model", "fake", "--no-debug",
            cwd=tmp_path, env=_env({}), shell_redirect="> /dev/full",
        )  # fmt: skip
    assert code == 1, err
    assert err == "eager-lsp: cannot write to stdout: No space left on device\n", err
