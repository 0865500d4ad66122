"""`eager-lsp run` and `eager-lsp generate` end a script as `python script.py` ends it
(app/run.py `at_exit`): a file left open is written, a thread that is no daemon is waited
for, `atexit` functions run, a multiprocessing child is joined, and what they print is shown.
A user tour found all four lost (the worker left by `os._exit`). Real `eager-lsp` processes
and real workers (and for `generate` the fake OpenAI server on 127.0.0.1); each `run` case is
checked against what `python` itself does with the same script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.openai_server import FakeOpenAIServer

SCRIPT = """\
import atexit, multiprocessing, threading, time
f = open({unclosed!r}, "w")
f.write("important data\\n")
def late():
    time.sleep(0.3)
    print("thread done", flush=True)
    open({thread_file!r}, "w").write("thread\\n")
threading.Thread(target=late).start()
def child():
    time.sleep(0.3)
    open({child_file!r}, "w").write("child\\n")
if __name__ == "__main__":
    multiprocessing.Process(target=child).start()
atexit.register(lambda: print("atexit ran"))
print("body")
"""


def _files(tmp: Path) -> dict[str, str]:
    return {
        "unclosed": str(tmp / "u.txt"),
        "thread_file": str(tmp / "t.txt"),
        "child_file": str(tmp / "c.txt"),
    }


def _written(tmp: Path) -> list[str]:
    return [
        (tmp / n).read_text() if (tmp / n).exists() else "" for n in ("u.txt", "t.txt", "c.txt")
    ]


def test_a_script_ends_as_python_ends_it(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "python"
    for where in (ours, theirs):
        where.mkdir()
        (where / "s.py").write_text(SCRIPT.format(**_files(where)))
    python = subprocess.run(
        [sys.executable, "s.py"], cwd=theirs, capture_output=True, text=True, timeout=60
    )
    assert python.returncode == 0, python.stderr
    run = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", "--rate", "0", "s.py"],
        cwd=ours,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert _written(theirs) == ["important data\n", "thread\n", "child\n"]
    assert _written(ours) == _written(theirs)
    out = run.stdout
    assert "exit    at exit" in out, out
    # what the ending printed comes after the script's own output, before the summary
    assert out.index("out| body") < out.index("out| thread done") < out.index("out| atexit ran")
    assert out.index("out| atexit ran") < out.index("chunks ran")


def test_the_json_summary_carries_what_the_ending_printed(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text('import atexit\natexit.register(print, "bye")\n')
    run = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", "--json", "--rate", "0", "s.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["at_exit"] == {"stdout": "bye\n", "stderr": "", "error": None}


GENERATED = """\
import atexit
f = open("u.txt", "w")
f.write("important data\\n")
atexit.register(lambda: print("atexit ran"))
print("body")
"""


def _generate(srv: FakeOpenAIServer, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = "sk-test"
    argv = ["generate", "write it", "--base-url", srv.url, "--model", "fake", "--no-debug"]
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", *argv, *extra],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_generated_script_ends_as_python_ends_it(tmp_path: Path) -> None:
    """`generate` left its script as `run` used to: the file it wrote but did not close stayed
    empty, and its `atexit` print never happened."""
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=GENERATED)
        out = _generate(srv, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "u.txt").read_text() == "important data\n"
    text = out.stdout
    assert "exit    at exit" in text, text
    assert text.index("out| body") < text.index("out| atexit ran") < text.index("chunks ran")
    (tmp_path / "u.txt").unlink()
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=GENERATED)
        quiet = _generate(srv, tmp_path, "--json")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert (tmp_path / "u.txt").read_text() == "important data\n"
    ended = json.loads(quiet.stdout)["at_exit"]
    assert ended == {"stdout": "atexit ran\n", "stderr": "", "error": None}
