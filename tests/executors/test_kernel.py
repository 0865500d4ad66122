"""The Jupyter kernel backend against real kernels: `eager-lsp run` with a local kernelspec
(`--kernel python3`), an already running ipykernel (`--kernel-connection`, started here as a
user's notebook kernel would be, with the user's data loaded), and a real `jupyter server` on
127.0.0.1 with a random token (`--kernel-url`, token from EAGER_KERNEL_TOKEN)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from tests.support.jupyter import kernels_on, stop_process

from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, KernelTarget
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import ReplayStream

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "eager_lsp"]

PROGRAM = """import math
x = 41 + 1
def f(a):
    return 1 / a

print("hello", x)
y = [1, 2, 3]
x * 2
z = f(0)
w = 5
"""


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eager_lsp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def check_program_output(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 1, out.stdout + out.stderr  # the program fails at line 9
    text = out.stdout
    assert "x = 42" in text
    assert "out| hello 42" in text
    assert "y = [1, 2, 3]" in text
    assert "→ 84" in text
    # the error points at the document's line 4 (inside f), not a cell line
    assert "L9      ZeroDivisionError: division by zero at line 4" in text
    assert "L10     skipped" in text


def _notebook_kernel(root: Path) -> tuple[Path, subprocess.Popen[bytes]]:
    """An ipykernel started the way a notebook front end starts one, not by eager-lsp; its
    connection file once it is ready."""
    conn = root / "kernel-test.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from jupyter_client import BlockingKernelClient

        deadline = time.monotonic() + 60
        while not conn.exists() or conn.stat().st_size == 0:
            assert time.monotonic() < deadline, "the kernel wrote no connection file"
            assert proc.poll() is None, "the kernel exited"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but give it a moment
        kc = BlockingKernelClient()
        kc.load_connection_file(str(conn))
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        # The user's own data, loaded in their notebook before eager-lsp attaches.
        reply = kc.execute_interactive("data = {'rows': 3}\ntotal = 0", timeout=30)
        assert reply["content"]["status"] == "ok"
        kc.stop_channels()
    except BaseException:
        stop_process(proc, 10)
        raise
    return conn, proc


@pytest.fixture(scope="module")
def running_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    conn, proc = _notebook_kernel(tmp_path_factory.mktemp("kernel"))
    try:
        yield conn, proc.pid
    finally:
        stop_process(proc, 10)


def test_run_with_a_local_kernelspec(tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text(PROGRAM)
    out = cli("run", "--rate", "0", "--kernel", "python3", str(src), cwd=tmp_path)
    check_program_output(out)


def test_an_unknown_kernelspec_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("x = 1\n")
    out = cli("run", "--kernel", "no-such-kernel-xyz", str(src), cwd=tmp_path)
    assert out.returncode == 2
    assert "no Jupyter kernelspec named 'no-such-kernel-xyz'" in out.stderr
    assert "Traceback" not in out.stderr


def test_attached_kernel_has_the_users_data_and_keeps_state_across_runs(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    conn, pid = running_kernel
    first = tmp_path / "first.py"
    first.write_text("data['rows'] * 10\nnew = data['rows'] + 1\n")
    out = cli("run", "--rate", "0", "--kernel-connection", str(conn), str(first), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "→ 30" in out.stdout and "new = 4" in out.stdout
    # eager-lsp let go of the kernel; it did not shut it down, and the state is still there
    os.kill(pid, 0)
    second = tmp_path / "second.py"
    second.write_text("\n\nboth = new + data['rows']\nboth / 0\n")
    out = cli("run", "--rate", "0", "--kernel-connection", str(conn), str(second), cwd=tmp_path)
    assert "both = 7" in out.stdout, out.stdout + out.stderr
    assert "ZeroDivisionError: division by zero at line 4" in out.stdout
    os.kill(pid, 0)


def test_ctrl_c_interrupts_a_while_true_in_the_attached_kernel(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    conn, pid = running_kernel
    loop = tmp_path / "loop.py"
    loop.write_text("total = 5\nwhile True:\n    total += 1\n")
    proc = subprocess.Popen(
        [*CLI, "run", "--rate", "0", "--kernel-connection", str(conn), str(loop)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the first statement's result: the loop now runs
    assert "total = 5" in line, line
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    # the kernel is free again (not still looping) and kept its state (`total` is there; it
    # may still be 5: the Ctrl-C can land before the loop's first iteration on a busy machine)
    check = tmp_path / "check.py"
    check.write_text("total >= 5\n")
    out = cli("run", "--rate", "0", "--kernel-connection", str(conn), str(check), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "→ True" in out.stdout
    os.kill(pid, 0)


# A statement that ignores interrupts for a while (SIGINT ignored, then put back as it was: the
# kernel is shared by this module's tests).
DEAF_IN_KERNEL = """kept = 7
import signal, time
try:
    _was = signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("deaf", flush=True)
    time.sleep(20)
finally:
    signal.signal(signal.SIGINT, _was)
"""


def test_a_second_ctrl_c_lets_go_of_the_attached_kernel_and_says_so(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    """An attached kernel is never ours to kill (executors/kernel.py): a second Ctrl-C lets go
    of it. The CLI said "the interpreter is killed" and "its state is lost"; the kernel went
    on, its state with it."""
    from eager_lsp.cli.interrupt import CUT_SHORT, KILLED, LET_GO

    conn, pid = running_kernel
    deaf = tmp_path / "deaf.py"
    deaf.write_text(DEAF_IN_KERNEL)
    proc = subprocess.Popen(
        [*CLI, "run", "--rate", "0", "--kernel-connection", str(conn), str(deaf)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = ""
    while "out| deaf" not in seen:  # its live output: the statement runs
        line = proc.stdout.readline()
        assert line, seen
        seen += line
    proc.send_signal(signal.SIGINT)  # the first: an interrupt, which the statement ignores
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)  # the second: let go of the kernel
    rest, _ = proc.communicate(timeout=60)
    out = seen + rest
    assert proc.returncode == 130, out
    assert KILLED not in out and "its state is lost" not in out, out
    assert f"stop    {LET_GO}" in out, out
    assert f"InterpreterLost: {CUT_SHORT[LET_GO]} (" in out, out  # the statement, whole
    # ...as it does: still there, and its variables with it (once the statement is over)
    os.kill(pid, 0)
    check = tmp_path / "check.py"
    check.write_text("kept\n")
    after = cli("run", "--rate", "0", "--kernel-connection", str(conn), str(check), cwd=tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "→ 7" in after.stdout, after.stdout


@contextlib.asynccontextmanager
async def _attached(conn: Path, tmp_path: Path) -> AsyncIterator[Interpreter]:
    """An interpreter attached to the running kernel of `conn`, started; closed after."""
    config = InterpreterConfig(
        path=str(tmp_path / "doc.py"),
        backend="kernel",
        kernel=KernelTarget(connection_file=str(conn)),
    )
    interpreter = open_interpreter(config)
    try:
        await interpreter.start()
        yield interpreter
    finally:
        await interpreter.close()


async def _running(interpreter: Interpreter, text: str) -> asyncio.Future[Any]:
    """`text` run in the background, returned once its first statement's result is in."""
    task = asyncio.ensure_future(interpreter.run_stream(ReplayStream(text, rate=None)))
    while not (interpreter.run and 0 in interpreter.run.results):
        await asyncio.sleep(0.05)
    return task


def test_session_interrupt_maps_keyboard_interrupt_to_the_loop_line(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    conn, _ = running_kernel

    async def main() -> tuple[str, object]:
        async with _attached(conn, tmp_path) as interpreter:
            task = await _running(interpreter, "a = 1\n\nwhile True:\n    pass\n")
            await asyncio.sleep(0.5)
            outcome = await interpreter.interrupt()
            report = await task
            return outcome, report

    outcome, report = asyncio.run(main())
    assert outcome == "interrupted"
    failed = report.failed  # type: ignore[attr-defined]
    assert failed is not None and failed.error.type == "KeyboardInterrupt"
    assert failed.error.line == 3
    assert not failed.error.state_lost


# Run in the kernel by the test (as the user's own code could): from now on the kernel drops
# the execute_reply of any code containing "drop-reply", as ipykernel does when an interrupt
# lands between a request's code and its reply ("KeyboardInterrupt caught in kernel"), which
# cannot be timed from outside. Deterministic fault injection into the real kernel.
DROP_REPLIES = """
_k = get_ipython().kernel
_eager_test_send = _k.session.send
def _dropping(stream, msg_or_type, content=None, parent=None, *args, **kw):
    code = ((parent or {}).get("content") or {}).get("code", "")
    if msg_or_type == "execute_reply" and "drop" + "-reply" in code:  # (not this code)
        return _k.session.msg(msg_or_type, content, parent)  # built, never sent
    return _eager_test_send(stream, msg_or_type, content, parent, *args, **kw)
_k.session.send = _dropping
"""


def _in_kernel(conn: Path, code: str) -> None:
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_file(str(conn))
    kc.start_channels()
    try:
        reply = kc.execute_interactive(code, timeout=30)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()


def test_an_interrupted_request_whose_reply_never_comes_ends(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    """The kernel runs the statement but never replies to it (an interrupt landed in its
    reply path): the interrupt ends the statement as interrupted instead of waiting forever
    (the CLI's Ctrl-C hung in CI), and the kernel is usable afterwards."""
    conn, _ = running_kernel
    _in_kernel(conn, DROP_REPLIES)

    async def main() -> tuple[str, object, object]:
        async with _attached(conn, tmp_path) as interpreter:
            task = await _running(interpreter, "a = 1\nb = a + 1  # drop-reply\nc = 3\n")
            await asyncio.sleep(0.5)  # b's reply was dropped: the run waits for it
            assert not task.done()
            outcome = await asyncio.wait_for(interpreter.interrupt(), 60)  # (a hang guard)
            report = await asyncio.wait_for(task, 60)
            after = await interpreter.run_stream(ReplayStream("b * 10\n", rate=None))
            return outcome, report, after

    try:
        outcome, report, after = asyncio.run(main())
    finally:
        _in_kernel(conn, "get_ipython().kernel.session.send = _eager_test_send")
    assert outcome == "interrupted"
    failed = report.failed  # type: ignore[attr-defined]
    assert failed is not None and failed.error.type == "KeyboardInterrupt"
    assert report.interrupted  # type: ignore[attr-defined]
    last = after.results[-1]  # type: ignore[attr-defined]
    assert last.ok and last.expr is not None and "20" in last.expr.repr, last


def test_an_attached_kernel_that_misses_heartbeats_for_a_while_is_not_lost(
    running_kernel: tuple[Path, int], tmp_path: Path
) -> None:
    """A loaded machine can hold a kernel's heartbeat past jupyter_client's 1 s for a moment
    (CI once saw an interrupt end as "killed" that way). Here the kernel process is stopped
    (SIGSTOP, every thread, the heartbeat's too) for 3 s while a statement waits for it: the
    run must go on when it wakes, not end with "the kernel died"."""
    conn, pid = running_kernel

    async def main() -> tuple[object, bool]:
        async with _attached(conn, tmp_path) as interpreter:
            task = await _running(
                interpreter, "paused = 1\nimport time; time.sleep(1)\npaused + 1\n"
            )
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(3.0)
            finally:
                os.kill(pid, signal.SIGCONT)
            report = await asyncio.wait_for(task, 60)
            executor = interpreter._executor  # (is the same kernel still attached?)
            return report, executor is not None and executor.alive

    report, alive = asyncio.run(main())
    assert report.failed is None and not report.stopped_early, report  # type: ignore[attr-defined]
    last = report.results[-1]  # type: ignore[attr-defined]
    assert last.ok and last.expr is not None and last.expr.repr == "2", last
    assert alive


def test_an_attached_kernel_that_dies_ends_the_run_that_waits_for_it(tmp_path: Path) -> None:
    """The other side of the heartbeat's patience: a kernel that is really gone (killed,
    its heartbeat silent for good) ends the statement waiting for it, with a reason."""
    conn, proc = _notebook_kernel(tmp_path)

    async def main() -> object:
        async with _attached(conn, tmp_path) as interpreter:
            task = await _running(interpreter, "a = 1\nimport time; time.sleep(120)\n")
            proc.kill()
            return await asyncio.wait_for(task, 60)

    try:
        report = asyncio.run(main())
    finally:
        stop_process(proc, 10)
    failed = report.failed  # type: ignore[attr-defined]
    assert failed is not None and "the kernel died" in failed.error.message, failed


def test_run_through_a_jupyter_server_url(jupyter_server: tuple[str, str], tmp_path: Path) -> None:
    url, token = jupyter_server
    src = tmp_path / "prog.py"
    src.write_text(PROGRAM)
    env = {**os.environ, "EAGER_KERNEL_TOKEN": token}
    out = cli("run", "--rate", "0", "--kernel-url", url, str(src), cwd=tmp_path, env=env)
    check_program_output(out)
    assert token not in out.stdout + out.stderr
    assert kernels_on(url, token) == []  # the kernel it started is gone again


def test_a_wrong_token_is_a_clear_error_that_does_not_echo_it(
    jupyter_server: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = jupyter_server
    src = tmp_path / "prog.py"
    src.write_text("x = 1\n")
    env = {**os.environ, "EAGER_KERNEL_TOKEN": "wrong-token-123"}
    out = cli("run", "--kernel-url", url, str(src), cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert "HTTP 403" in out.stderr and "Traceback" not in out.stderr
    assert "wrong-token-123" not in out.stdout + out.stderr


def test_interrupt_and_images_through_a_jupyter_server(
    jupyter_server: tuple[str, str], tmp_path: Path
) -> None:
    url, token = jupyter_server

    async def main() -> tuple[str, object, object]:
        config = InterpreterConfig(
            path=str(tmp_path / "doc.py"),
            backend="kernel",
            kernel=KernelTarget(url=url, token=token),
            interrupt_grace_s=10.0,
        )
        interpreter = open_interpreter(config)
        try:
            png = (
                "class P:\n"
                "    def _repr_png_(self):\n"
                "        import base64\n"
                "        return base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n"
                "P()\n"
            )
            images = await interpreter.run_stream(ReplayStream(png, rate=None))
            text = "n = 0\nwhile True:\n    n += 1\n"
            task = asyncio.ensure_future(interpreter.run_stream(ReplayStream(text, rate=None)))
            while not (interpreter.run and 0 in interpreter.run.results):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            outcome = await interpreter.interrupt()
            return outcome, await task, images
        finally:
            await interpreter.close()

    outcome, report, images = asyncio.run(main())
    assert outcome == "interrupted"
    failed = report.failed  # type: ignore[attr-defined]
    assert failed is not None and failed.error.type == "KeyboardInterrupt"
    assert failed.error.line in (2, 3)
    shown = images.results[-1]  # type: ignore[attr-defined]
    assert shown.ok and len(shown.images) == 1
    assert shown.images[0].size > 0
    assert kernels_on(url, token) == []


PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_display_data_images_and_output_from_a_local_kernel(tmp_path: Path) -> None:
    """`display()` of an image (a `display_data` message, as a notebook figure is sent) becomes
    an image of the statement, next to its printed output; an error after it lands on its
    document line."""

    async def main() -> tuple[object, list[bytes]]:
        config = InterpreterConfig(
            path=str(tmp_path / "doc.py"), backend="kernel", kernel=KernelTarget(name="python3")
        )
        interpreter = open_interpreter(config, spares=0)
        try:
            code = (
                "import base64\n"
                "from IPython.display import Image, display\n"
                f"png = base64.b64decode('{PNG_1X1}')\n"
                "print('before'); display(Image(data=png)); display(Image(data=png))\n"
                "png[100]\n"
            )
            report = await interpreter.run_stream(ReplayStream(code, rate=None))
            shown = report.results[3].images
            return report, [Path(i.path).read_bytes() for i in shown]
        finally:
            await interpreter.close()

    report, files = asyncio.run(main())
    shown = report.results[3]  # type: ignore[attr-defined]
    assert shown.ok and shown.stdout == "before\n"
    assert [i.label for i in shown.images] == ["figure 1", "figure 2"]
    assert files[0].startswith(b"\x89PNG") and len(files[0]) == shown.images[0].size
    failed = report.failed  # type: ignore[attr-defined]
    assert failed.error.type == "IndexError" and failed.error.line == 5


def test_display_of_text_is_output_not_a_value(tmp_path: Path) -> None:
    """`display()` of something that is not an image prints, as in a notebook: its text is the
    statement's output, and a statement without an expression shows no value."""

    async def main() -> object:
        config = InterpreterConfig(
            path=str(tmp_path / "doc.py"), backend="kernel", kernel=KernelTarget(name="python3")
        )
        interpreter = open_interpreter(config, spares=0)
        try:
            code = "from IPython.display import display\nx = 1; display('hello'); display([x])\n"
            return await interpreter.run_stream(ReplayStream(code, rate=None))
        finally:
            await interpreter.close()

    report = asyncio.run(main())
    shown = report.results[1]  # type: ignore[attr-defined]
    assert shown.ok and shown.stdout == "'hello'\n[1]\n", shown
    assert shown.expr is None, shown.expr


def test_kernel_options_that_do_not_go_together_are_clear_errors(tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("x = 1\n")
    for extra, message in (
        (["--kernel", "python3", "--kernel-connection", "c.json"], "goes alone"),
        (["--kernel", "python3", "--debug"], "--debug is not available"),
        (["--kernel-url", "ftp://host"], "must start with http"),
        # not silently ignored (the code would run in the worker instead)
        (["--kernel-token", "t0ken"], "--kernel-token goes with --kernel-url"),
        (["--kernel", "python3", "--kernel-token", "t0ken"], "goes with --kernel-url"),
    ):
        out = cli("run", *extra, str(src), cwd=tmp_path)
        assert out.returncode != 0 and message in out.stderr, out.stderr
        assert "Traceback" not in out.stderr


def test_many_batches_of_queued_requests_all_come_back(tmp_path: Path) -> None:
    """Ten execute requests per batch, many batches: every reply arrives (an unbounded zmq
    poll once left shell replies unread and the batch waited forever)."""
    from eager_lsp.bench.kernel_roundtrip import _chunk, start_kernel

    async def main() -> int:
        kernel = await start_kernel(str(tmp_path))
        done = 0
        try:
            for _ in range(40):
                batch = [_chunk(i) for i in range(10)]
                # a hang detector, not a speed limit
                events = await asyncio.wait_for(kernel.execute(batch, stop_on_error=True), 60)
                done += sum(1 for e in events if e["ev"] == "result" and e["ok"])
        finally:
            await kernel.shutdown()
        return done

    assert asyncio.run(main()) == 400


def test_the_parallel_gate_with_a_kernel_runs_in_order_and_says_so(tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("a = 1\nb = a + 1\nprint(b)\n")
    out = cli(
        "run", "--rate", "0", "--kernel", "python3", "--gate", "parallel", str(src), cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "b = 2" in out.stdout
    assert "gate parallel: this backend runs statements one at a time" in out.stdout


def test_a_kernels_output_is_printed_while_its_statement_runs(tmp_path: Path) -> None:
    """The kernel's output is passed on while its statement runs (an "output" event at most
    every 0.25 s), so the terminal prints the loop's ticks before its result line, once
    each."""
    (tmp_path / "loop.py").write_text(
        "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.6)\n"
        "print('quick')\n"
    )
    out = cli("run", "--rate", "0", "--kernel", "python3", "loop.py", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    running = text.index("L2-4    running…")
    assert running < text.index("out| tick 0") < text.index("L2-4    i = 2"), text
    assert text.count("tick 0") == 1 and text.count("tick 2") == 1, text
    # as the worker: a statement that ends within 0.25 s sends none (one per display() call
    # before, and a "running…" line for every statement that printed)
    assert "L5      running…" not in text and "out| quick" in text, text


def test_a_kill_the_server_asks_for_says_its_reason_with_a_kernel(tmp_path: Path) -> None:
    """`executor_lost(reason)` (a second Ctrl-C, a restart) kills a kernel we started: the
    statement it cuts short says that reason, not "the kernel connection closed"."""

    async def main() -> object:
        config = InterpreterConfig(
            path=str(tmp_path / "doc.py"),
            cwd=str(tmp_path),
            debug=False,
            backend="kernel",
            kernel=KernelTarget(name="python3"),
        )
        interpreter = open_interpreter(config)
        try:
            await interpreter.start()
            text = "import time\ntime.sleep(60)\n"
            task = asyncio.ensure_future(interpreter.run_stream(ReplayStream(text, rate=None)))
            while not (interpreter.run and 0 in interpreter.run.results):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # (asleep now)
            await interpreter.executor_lost("the interpreter was killed: testing")
            return await asyncio.wait_for(task, 30)
        finally:
            await interpreter.close()

    report = asyncio.run(main())
    failed = report.failed  # type: ignore[attr-defined]
    assert failed is not None and failed.error.type == "InterpreterLost", failed
    assert failed.error.message.startswith("the interpreter was killed: testing"), failed.error
