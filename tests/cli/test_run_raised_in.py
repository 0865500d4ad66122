"""`eager-lsp run` on an error raised outside the script (a module it imports): the result
line names where it was raised, and `--json` carries the traceback (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MOD2 = 'def f(d):\n    x = 1\n    return d["k"]\n'
M3 = 'import sys\nsys.path.insert(0, "sub")\nimport mod2\nd = {}\nmod2.f(d)\n'


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def script(tmp_path: Path, text: str = M3) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mod2.py").write_text(MOD2)
    (tmp_path / "sub" / "m3.py").write_text(text)


def test_the_result_line_names_where_it_was_raised(tmp_path: Path) -> None:
    script(tmp_path)
    done = run("sub/m3.py", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    (line,) = [ln for ln in done.stdout.splitlines() if " L5 " in ln]
    assert "KeyError: 'k' at line 5 (raised in sub/mod2.py:3) (" in line, line


def test_json_results_carry_the_traceback(tmp_path: Path) -> None:
    script(tmp_path)
    done = run("--json", "sub/m3.py", cwd=tmp_path)
    chunks = json.loads(done.stdout)["chunks"]
    assert [c["traceback"] for c in chunks[:-1]] == [None] * 4
    tb = chunks[-1]["traceback"]
    assert tb.startswith("Traceback (most recent call last):\n")
    assert f'File "{tmp_path / "sub" / "mod2.py"}", line 3, in f' in tb
    assert tb.rstrip().endswith("KeyError: 'k'")


def test_an_error_raised_in_the_script_names_no_other_place(tmp_path: Path) -> None:
    """Raised in the script itself (in a function it defines, called through a module): its
    line says where already."""
    text = 'import sys\nsys.path.insert(0, "sub")\nimport mod2\ndef g(k):\n    return {}[k]\nmod2.h(g)\n'
    script(tmp_path, text)
    (tmp_path / "sub" / "mod2.py").write_text("def h(fn):\n    return fn('k')\n")
    done = run("sub/m3.py", cwd=tmp_path)
    lines = [ln for ln in done.stdout.splitlines() if "KeyError" in ln]
    assert lines and all("raised in" not in ln for ln in lines), done.stdout
    assert "KeyError: 'k' at line 5 (" in lines[0], lines
