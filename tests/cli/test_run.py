"""`eager-lsp run`, as a user runs it in a terminal: Ctrl-C, a script on stdin, a progress bar.

Real `eager-lsp` processes and real workers. Each command starts in its own process group, as
a shell's foreground job: Ctrl-C is SIGINT to that group. Where the terminal matters (a line
redrawn with "\\r"), its stdout is a pty and `screen` replays what a terminal would show.
"""

from __future__ import annotations

import os
import pty
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

INTERRUPTED = "interrupted by the user (Ctrl-C)"


class Command:
    """`eager-lsp run …` in its own process group, its stdout read line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eager_lsp", "run", "--no-debug", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, timeout: float = 60.0) -> None:
        """Read stdout up to the first line that contains `text`."""
        deadline = time.monotonic() + timeout
        while not self.seen or text not in self.seen[-1]:
            try:
                self.seen.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no {text!r} within {timeout} s; saw {self.seen}") from None

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Exit status, all of stdout, stderr; the command must exit within `timeout`."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"still running after {timeout} s; saw {self.seen}") from None
        time.sleep(0.1)  # (the pump reads what is left)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        assert self.proc.stderr is not None
        return code, "\n".join(self.seen), self.proc.stderr.read()


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """The process has exited (a zombie counts: it runs nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


def _worker_pid(lines: list[str]) -> int:
    found = [re.search(r"out\| pid (\d+)", line) for line in lines]
    return int(next(m for m in found if m).group(1))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_ctrl_c_interrupts_the_statement_and_still_prints_the_summary(tmp_path: Path) -> None:
    """Ctrl-C used to end the command with "interrupted" and nothing else: what ran and what
    did not was lost. Now the running statement is interrupted, a line says the user did it,
    the summary follows, the interpreter is gone and the status is 130."""
    (tmp_path / "s.py").write_text(
        "import os\n"
        "x = 6 * 7\n"
        "print('pid', os.getpid(), flush=True); import time; time.sleep(60)\n"
        "y = 2\n"
        "print('never')\n"
    )
    run = Command("--rate", "0", "s.py", cwd=tmp_path)
    run.until("out| pid")
    pid = _worker_pid(run.seen)
    pressed = time.monotonic()
    run.ctrl_c()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    assert time.monotonic() - pressed < 20  # not the 60 s sleep
    assert re.search(rf"\] stop +{re.escape(INTERRUPTED)}$", out, re.M), out
    assert re.search(r"\] L3 +KeyboardInterrupt at line 3", out), out
    assert re.search(r"\] L4 +skipped$", out, re.M) and re.search(r"\] L5 +skipped$", out, re.M)
    assert "x = 42" in out and "never" not in out
    # the usual summary: what ran (2 of 5 statements, and one interrupted), and why it stopped
    assert re.search(r"· 2/5 chunks ran · 1 interrupted ·", out), out
    assert out.rstrip().splitlines()[-1] == f"stopped early: {INTERRUPTED}", out
    assert "Traceback" not in err and "Traceback" not in out, err
    assert _gone(pid), "the interpreter outlived the command"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_second_ctrl_c_kills_a_statement_that_ignores_the_first(tmp_path: Path) -> None:
    """A statement that ignores interrupts (here with its own SIGINT handler, whenever one
    lands) keeps running through the interrupt's grace period (2 s, then a kill). A second
    Ctrl-C does not wait for it: the interpreter is killed now, the statement's loss says
    so (not "killed by SIGKILL (out of memory?)"), and the summary still comes."""
    (tmp_path / "s.py").write_text(
        "import os, signal, time\n"
        "signal.signal(signal.SIGINT, lambda *_: print('ignored', flush=True)); "
        "print('pid', os.getpid(), flush=True); time.sleep(60)\n"
        "z = 1\n"
    )
    run = Command("--rate", "0", "s.py", cwd=tmp_path)
    run.until("out| pid")
    pid = _worker_pid(run.seen)
    run.ctrl_c()
    run.until("out| ignored")  # the first Ctrl-C landed, and was ignored
    again = time.monotonic()
    run.ctrl_c()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    assert re.search(r"\] stop +Ctrl-C again: the interpreter is killed", out), out
    assert time.monotonic() - again < 10
    assert re.search(r"\] L2 +InterpreterLost: Ctrl-C again: the interpreter is killed", out), out
    assert re.search(r"\] L3 +skipped$", out, re.M), out
    assert re.search(r"chunks ran", out) and f"stopped early: {INTERRUPTED}" in out, out
    assert "out of memory" not in out  # (a kill the user asked for is not a mystery)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert _gone(pid), "the interpreter outlived the command"


@pytest.mark.slow
def test_ctrl_c_mid_stream_reads_in_order_and_says_which_lines_never_ran(tmp_path: Path) -> None:
    """At a model's pace the statements behind the running one are queued when Ctrl-C
    comes: they are skipped before its KeyboardInterrupt arrives, and were printed before
    it. Lines are in document order now, and the lines never streamed are named."""
    lines = ["import time", "print('sleeping', flush=True); time.sleep(60)"]
    lines += [f"v{i} = {i} * 2" for i in range(40)]
    (tmp_path / "s.py").write_text("\n".join(lines) + "\n")
    run = Command("--rate", "50", "s.py", cwd=tmp_path)
    run.until("out| sleeping")
    time.sleep(0.4)  # (at 50 tokens/s the next statements arrive and queue behind it)
    run.ctrl_c()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    where = [m.group(1) for m in re.finditer(r"^\[ *[\d.]+s\] (\S+)", out, re.M)]
    stop = where.index("stop")
    assert where[stop + 1] == "L2" and re.search(r"\] L2 +KeyboardInterrupt", out), out
    assert where[stop + 2 :] and all(re.fullmatch(r"L\d+", w) for w in where[stop + 2 :]), out
    assert re.search(rf"\] {where[-1]} +skipped$", out, re.M), out
    last = int(where[-1][1:])
    assert out.rstrip().splitlines()[-1] == (
        f"lines {last + 1}-42 had not been streamed yet: they did not run"
    ), out
    assert "Traceback" not in err, err


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a shell script as --python")
def test_ctrl_c_while_the_interpreter_starts_ends_the_command_at_once(tmp_path: Path) -> None:
    """Nothing ran yet: nothing to report but that, and status 130 at once."""
    slow = tmp_path / "slow-python"
    slow.write_text(f'#!/bin/sh\nsleep 3\nexec {sys.executable} "$@"\n')
    slow.chmod(0o755)
    (tmp_path / "s.py").write_text("x = 1\n")
    run = Command("--rate", "0", "--python", str(slow), "s.py", cwd=tmp_path)
    time.sleep(1.0)
    run.ctrl_c()
    pressed = time.monotonic()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    assert time.monotonic() - pressed < 2.5  # not after the interpreter started
    assert "interrupted (Ctrl-C) before anything ran" in err and "Traceback" not in err, err
    assert out == "", out


def _cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", *args],
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_dash_reads_the_script_from_stdin(tmp_path: Path) -> None:
    """`… | eager-lsp run -`, as `python -`: stdin is read to its end, then replayed like a
    file; the code sees `__file__` "<stdin>" and its tracebacks name it."""
    script = "x = 6 * 7\nprint('from', __file__, x)\ny = x / 0\nz = 'never'\n"
    out = _cli("run", "--rate", "0", "--no-debug", "-", cwd=tmp_path, stdin=script)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "x = 42" in out.stdout and "out| from <stdin> 42" in out.stdout, out.stdout
    assert "ZeroDivisionError: division by zero at line 3" in out.stdout, out.stdout
    assert "never" not in out.stdout and "Traceback" not in out.stderr, out.stderr


def test_run_dash_reads_stdin_in_its_declared_encoding(tmp_path: Path) -> None:
    """As Python reads a script: a PEP 263 declaration is honoured, "\\r\\n" is a newline."""
    script = "# -*- coding: latin-1 -*-\r\nname = 'café'\r\nprint(name)\r\n"
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--rate", "0", "--no-debug", "-"],
        cwd=tmp_path,
        input=script.encode("latin-1"),
        capture_output=True,
        timeout=120,
    )
    text = out.stdout.decode()
    assert out.returncode == 0, text + out.stderr.decode()
    assert "name = 'café'" in text and "out| café" in text, text


def test_an_empty_script_on_stdin_says_there_is_nothing_to_run(tmp_path: Path) -> None:
    """An empty stdin was taken silently: a pipeline whose producer wrote nothing looked like
    a script that ran. Now it is said, with status 0 as `python - </dev/null` (an empty
    script is a program that does nothing)."""
    for script in ("", "\n   \n# just a comment\n"):
        out = _cli("run", "--rate", "0", "--no-debug", "-", cwd=tmp_path, stdin=script)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stderr == "eager-lsp: the script on stdin has no code: nothing to run\n"
        assert out.stdout == "", out.stdout


def test_run_dash_with_an_undecodable_stdin_says_why(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", "-"],
        cwd=tmp_path,
        input=b"x = '\xff\xfe'\n",
        capture_output=True,
        timeout=120,
    )
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert "stdin is not valid UTF-8 text" in err and "Traceback" not in err, err


BAR = """\
import time
for i in range(5):
    print(f"\\r{i}", end="", flush=True)
    time.sleep(0.3)
for i in range(3):
    print(f"\\rstep {i}", end="", flush=True)
    time.sleep(0.3)
print()
"""


def test_a_progress_bar_not_on_a_terminal_prints_only_its_final_state(tmp_path: Path) -> None:
    """Each "\\r" state of a progress bar was printed as a line of its own: five lines for
    `print(f"\\r{i}", end="")`, one of them empty. Into a pipe, a redrawn line is printed
    once, as it ends: its last state."""
    (tmp_path / "bar.py").write_text(BAR)
    out = _cli("run", "--rate", "0", "--no-debug", "bar.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    shown = [line.strip() for line in out.stdout.splitlines() if "out|" in line]
    # the first loop's line is still unfinished when its statement ends: its result shows it
    assert shown == ["out| 4", "out| step 2"], out.stdout
    assert "\r" not in out.stdout


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after `raw`: "\\r" goes back to the line's start, "\\n" to
    the next line, ESC[K erases to the end of the line, other characters overwrite."""
    lines: list[list[str]] = [[]]
    col = 0
    for token in re.findall(r"\x1b\[K|\x1b\[[0-9;]*[A-Za-z]|.", raw, re.S):
        line = lines[-1]
        if token == "\r":
            col = 0
        elif token == "\n":
            lines.append([])
            col = 0
        elif token == "\x1b[K":
            del line[col:]
        elif token.startswith("\x1b"):
            continue  # colours
        else:
            if col < len(line):
                line[col] = token
            else:
                line.extend(" " * (col - len(line)) + token)
            col += 1
    return ["".join(line).rstrip() for line in lines]


def _run_on_a_pty(*args: str, cwd: Path, timeout: float = 60.0) -> tuple[int, str]:
    """`eager-lsp run …` with a pty as its stdout (stderr stays a pipe); its status and all
    it wrote there."""
    main, sub = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "run", "--no-debug", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=sub,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(sub)
    raw = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.1)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # EIO: the last writer closed it
                    break
                if not data:
                    break
                raw += data
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        proc.kill()
        os.close(main)
    return code, raw.decode("utf-8", "replace")


def test_a_progress_bar_on_a_terminal_is_redrawn_in_place(tmp_path: Path) -> None:
    """On a terminal the bar's line is drawn as it changes, in place (each state over the
    last), and what stays on the screen is each line once, in its last state."""
    (tmp_path / "bar.py").write_text(BAR)
    code, raw = _run_on_a_pty("--rate", "0", "bar.py", cwd=tmp_path)
    assert code == 0, raw
    lines = screen(raw)
    shown = [line.strip() for line in lines if "out|" in line]
    assert shown == ["out| 4", "out| step 2"], lines
    # the states were drawn while it ran, each at the start of the same line
    drawn = re.findall(r"\r *out\| (\d)(?=\x1b\[K)", raw)
    assert len(set(drawn)) >= 2, repr(raw)
    assert lines.index(next(x for x in lines if "L2-4    running…" in x)) < lines.index(
        next(x for x in lines if "L2-4    i = 4" in x)
    )


def test_a_line_redrawn_across_output_pieces_keeps_crlf_a_newline(tmp_path: Path) -> None:
    """ "\\r\\n" is a line's end, not a redraw, also when its "\\r" and "\\n" come apart."""
    (tmp_path / "crlf.py").write_text(
        "import sys, time\n"
        "for i in range(3):\n"
        "    sys.stdout.write(f'row {i}\\r'); sys.stdout.flush(); time.sleep(0.2)\n"
        "    sys.stdout.write('\\n'); sys.stdout.flush()\n"
    )
    out = _cli("run", "--rate", "0", "--no-debug", "crlf.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    shown = [line.strip() for line in out.stdout.splitlines() if "out|" in line]
    assert shown == ["out| row 0", "out| row 1", "out| row 2"], out.stdout


# -- the script's arguments -------------------------------------------------------------------

ARGV_SCRIPT = "import sys\nprint('argv', sys.argv, flush=True)\n"


def test_arguments_after_the_script_are_the_scripts_sys_argv(tmp_path: Path) -> None:
    """`python s.py a b` gives the code ['s.py', 'a', 'b']: `run s.py a b` was refused by the
    parser. As with python, everything after the script is the script's, options and `--`
    included (`--rate 0` after it is not `run`'s: the run keeps its default rate)."""
    (tmp_path / "s.py").write_text(ARGV_SCRIPT)
    args = ["a", "--rate", "0", "--", "-h", "ü b"]
    out = _cli("run", "--rate", "0", "--no-debug", "s.py", *args, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"out| argv {['s.py', *args]!r}" in out.stdout, out.stdout
    # run's own option after the script is likely a slip: said once, and still the script's
    assert "note: after s.py, --rate -h is the script's" in out.stderr, out.stderr
    # without arguments, as `python s.py`
    out = _cli("run", "--rate", "0", "--no-debug", "s.py", cwd=tmp_path)
    assert "out| argv ['s.py']" in out.stdout, out.stdout + out.stderr
    assert "note:" not in out.stderr, out.stderr


def test_run_dash_takes_arguments_as_python_dash_does(tmp_path: Path) -> None:
    """`python - a b` gives ['-', 'a', 'b'] (and `__file__` "<stdin>"); `run -` gave
    ['<stdin>']."""
    script = ARGV_SCRIPT + "print('file', __file__)\n"
    out = _cli("run", "--rate", "0", "--no-debug", "-", "a", "b", cwd=tmp_path, stdin=script)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "out| argv ['-', 'a', 'b']" in out.stdout and "out| file <stdin>" in out.stdout
    out = _cli("run", "--rate", "0", "--no-debug", "-", cwd=tmp_path, stdin=script)
    assert "out| argv ['-']" in out.stdout, out.stdout + out.stderr


def test_arguments_over_the_cap_are_refused_before_anything_starts(tmp_path: Path) -> None:
    """Every statement's request carries the argv: it has a size cap (limits.py ARGV_CAP),
    and an argv over it is a usage error that says so, not a silent cut."""
    from eager_lsp.limits import ARGV_CAP

    (tmp_path / "s.py").write_text(ARGV_SCRIPT)
    big = ["x" * 1000] * (ARGV_CAP // 1000 + 1)
    out = _cli("run", "--no-debug", "s.py", *big, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "the script's arguments are too long" in out.stderr, out.stderr
    assert f"at most {ARGV_CAP}" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert out.stdout == "", out.stdout


def test_arguments_with_a_jupyter_kernel_are_refused(tmp_path: Path) -> None:
    """A kernel keeps its own `sys.argv`: arguments it would not see are refused, not
    dropped (before any kernel is looked for)."""
    (tmp_path / "s.py").write_text(ARGV_SCRIPT)
    out = _cli("run", "--kernel", "python3", "s.py", "a", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "arguments after the script" in out.stderr and "kernel" in out.stderr, out.stderr


def test_run_help_says_everything_after_the_script_is_the_scripts(tmp_path: Path) -> None:
    out = _cli("run", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    usage = " ".join(out.stdout.split())
    assert "FILE [ARG ...]" in usage, out.stdout
    assert "everything after FILE" in usage, out.stdout
    out = _cli("run", "--no-debug", cwd=tmp_path)  # no script at all: a usage error
    assert out.returncode == 2 and "FILE" in out.stderr, out.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_second_ctrl_c_says_why_in_the_json_too(tmp_path: Path) -> None:
    """The killed statement's error in `--json` said "killed by SIGKILL (out of memory?)":
    only the terminal's printer knew the user had asked for the kill. The reason now travels
    with the kill (Interpreter.executor_lost → Executor.kill), so every client says it."""
    (tmp_path / "s.py").write_text(
        "import os, signal, time\n"
        "signal.signal(signal.SIGINT, lambda *_: open('ignored', 'w').close())\n"
        "open('pid', 'w').write(str(os.getpid())); time.sleep(60)\n"
        "z = 1\n"
    )
    run = Command("--rate", "0", "--json", "s.py", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text():
        assert time.monotonic() < deadline and run.proc.poll() is None, "it never ran"
        time.sleep(0.05)
    pid = int((tmp_path / "pid").read_text())
    run.ctrl_c()
    while not (tmp_path / "ignored").exists():  # the first Ctrl-C landed, and was ignored
        assert time.monotonic() < deadline and run.proc.poll() is None, "no interrupt"
        time.sleep(0.05)
    run.ctrl_c()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    import json

    summary = json.loads(out)
    lost = next(c for c in summary["chunks"] if c["start_line"] == 3)
    assert lost["error"].startswith("InterpreterLost: Ctrl-C again"), lost
    assert "out of memory" not in out and "SIGKILL" not in out, lost
    assert "Traceback" not in err, err
    assert _gone(pid), "the interpreter outlived the command"


@pytest.mark.parametrize(
    ("call", "status", "said"),
    [
        ("sys.exit(0)", 0, ""),
        ("exit()", 0, ""),
        ("sys.exit()", 0, ""),
        ("sys.exit(3)", 3, ""),
        ("raise SystemExit(3)", 3, ""),
        ("sys.exit('fatal msg')", 1, "fatal msg"),
    ],
)
def test_a_script_that_exits_ends_as_python_ends_it(
    tmp_path: Path, call: str, status: int, said: str
) -> None:
    """`sys.exit(0)` printed "stopped early: SystemExit: 0 at line 2" and exited 1 (and
    `sys.exit(3)` 1). As with python: nothing after it runs, the status is its code (1 and
    the message on stderr for a string), and it is no error."""
    (tmp_path / "e.py").write_text(f"import sys\nprint('a')\n{call}\nprint('later')\n")
    out = _cli("run", "--rate", "0", "--no-debug", "e.py", cwd=tmp_path)
    assert out.returncode == status, out.stdout + out.stderr
    assert "out| a" in out.stdout and "later" not in out.stdout, out.stdout
    assert "SystemExit" not in out.stdout and "stopped early" not in out.stdout, out.stdout
    assert f"exited with status {status} at line 3" in out.stdout, out.stdout
    assert out.stderr == (f"{said}\n" if said else ""), out.stderr
    quiet = _cli("run", "--rate", "0", "--no-debug", "--json", "e.py", cwd=tmp_path)
    assert quiet.returncode == status, quiet.stdout + quiet.stderr


def _out_lines(stdout: str) -> list[str]:
    return [line.strip()[5:] for line in stdout.splitlines() if line.strip().startswith("out| ")]


def test_output_into_a_pipe_is_printed_whole(tmp_path: Path) -> None:
    """Into a file or a pipe each statement's output was cut to 8 lines ("… 12 more lines":
    rows 8-19 appeared nowhere, and no flag showed them). Not on a terminal, all of it is
    printed, long lines whole."""
    (tmp_path / "rows.py").write_text(
        'for i in range(20):\n    print("row", i)\nprint("y" * 300)\n'
    )
    out = _cli("run", "--rate", "0", "--no-debug", "rows.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _out_lines(out.stdout) == [f"row {i}" for i in range(20)] + ["y" * 300], out.stdout
    assert "more lines" not in out.stdout, out.stdout


HUGE = 'for i in range(200000):\n    print("line", i)\nprint("done")\n'


def test_a_flood_into_a_pipe_is_printed_as_far_as_it_was_kept(tmp_path: Path) -> None:
    """200,000 lines: 500 came as it ran, then the result printed lines 0-7 again and "… at
    least 6112 more lines". Now the result goes on from line 500 through what the worker kept
    (a stream's first and last 32 Ki characters), says where and how much it left out, and
    ends with the real last lines; nothing twice."""
    (tmp_path / "huge.py").write_text(HUGE)
    out = _cli("run", "--rate", "0", "--no-debug", "huge.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    lines = _out_lines(out.stdout)
    gaps = [i for i, line in enumerate(lines) if "characters left out here" in line]
    assert len(gaps) == 1, lines[:3]
    gap = gaps[0]
    assert re.fullmatch(r"… \d+ characters left out here \(.*32 Ki.*\)", lines[gap]), lines[gap]
    said = [i for i, line in enumerate(lines) if line.startswith("… more lines as it runs")]
    assert said == [500] and "the rest comes with its result" in lines[500], lines[500]
    head, tail = lines[:500] + lines[501:gap], lines[gap + 1 :]
    # (the cut goes through a line: the head may end and the end begin with a piece of one)
    assert head[:-1] == [f"line {i}" for i in range(len(head) - 1)], head[-3:]
    assert f"line {len(head) - 1}".startswith(head[-1]) and len(head) > 3000, head[-1]
    assert tail[-1] == "done" and tail[-2] == "line 199999", tail[-3:]
    first = 200000 - (len(tail) - 2)
    assert tail[1:-1] == [f"line {i}" for i in range(first, 200000)], tail[:3]
    assert f"line {first - 1}".endswith(tail[0]) and len(tail) > 2500, tail[0]


def test_on_a_terminal_the_last_lines_said_to_come_are_the_last(tmp_path: Path) -> None:
    """On a terminal the short view stays, and says true things: "the last 8 come with its
    result" then gave the first 8 (lines 0-7); the count is a lower bound where the worker
    left characters out."""
    (tmp_path / "huge.py").write_text(HUGE)
    code, raw = _run_on_a_pty("--rate", "0", "huge.py", cwd=tmp_path)
    assert code == 0, raw[-2000:]
    lines = _out_lines("\n".join(screen(raw)))
    assert lines[:500] == [f"line {i}" for i in range(500)], lines[:3]
    assert lines[500] == "… more lines as it runs: the last 8 come with its result", lines[500]
    assert re.fullmatch(r"… at least \d+ more lines \(the output was cut\)", lines[501]), lines
    assert lines[502:] == [f"line {i}" for i in range(199992, 200000)] + ["done"], lines[500:]


READS_STDIN = "import sys\ndata = sys.stdin.read()\nprint(len(data))\n"
STDIN_NOTE = (
    "eager-lsp: note: the script's stdin is empty (sys.stdin reads nothing): eager-lsp does"
    " not pass its own stdin on"
)


def test_data_piped_to_run_is_said_not_to_reach_the_script(tmp_path: Path) -> None:
    """`printf 'abc\\n' | eager-lsp run rd.py` printed 0 without a word: the interpreter's
    stdin is /dev/null (it runs in the background). Now stderr says so, once; an empty pipe,
    /dev/null or an empty file say nothing."""
    (tmp_path / "rd.py").write_text(READS_STDIN)
    out = _cli("run", "--rate", "0", "--no-debug", "rd.py", cwd=tmp_path, stdin="abc\n")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "out| 0" in out.stdout, out.stdout  # (what the script read: nothing)
    assert out.stderr.count(STDIN_NOTE) == 1, out.stderr
    with open(tmp_path / "data.txt", "w+") as f:
        f.write("abc\n")
        f.seek(0)
        from_file = subprocess.run(
            [sys.executable, "-m", "eager_lsp", "run", "--rate", "0", "--no-debug", "rd.py"],
            cwd=tmp_path,
            stdin=f,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert from_file.stderr.count(STDIN_NOTE) == 1, from_file.stderr
    for quiet in ("", None):  # an empty pipe, /dev/null
        out = _cli("run", "--rate", "0", "--no-debug", "rd.py", cwd=tmp_path, stdin=quiet)
        assert out.returncode == 0 and out.stderr == "", out.stderr
