"""`eager-lsp chunks` and `eager-lsp run`, as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chunks_prints_one_json_line_per_released_chunk(tmp_path: Path) -> None:
    src = tmp_path / "a.py"
    src.write_text("x = 1\nif x:\n    y = 2\nelse:\n    y = 3\nprint(y)\n")
    out = cli("chunks", str(src), "--piece-size", "3", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["start_line"], r["end_line"]) for r in rows] == [(1, 1), (2, 5), (6, 6)]
    # the if/else is released only once `print` (the next top-level token) has arrived
    assert rows[1]["released_at_offset"] > len("x = 1\nif x:\n    y = 2\nelse:\n    y = 3\npr")
    assert rows[2]["released_at_offset"] == len(src.read_text())


def test_chunks_reports_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.py"
    src.write_text("a = 1\nb = = 2\nc = 3\n")
    out = cli("chunks", str(src), cwd=tmp_path)
    assert out.returncode == 1
    assert json.loads(out.stdout.splitlines()[0])["start_line"] == 1
    assert len(out.stdout.splitlines()) == 1
    assert f"{src}:2:" in out.stderr and "SyntaxError" in out.stderr


def test_chunks_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    out = cli("chunks", str(tmp_path / "nope.py"), cwd=tmp_path)
    assert out.returncode != 0
    assert "cannot read" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_run_json_shows_execution_overlapping_the_stream(tmp_path: Path) -> None:
    lines = ["total = 0"]
    lines += [f"total += sum(range({i} * 10_000))" for i in range(1, 25)]
    lines += ["print(total)"]
    src = tmp_path / "s.py"
    src.write_text("\n".join(lines) + "\n")
    out = cli("run", "--rate", "40", "--json", "--no-debug", str(src), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert set(summary) >= {"first_token_s", "last_token_s", "done_s", "exec_total_s", "chunks"}
    chunks = summary["chunks"]
    assert len(chunks) == len(lines) and all(c["ok"] for c in chunks)
    first = chunks[0]
    assert set(first) >= {
        "start_line",
        "end_line",
        "released_s",
        "exec_start_s",
        "exec_end_s",
        "ok",
        "error",
    }
    # At 40 tok/s the stream lasts seconds; the first chunks ran long before its end.
    assert first["exec_end_s"] < summary["last_token_s"]
    assert summary["last_token_s"] <= summary["done_s"]


@pytest.mark.slow
def test_run_prints_values_and_stops_at_the_first_error(tmp_path: Path) -> None:
    src = tmp_path / "f.py"
    src.write_text("x = 6 * 7\nprint('x is', x)\ny = x / 0\nz = 'never'\n")
    out = cli("run", "--rate", "0", "--no-debug", str(src), cwd=tmp_path)
    assert out.returncode == 1
    assert "x = 42" in out.stdout
    assert "x is 42" in out.stdout
    assert "ZeroDivisionError: division by zero at line 3" in out.stdout
    assert "never" not in out.stdout
    assert "stopped early" in out.stdout


def test_run_prints_a_syntax_error_after_the_results_above_it(tmp_path: Path) -> None:
    """At `--rate 0` the whole file arrives at once: the syntax error at line 4 is found
    before lines 1–3 have run. Its line and the stop were printed first; they follow now."""
    src = tmp_path / "s.py"
    src.write_text("a = 1\nprint('hi', a)\nb = a + 1\nc = (\nd = 2\n")
    out = cli("run", "--rate", "0", "--no-debug", str(src), cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    where = [line.split("]", 1)[1].split()[0] for line in out.stdout.splitlines() if "s]" in line]
    assert where == ["L1", "L2", "L3", "line", "stop"], out.stdout


def test_run_into_a_reader_that_leaves_stops_quietly(tmp_path: Path) -> None:
    """`eager-lsp run s.py | head -1`: the second line's write finds the pipe closed. It
    raised inside the pipeline, was reported as the interpreter being lost and ended in two
    tracebacks; now the run stops and the command exits with 141, as SIGPIPE would."""
    src = tmp_path / "s.py"
    src.write_text("import time\n" + "".join(f"time.sleep(0.2); x{i} = {i}\n" for i in range(30)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", str(src)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader leaves (as `head -1` does)
    try:
        code = proc.wait(timeout=60)  # 30 × 0.2 s is left to run: it must not be waited for
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "L1" in first
    assert code == 141, err
    assert "Traceback" not in err and "interpreter lost" not in err, err


def test_run_reads_a_file_in_its_declared_encoding_and_says_why_it_cannot(
    tmp_path: Path,
) -> None:
    """PEP 263: Python runs a latin-1 file that says so; so does `run` (it was refused as
    "not UTF-8"). A file that is not in its encoding gets one clear line, no traceback."""
    src = tmp_path / "latin.py"
    src.write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\nprint(name)\n".encode("latin-1"))
    out = cli("run", "--rate", "0", "--no-debug", str(src), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "café" in out.stdout
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"a = '\xff'\n")
    out = cli("run", "--rate", "0", "--no-debug", str(bad), cwd=tmp_path)
    assert out.returncode != 0
    assert "is not valid UTF-8 text" in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.slow
def test_workspace_files_cannot_shadow_the_stdlib_under_server_or_worker(tmp_path: Path) -> None:
    for name in ("typing", "json", "signal", "linecache"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('user {name}.py was imported')\n")
    (tmp_path / "mymod.py").write_text("VALUE = 7\n")
    src = tmp_path / "s.py"
    src.write_text("import mymod\nprint('value', mymod.VALUE)\n")
    out = cli("run", "--rate", "0", "--no-debug", str(src), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "value 7" in out.stdout  # the workspace's own modules stay importable for user code
    served = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "serve"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "was imported" not in served.stderr, served.stderr


PROBE = "import sys\nprint('debugger', 'pydevd' in sys.modules, sys.gettrace() is not None)\n"


@pytest.mark.slow
def test_run_starts_no_debugger_unless_asked(tmp_path: Path) -> None:
    src = tmp_path / "d.py"
    src.write_text(PROBE)
    out = cli("run", "--rate", "0", str(src), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "debugger False False" in out.stdout
    assert "debugpy" not in out.stderr
    summary = cli("run", "--rate", "0", "--json", str(src), cwd=tmp_path)
    assert json.loads(summary.stdout)["debug_port"] is None


@pytest.mark.slow
def test_run_debug_listens_from_the_start_and_says_where(tmp_path: Path) -> None:
    src = tmp_path / "d.py"
    src.write_text(PROBE)
    out = cli("run", "--rate", "0", "--debug", str(src), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "debugger True True" in out.stdout  # listening and tracing before the first line
    found = re.search(r"debugpy: attach to 127\.0\.0\.1:(\d+) ", out.stderr)
    assert found and int(found.group(1)) > 0, out.stderr
    summary = cli("run", "--rate", "0", "--debug", "--json", str(src), cwd=tmp_path)
    assert isinstance(json.loads(summary.stdout)["debug_port"], int)


def test_serve_over_tcp_warns_that_anyone_here_can_drive_it(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free port for the server to take
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "serve", "--tcp", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        # Bounded: a server that prints nothing must fail the test, not hang it.
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        first = proc.stderr.readline() if ready else ""
    finally:
        proc.kill()
        proc.wait()
    assert "warning" in first and "any program on this machine" in first, first


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a = 1\ns = u'x' b'y'\nc = 3\n", 2),
        ("a = 1\ntry:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\nc = 3\n", 4),
        ("a = 1\nnonlocal a\nc = 3\n", 2),
    ],
)
def test_chunks_reports_code_this_python_rejects_without_a_traceback(
    tmp_path: Path, text: str, line: int
) -> None:
    src = tmp_path / "bad.py"
    src.write_text(text)
    out = cli("chunks", str(src), "--piece-size", "2", cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert f"bad.py:{line}:" in out.stderr
    assert [json.loads(row)["start_line"] for row in out.stdout.splitlines()] == [1]


def test_run_memory_limit_gives_a_memory_error_on_its_line(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("x = 1\nblob = bytearray(400 * 1024 * 1024)\n")
    args = ("run", "--rate", "0", "--no-debug")
    out = cli(*args, "--memory-limit-mb", "200", str(src), cwd=tmp_path)
    assert out.returncode == 1
    assert "MemoryError: memory limit reached (200 MB) at line 2" in out.stdout
    assert cli(*args, "--memory-limit-mb", "0", str(src), cwd=tmp_path).returncode == 0
    for bad_value in ("-1", "16"):
        bad = cli(*args, "--memory-limit-mb", bad_value, str(src), cwd=tmp_path)
        assert bad.returncode == 2 and "--memory-limit-mb" in bad.stderr  # a usage error


def test_replaying_a_file_never_imports_the_model_sdk(tmp_path: Path) -> None:
    """The OpenAI SDK is imported only when a model is asked for (it costs 0.4 s or more)."""
    src = tmp_path / "a.py"
    src.write_text("x = 1\nprint(x)\n")
    probe = (
        "import sys\n"
        "from eager_lsp.cli import main\n"
        "for argv in (['run', '--help'], ['run', '--rate', '0', '--no-debug', sys.argv[1]]):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('SDK', sorted(m for m in sys.modules if m.split('.')[0] == 'openai'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(src)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "SDK []" in out.stdout, out.stdout
    assert "ok" in out.stdout  # the run did happen


@pytest.mark.parametrize(
    "flag, value, says",
    [("--max-tokens", "-5", "must be at least 1"), ("--max-tokens", "0", "must be at least 1"),
     ("--repair", "-1", "must be at least 0"), ("--max-tokens", "many", "not a whole number")],
)  # fmt: skip
def test_generate_refuses_counts_out_of_range_before_starting_anything(
    tmp_path: Path, flag: str, value: str, says: str
) -> None:
    """`--max-tokens -5` started the model and failed with the model server's HTTP 400;
    `0` was taken; `--repair -1` was taken silently (a newcomer helper)."""
    out = cli("generate", "x", flag, value, cwd=tmp_path)
    assert out.returncode == 2 and f"argument {flag}: {says}" in out.stderr, out.stderr


def test_run_json_says_what_each_statement_gave(tmp_path: Path) -> None:
    """`run --json` had only `ok` and the error text per statement, where `watch --json` had
    the values and the output too (a newcomer helper): the same fields now."""
    src = tmp_path / "s.py"
    src.write_text("x = 6 * 7\nprint('x is', x)\nx + 1\ny = x / 0\n")
    out = cli("run", "--rate", "0", "--json", str(src), cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    chunks = json.loads(out.stdout)["chunks"]
    assert chunks[0]["values"] == {"x": "42"} and chunks[1]["stdout"] == "x is 42\n"
    assert chunks[2]["expr"] == "43"
    assert chunks[3]["error"] == "ZeroDivisionError: division by zero"
    assert chunks[3]["error_line"] == 4


def test_generate_refuses_an_empty_prompt(tmp_path: Path) -> None:
    out = cli("generate", "  ", cwd=tmp_path)
    assert out.returncode == 2 and "non-empty prompt" in out.stderr, out.stderr


def test_run_says_once_where_user_code_crashed_the_interpreter(tmp_path: Path) -> None:
    """A segfault in the user's code: the crash's stack, the user's frame in it, once, under
    the `lost` line (it was printed three times in one-line cuts, then 30 lines of the
    worker's own threads: a newcomer's tour)."""
    (tmp_path / "segv.py").write_text('import ctypes\nprint("before")\nctypes.string_at(0)\n')
    out = cli("run", "segv.py", cwd=tmp_path)
    assert "interpreter lost: killed by SIGSEGV" in out.stdout, out.stdout
    assert out.stdout.count("Fatal Python error") == 1, out.stdout
    assert 'segv.py", line 3 in <module>' in out.stdout, out.stdout
    assert "Thread 0x" not in out.stdout and "zygote.py" not in out.stdout, out.stdout


def test_generate_refuses_an_endpoint_for_the_local_provider(tmp_path: Path) -> None:
    """`--provider local --base-url URL` ran the bundled model and ignored the URL (a newcomer)."""
    out = cli(
        "generate", "x", "--provider", "local", "--base-url", "http://127.0.0.1:9", cwd=tmp_path
    )
    assert out.returncode == 2 and "--base-url http://127.0.0.1:9 would be ignored" in out.stderr


LOOP = (
    "import time\n"
    "for i in range(4):\n"
    "    print('tick', i, flush=True)\n"
    "    time.sleep(0.6)\n"
    "x = 5\n"
)


def test_run_prints_a_running_statements_output_as_it_comes(tmp_path: Path) -> None:
    """The loop's ticks are printed under "running…" before its result line, once each:
    the terminal shows progress instead of silence for as long as the statement runs."""
    (tmp_path / "loop.py").write_text(LOOP)
    out = cli("run", "--rate", "0", "loop.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    running = text.index("L2-4    running…")
    result = text.index("L2-4    i = 3")
    assert running < text.index("out| tick 0") < result, text
    assert text.count("tick 0") == 1 and text.count("tick 3") == 1, text


def test_a_log_level_that_is_not_one_is_said_and_info_used(tmp_path: Path) -> None:
    env = {**os.environ, "EAGER_LSP_LOG_LEVEL": "bogus"}
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "serve"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert "EAGER_LSP_LOG_LEVEL='bogus' is not a log level" in out.stderr, out.stderr
    assert "INFO is used" in out.stderr
