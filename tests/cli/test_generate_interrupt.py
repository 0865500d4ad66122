"""Ctrl-C during `eager-lsp generate`, as a user presses it in a terminal.

The real command, its stdout a pty (the live view with its status line, as a user sees it),
against a real HTTP server speaking the OpenAI streaming format on 127.0.0.1. Each command
starts in its own process group, as a shell's foreground job: Ctrl-C is SIGINT to that group.

Ctrl-C used to cancel the command: "interrupted" on stderr and nothing else, the summary and
the `-o` file lost with the code the model had written. Now it stops as `eager-lsp run` does
(cli/interrupt.py): the model's stream is closed, the running statement interrupted, no repair
follows, the code written so far is shown and saved, the summary says the user stopped it,
and the status is 130.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli.test_run import _gone, _worker_pid, screen
from tests.support.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.slow

INTERRUPTED = "interrupted by the user (Ctrl-C)"
# A statement that sleeps while the model still writes: Ctrl-C lands in it.
SLEEPER = (
    "import os, time\n"
    "x = 6 * 7\n"
    "print('pid', os.getpid(), flush=True); time.sleep(60)\n"
    + "".join(f"v{i} = {i}\n" for i in range(300))
)
FAILING = "x = 6 * 7\nprint('x is', x)\ny = x / (x - 42)\n" + "".join(
    f"pad{i} = {i}\n" for i in range(40)
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = "sk-test-secret-123"
    env["COLUMNS"] = "120"
    return env


def _argv(srv: FakeOpenAIServer, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "eager_lsp",
        "generate",
        "do the task",
        "--base-url",
        srv.url,
        "--model",
        "fake",
        *extra,
    ]


class OnATerminal:
    """`eager-lsp generate …` with a pty as its stdout (stderr a pipe), in its own process
    group; what it wrote there is read as it comes and replayed as a terminal shows it."""

    def __init__(self, srv: FakeOpenAIServer, *extra: str, cwd: Path) -> None:
        main, sub = pty.openpty()
        self.proc = subprocess.Popen(
            _argv(srv, *extra),
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=sub,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        os.close(sub)
        self._main = main
        self._raw = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._main, 65536)
            except OSError:  # EIO: the last writer closed it
                break
            if not data:
                break
            with self._lock:
                self._raw += data

    def lines(self) -> list[str]:
        with self._lock:
            raw = self._raw.decode("utf-8", "replace")
        lines = screen(raw)
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def until(self, text: str, timeout: float = 60.0) -> list[str]:
        """The screen once a line on it contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if any(text in line for line in lines):
                return lines
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"no {text!r} within {timeout} s; saw {self.lines()}")

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float) -> tuple[int, list[str], str]:
        """Exit status, the screen's lines, stderr; the command must exit within `timeout`."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"still running after {timeout} s; saw {self.lines()}") from None
        self._reader.join(timeout=5)
        os.close(self._main)
        assert self.proc.stderr is not None
        return code, self.lines(), self.proc.stderr.read().decode("utf-8", "replace")


def _code_lines(lines: list[str]) -> list[str]:
    """The generated code as the live view printed it (`   3 │ x = 1`)."""
    return [m.group(1) for line in lines if (m := re.match(r"^ *\d+ │ (.*)$", line))]


def _wait_done(srv: FakeOpenAIServer, index: int, timeout: float = 10.0) -> bool:
    """The server finished answering request `index` (the client read it all or hung up)."""
    deadline = time.monotonic() + timeout
    while len(srv.chat_requests) <= index:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return srv.chat_requests[index].wait_done(max(0.0, deadline - time.monotonic()))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_ctrl_c_stops_the_model_interrupts_the_statement_and_keeps_the_code(
    tmp_path: Path,
) -> None:
    """The model is still writing when Ctrl-C comes: its stream is closed, the sleeping
    statement gets a KeyboardInterrupt, the summary follows and says the user stopped it,
    and every complete line the model wrote is in the `-o` file, as it was shown."""
    out_file = tmp_path / "out.py"
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=SLEEPER, delay=0.02)
        gen = OnATerminal(srv, "-o", str(out_file), cwd=tmp_path)
        seen = gen.until("out| pid")
        pid = _worker_pid(seen)
        pressed = time.monotonic()
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
        assert _wait_done(srv, 0)
        request = srv.chat_requests[0]
        total = len(srv.chat_requests)
    text = "\n".join(lines)
    assert code == 130, (text, err)
    assert time.monotonic() - pressed < 20  # not the 60 s sleep
    assert re.search(rf"\] stop +{re.escape(INTERRUPTED)}$", text, re.M), text
    assert re.search(r"\] L3 +KeyboardInterrupt at line 3", text), text
    assert "x = 42" in text
    # the usual summary, saying why it stopped, and the file written
    assert re.search(r"^stream .* chunks ran · 1 interrupted · execution", text, re.M), text
    assert f"stopped early: {INTERRUPTED}" in lines, text
    assert lines[-1] == f"wrote {out_file}", text
    # the model's stream was closed at the stop (not read to its end), and nothing more asked
    assert request.disconnected and request.pieces_sent < len(SLEEPER) // 4 // 2, request
    assert total == 1
    # the code the model wrote so far: complete lines only, exactly as shown
    saved = out_file.read_text()
    assert saved == SLEEPER[: len(saved)] and saved.endswith("\n"), saved
    assert saved.count("\n") >= 3, saved
    assert _code_lines(lines) == saved.splitlines(), (text, saved)
    assert "Traceback" not in err and "interrupted\n" not in err, err
    assert _gone(pid), "the interpreter outlived the command"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_second_ctrl_c_kills_a_statement_that_ignores_the_first(tmp_path: Path) -> None:
    """The statement ignores the interrupt: the model's stream is closed anyway (while the
    command still runs, not by its exit), a second Ctrl-C kills the interpreter now, and the
    summary still comes."""
    reply = (
        "import os, time\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        print('pid', os.getpid(), flush=True)\n"
        "        time.sleep(60)\n"
        "    except KeyboardInterrupt:\n"
        "        print('ignored', flush=True)\n" + "".join(f"z{i} = {i}\n" for i in range(300))
    )
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=reply, delay=0.02)
        gen = OnATerminal(srv, cwd=tmp_path)
        pid = _worker_pid(gen.until("out| pid"))
        assert not srv.chat_requests[0].done.is_set()  # (it runs while the model writes)
        gen.ctrl_c()
        gen.until("out| ignored")  # the first Ctrl-C landed, and was ignored
        assert _wait_done(srv, 0, timeout=5), "the model's stream is still open"
        assert gen.proc.poll() is None  # (closed by the stop, not by the command's end)
        assert srv.chat_requests[0].disconnected
        again = time.monotonic()
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
    text = "\n".join(lines)
    assert code == 130, (text, err)
    assert time.monotonic() - again < 10
    assert re.search(r"\] stop +Ctrl-C again: the interpreter is killed", text), text
    assert re.search(r"\] L2-7 +InterpreterLost: Ctrl-C again: the interpreter is killed", text)
    assert f"stopped early: {INTERRUPTED}" in lines, text
    assert "out of memory" not in text
    assert "Traceback" not in err, err
    assert _gone(pid), "the interpreter outlived the command"


def test_ctrl_c_during_a_repair_ends_the_loop_and_keeps_the_code(tmp_path: Path) -> None:
    """With repairs left, Ctrl-C in the repair's code ends the loop: no further repair is
    asked for the KeyboardInterrupt, and the file has the code before the failing statement
    and the repair's complete lines."""
    out_file = tmp_path / "out.py"
    fix = "y = x / 2\nimport time; print('sleeping', flush=True); time.sleep(60)\n" + "".join(
        f"w{i} = {i}\n" for i in range(300)
    )
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=FAILING, delay=0.005)
        srv.enqueue(text=fix, delay=0.02)
        srv.enqueue(text="never = 1\n")
        gen = OnATerminal(srv, "--repair", "3", "-o", str(out_file), cwd=tmp_path)
        gen.until("out| sleeping")
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
        assert _wait_done(srv, 1)
        asked = len(srv.chat_requests)
        repair = srv.chat_requests[1]
    text = "\n".join(lines)
    assert code == 130, (text, err)
    assert asked == 2, text  # the interrupt was not sent to the model as an error to repair
    assert repair.disconnected, repair
    assert re.search(r"\] L4 +KeyboardInterrupt", text), text
    assert lines[-2:] == [
        f"{' ' * len('attempt 2: ')}stopped early: {INTERRUPTED}",
        f"wrote {out_file}",
    ], text
    saved = out_file.read_text()
    head, _, rest = saved.partition("y = x / 2\n")
    assert head == "x = 6 * 7\nprint('x is', x)\n", saved
    assert fix.startswith("y = x / 2\n" + rest) and saved.endswith("\n"), saved
    assert "time.sleep(60)" in rest, saved
    assert "Traceback" not in err, err


def test_ctrl_c_before_the_repair_writes_anything_keeps_the_failing_code(tmp_path: Path) -> None:
    """The repair's model has not answered yet: its request is dropped, the command ends at
    once, says the repair wrote nothing, and the file keeps the code as the first attempt
    left it (the failing statement included): nothing the model wrote is lost."""
    out_file = tmp_path / "out.py"
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=FAILING, delay=0.005)
        srv.enqueue(text="y = x / 2\n", first_delay=30)  # silent for 30 s
        gen = OnATerminal(srv, "--repair", "1", "-o", str(out_file), cwd=tmp_path)
        gen.until("repair attempt 1")
        deadline = time.monotonic() + 30
        while len(srv.chat_requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # (the repair's request is on its way)
        time.sleep(0.3)
        pressed = time.monotonic()
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
    text = "\n".join(lines)
    assert code == 130, (text, err)
    assert time.monotonic() - pressed < 10  # not the model's 30 s of silence
    assert "ZeroDivisionError" in text
    assert lines[-2:] == [
        f"attempt 2: stopped early: {INTERRUPTED} before the model wrote any code",
        f"wrote {out_file}",
    ], text
    assert out_file.read_text() == "x = 6 * 7\nprint('x is', x)\ny = x / (x - 42)\n"
    assert "Traceback" not in err and "returned no code" not in err, err


def test_ctrl_c_before_the_model_writes_anything_leaves_the_file_alone(tmp_path: Path) -> None:
    """The model has not answered yet: its request is dropped, the command ends at once and
    says nothing was written; a program already in the `-o` file is not replaced by nothing."""
    out_file = tmp_path / "out.py"
    out_file.write_text("earlier = 1\n")
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 1\n", first_delay=30)  # silent for 30 s
        gen = OnATerminal(srv, "-o", str(out_file), "--overwrite", cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not srv.chat_requests and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        pressed = time.monotonic()
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
    assert code == 130, (lines, err)
    assert time.monotonic() - pressed < 10  # not the model's 30 s of silence
    assert re.fullmatch(rf"\[ *[\d.]+s\] stop +{re.escape(INTERRUPTED)}", lines[0]), lines
    assert lines[1:] == [f"stopped early: {INTERRUPTED} before the model wrote any code"], lines
    assert out_file.read_text() == "earlier = 1\n"
    assert "Traceback" not in err and "returned no code" not in err, err


def test_ctrl_c_mid_stream_does_not_replace_an_existing_file(tmp_path: Path) -> None:
    """`--overwrite` asks to replace the file with the generated program; Ctrl-C in the
    middle leaves only part of one, which replaced the user's file. The file stays as it was
    (the command says so), the code so far is on the screen."""
    out_file = tmp_path / "out.py"
    out_file.write_text("earlier = 1\n")
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=SLEEPER, delay=0.02)
        gen = OnATerminal(srv, "-o", str(out_file), "--overwrite", cwd=tmp_path)
        gen.until("out| pid")
        gen.ctrl_c()
        code, lines, err = gen.finish(timeout=30)
    assert code == 130, (lines, err)
    assert f"stopped early: {INTERRUPTED}" in lines, lines
    assert not any(line.startswith("wrote") for line in lines), lines
    assert "x = 6 * 7" in _code_lines(lines), lines
    assert out_file.read_text() == "earlier = 1\n"
    assert f"{out_file} left as it was" in err, err
    assert "Traceback" not in err, err


def test_ctrl_c_with_json_prints_the_summary_object(tmp_path: Path) -> None:
    """`--json` (stdout a pipe): the one summary object still comes, with the code so far and
    the stop's reason."""
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=SLEEPER, delay=0.02)
        proc = subprocess.Popen(
            _argv(srv, "--json"),
            cwd=tmp_path,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not srv.chat_requests or srv.chat_requests[0].pieces_sent < 40:
            assert time.monotonic() < deadline and proc.poll() is None, "no stream"
            time.sleep(0.02)
        time.sleep(0.5)  # (line 3 is asleep by now)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 130, (out, err)
    summary = json.loads(out)
    assert summary["stopped_early"] is True and summary["stop_reason"] == INTERRUPTED, summary
    assert summary["interrupted"] is True and summary["ok"] is False, summary
    code = summary["code"]
    assert code == SLEEPER[: len(code)] and code.endswith("\n") and code.count("\n") >= 3, code
    assert "Traceback" not in err, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a shell script as --python")
def test_ctrl_c_while_the_interpreter_starts_ends_at_once_and_asks_no_model(
    tmp_path: Path,
) -> None:
    """Nothing ran and the model was not asked yet: nothing to report but that, status 130
    at once, and no request reaches the model afterwards."""
    slow = tmp_path / "slow-python"
    slow.write_text(f'#!/bin/sh\nsleep 3\nexec {sys.executable} "$@"\n')
    slow.chmod(0o755)
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 1\n")
        gen = OnATerminal(srv, "--python", str(slow), "-o", "out.py", cwd=tmp_path)
        time.sleep(1.0)
        gen.ctrl_c()
        pressed = time.monotonic()
        code, lines, err = gen.finish(timeout=30)
        assert srv.chat_requests == []
    assert code == 130, (lines, err)
    assert time.monotonic() - pressed < 2.5  # not after the interpreter started
    assert "interrupted (Ctrl-C) before anything ran" in err and "Traceback" not in err, err
    assert not (tmp_path / "out.py").exists()
