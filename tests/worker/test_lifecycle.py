"""Interrupts, crashes, the pool, debugpy, the environment and a foreign interpreter."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerCrashed, WorkerOptions
from eager_lsp.executors.worker.launch import is_secret, scrub_env, worker_path_dir
from eager_lsp.executors.worker.pool import WorkerPool
from tests.worker.dap import DapClient
from tests.worker.helpers import chunk, run1


async def _run_in_background(worker: WorkerClient, code: str) -> asyncio.Task:
    """Start `code` and return once the worker reports it started."""
    started = asyncio.Event()

    def on_event(event: dict) -> None:
        if event["ev"] == "started":
            started.set()

    task = asyncio.create_task(
        worker.execute([chunk(code, 10)], stop_on_error=True, on_event=on_event)
    )
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.2)
    return task


async def test_interrupt_keeps_state(worker: WorkerClient) -> None:
    await run1(worker, "kept = 'still here'\n")
    task = await _run_in_background(worker, "n = 0\nwhile True:\n    n += 1\n")
    assert await worker.interrupt() == "interrupted"
    [result] = await asyncio.wait_for(task, 10)
    assert result["error"]["type"] == "KeyboardInterrupt"
    assert result["error"]["line"] in (11, 12)
    after = await run1(worker, "kept, n > 0\n", trailing_expr=True)
    assert after["expr"]["repr"] == "('still here', True)"
    assert await worker.interrupt() == "idle"


async def test_interrupt_skips_rest_of_batch(worker: WorkerClient) -> None:
    batch = [chunk("import time\ntime.sleep(30)\n", 1), chunk("after = 1\n", 3)]
    task = asyncio.create_task(worker.execute(batch, stop_on_error=False))
    await asyncio.sleep(0.5)
    assert await worker.interrupt() == "interrupted"
    results = await task
    assert [r["ev"] for r in results] == ["result", "skipped"]


def _no_worker_frame(err: dict[str, Any]) -> None:
    """Neither the frames nor the traceback text show the worker's own code."""
    assert all(f["in_document"] for f in err["frames"]), err["frames"]
    for worker_code in ("runner.py", "_on_sigint", "executors/worker"):
        assert worker_code not in err["traceback"], err["traceback"]


async def test_an_interrupt_shows_only_the_users_frames(worker: WorkerClient) -> None:
    """The KeyboardInterrupt is raised in the worker's SIGINT handler (runner.py) on top of the
    user's frames; the user sees their own frames only, as `python` shows them, whether the
    interrupt came from the client or as a bare SIGINT (Ctrl-C)."""
    code = "import time\ndef wait():\n    time.sleep(30)\nwait()\n"  # lines 10-13
    for send in (lambda: os.kill(worker.pid, signal.SIGINT), worker.interrupt):
        task = await _run_in_background(worker, code)
        sent = send()
        if sent is not None:
            assert await sent == "interrupted"
        [result] = await asyncio.wait_for(task, 10)
        err = result["error"]
        assert err["type"] == "KeyboardInterrupt"
        frames = [(f["function"], f["line"]) for f in err["frames"]]
        assert frames == [("wait", 12), ("<module>", 13)]
        assert err["line"] == 12
        _no_worker_frame(err)
        text = err["traceback"]
        assert text.endswith("    time.sleep(30)\nKeyboardInterrupt\n"), text


async def test_an_interrupt_in_deep_or_chained_code_shows_only_the_users_frames(
    worker: WorkerClient,
) -> None:
    """The same for a deep call chain (formatted by the worker, bounded) and for an exception
    raised while handling the interrupt (the interrupt is its context)."""
    deep = (
        "import time\ndef deep(n):\n    if n == 0:\n        time.sleep(30)\n"
        "    return deep(n - 1)\ndeep(100)\n"
    )
    task = await _run_in_background(worker, deep)
    assert await worker.interrupt() == "interrupted"
    [result] = await asyncio.wait_for(task, 10)
    err = result["error"]
    assert err["type"] == "KeyboardInterrupt" and err["line"] == 13
    _no_worker_frame(err)
    assert "[Previous line repeated 97 more times]" in err["traceback"]
    assert err["traceback"].endswith("time.sleep(30)\nKeyboardInterrupt\n"), err["traceback"]

    chained = (
        "import time\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n"
        "    raise ValueError('cancelled')\n"
    )
    task = await _run_in_background(worker, chained)
    await worker.interrupt()  # ("idle": the statement ended with its own ValueError)
    [result] = await asyncio.wait_for(task, 10)
    err = result["error"]
    assert err["type"] == "ValueError" and err["line"] == 14
    _no_worker_frame(err)
    assert "During handling of the above exception" in err["traceback"]
    assert "time.sleep(30)\nKeyboardInterrupt\n" in err["traceback"], err["traceback"]


async def test_an_interrupt_no_statement_took_is_not_called_interrupted(tmp_path: Path) -> None:
    """The statement ends by itself although SIGINT came (here its own handler swallows it;
    in the wild the signal comes just after the batch's last statement, and the worker drops
    it): the answer is "idle", not "interrupted", so nobody is told code stopped that ran on."""
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        code = "import signal, time\nsignal.signal(signal.SIGINT, lambda *a: None)\ntime.sleep(1)\n"
        task = await _run_in_background(worker, code)
        assert await worker.interrupt() == "idle"
        [result] = await asyncio.wait_for(task, 10)
        assert result["ok"], result
        assert worker.alive
    finally:
        await worker.kill()


async def test_sigint_while_idle_is_ignored(worker: WorkerClient) -> None:
    await run1(worker, "kept = 5\n")
    os.kill(worker.pid, signal.SIGINT)
    await asyncio.sleep(0.3)
    assert worker.alive
    result = await run1(worker, "kept\n", trailing_expr=True)
    assert result["ok"] and result["expr"]["repr"] == "5"


async def test_interrupt_ignored_by_code_kills_after_grace(tmp_path: Path) -> None:
    options = WorkerOptions(debug=False, cwd=str(tmp_path), interrupt_grace_s=1.0)
    worker = await WorkerClient.start(options)
    try:
        code = "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass\n"
        task = await _run_in_background(worker, code)
        began = time.monotonic()
        assert await worker.interrupt() == "killed"
        assert time.monotonic() - began < 10
        with pytest.raises(WorkerCrashed) as info:
            await asyncio.wait_for(task, 10)
        assert "did not stop" in info.value.reason
        assert not worker.alive
        with pytest.raises(WorkerCrashed):
            await run1(worker, "1\n")
    finally:
        await worker.kill()


async def test_crash_by_exit(worker: WorkerClient) -> None:
    with pytest.raises(WorkerCrashed) as info:
        await run1(worker, "import os\nos._exit(3)\n")
    assert "exited with code 3" in info.value.reason
    assert not worker.alive


async def test_crash_by_segfault(worker: WorkerClient) -> None:
    with pytest.raises(WorkerCrashed) as info:
        await run1(worker, "import ctypes\nctypes.string_at(0)\n")
    assert "SIGSEGV" in info.value.reason
    assert "Fatal Python error" in info.value.reason  # faulthandler's report, via stderr
    # where the user's code was, not the worker's threads and frames (a newcomer's terminal
    # filled with 30 lines of zygote.py, capture.py and debugging.py around one line of theirs)
    assert 'doc.py", line 2 in <module>' in info.value.reason, info.value.reason
    assert "eager_lsp" not in info.value.reason and "Thread 0x" not in info.value.reason


async def test_pool_replaces_crashed_worker(tmp_path: Path) -> None:
    pool = WorkerPool(WorkerOptions(debug=False, cwd=str(tmp_path)), spares=1)
    try:
        first = await pool.acquire()
        await run1(first, "x = 1\n")
        with pytest.raises(WorkerCrashed):
            await run1(first, "import os\nos._exit(1)\n")
        began = time.monotonic()
        second = await pool.acquire()
        assert time.monotonic() - began < 30  # (a hang, not a speed goal: the spare is ready)
        assert second.alive and second.pid != first.pid
        result = await run1(second, "'x' in globals()\n", trailing_expr=True)
        assert result["expr"]["repr"] == "False"
        await second.shutdown()
    finally:
        await pool.close()


async def test_debugpy_port_accepts_connections(tmp_path: Path) -> None:
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    try:
        assert worker.debug_port is None  # nothing listens until asked
        port = await worker.debug_listen()
        assert worker.debug_error is None and worker.debug_port == port > 0
        _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        writer.close()
        await writer.wait_closed()
        result = await run1(worker, "import sys\n'debugpy' in sys.modules\n", trailing_expr=True)
        assert result["expr"]["repr"] == "True"
    finally:
        await worker.shutdown()


async def test_debugpy_breakpoint_stops_on_editor_line(tmp_path: Path) -> None:
    """A breakpoint set on the document's path and line is hit by chunk code, in a function
    from an earlier chunk too: chunks compile with the real path and line numbers, on the
    main thread although debugpy.listen ran on the request-reader thread."""
    doc = str(tmp_path / "doc.py")
    # pydevd refuses breakpoints in files missing on disk and moves them to code lines of the
    # file on disk, so this is the saved-buffer case (see executors/worker/runner.py's docstring).
    source = "\n" * 20 + "def g(v):\n    w = v * 2\n    return w\n" + "\n" * 6 + "y = g(20)\n"
    (tmp_path / "doc.py").write_text(source)
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    dap = await DapClient.connect(await worker.debug_listen())
    try:
        await dap.request("initialize", adapterID="python", clientID="test", pathFormat="path")
        attached = dap.send("attach", justMyCode=False)
        await dap.event("initialized")
        response = await dap.request(
            "setBreakpoints", source={"path": doc}, breakpoints=[{"line": 22}]
        )
        assert response["body"]["breakpoints"][0]["line"] == 22
        await dap.request("configurationDone")
        assert (await asyncio.wait_for(attached, 20))["success"]

        define = chunk("def g(v):\n    w = v * 2\n    return w\n", 21, path=doc)
        run = chunk("y = g(20)\n", 30, ["y"], path=doc)
        task = asyncio.create_task(worker.execute([define, run], stop_on_error=True))
        stopped = await dap.event("stopped")
        assert stopped["body"]["reason"] == "breakpoint"
        thread = stopped["body"]["threadId"]
        trace = await dap.request("stackTrace", threadId=thread, levels=2)
        top, caller = trace["body"]["stackFrames"]
        assert (top["name"], top["line"], top["source"]["path"]) == ("g", 22, doc)
        assert (caller["line"], caller["source"]["path"]) == (30, doc)
        await dap.request("continue", threadId=thread)
        results = await asyncio.wait_for(task, 20)
        assert results[1]["values"][0]["repr"] == "40"
    finally:
        await dap.close()
        await worker.shutdown()


async def test_no_debug_reports_no_port(worker: WorkerClient) -> None:
    assert worker.debug_port is None


async def test_secrets_are_not_in_child_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "t")
    monkeypatch.setenv("EAGER_LSP_PLAIN_SETTING", "visible")
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        code = "import os\n[k for k in os.environ if 'KEY' in k or 'TOKEN' in k], os.getcwd()\n"
        result = await run1(worker, code, trailing_expr=True)
        assert result["expr"]["repr"] == f"([], {str(tmp_path)!r})"
        plain = await run1(worker, "os.environ['EAGER_LSP_PLAIN_SETTING']\n", trailing_expr=True)
        assert plain["expr"]["repr"] == "'visible'"
    finally:
        await worker.shutdown()


def test_secret_rule() -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "AWS_REGION", "GH_TOKEN", "db_password"):
        assert is_secret(name), name
    for name in ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "HF_HOME"):  # SSH_AUTH_SOCK: secret
        assert not is_secret(name), name
    assert scrub_env({"PATH": "/bin", "API_KEY": "x"}) == {"PATH": "/bin"}


def test_worker_path_holds_only_symlinks() -> None:
    path = Path(worker_path_dir())
    entries = sorted(p.name for p in path.iterdir())
    assert entries == ["debugpy", "eager_lsp"]
    assert all((path / name).is_symlink() for name in entries)
    assert worker_path_dir() == str(path)  # built once, then reused


async def test_runs_in_a_bare_venv_without_debugpy(tmp_path: Path) -> None:
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import debugpy"], capture_output=True)
    assert probe.returncode != 0  # really bare
    worker = await WorkerClient.start(WorkerOptions(python=python, debug=True, cwd=str(tmp_path)))
    try:
        assert worker.python == python
        assert await worker.debug_listen()  # debugpy comes from the server's environment
        code = "import sys\nsys.prefix\n"
        result = await run1(worker, code, trailing_expr=True)
        assert result["expr"]["repr"] == repr(str(venv))
    finally:
        await worker.shutdown()


def _older_python() -> str | None:
    """python3.9/3.8 from PATH, or from pyenv's versions directory."""
    candidates = [shutil.which(name) for name in ("python3.9", "python3.8")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(p) for p in sorted(pyenv.glob("3.[89].*/bin/python"), reverse=True)]
    for path in candidates:
        if path and subprocess.run([path, "-c", "pass"], capture_output=True).returncode == 0:
            return path
    return None


async def test_runs_on_an_older_python_without_debugpy(tmp_path: Path) -> None:
    """The user's interpreter may predate what debugpy supports: run, report why no debug."""
    python = _older_python()
    if python is None:
        pytest.skip("no Python 3.8/3.9 found")
    worker = await WorkerClient.start(WorkerOptions(python=python, debug=True, cwd=str(tmp_path)))
    try:
        with pytest.raises(RuntimeError, match=r"3\.10"):
            await worker.debug_listen()
        results = await worker.execute(
            [chunk("d = {'a': [1]}\ndef f():\n    return 1 / 0\n", 1, ["d"]), chunk("f()\n", 5)],
            stop_on_error=True,
        )
        assert results[0]["values"][0]["repr"] == "{'a': [1]}"
        assert results[1]["error"]["line"] == 3
    finally:
        await worker.shutdown()


async def test_start_failures_say_why(tmp_path: Path) -> None:
    with pytest.raises(WorkerCrashed) as missing:
        await WorkerClient.start(WorkerOptions(python=str(tmp_path / "no-python"), debug=False))
    assert "cannot start" in missing.value.reason
    script = tmp_path / "broken-python"
    script.write_text("#!/bin/sh\necho 'no such module' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(WorkerCrashed) as broken:
        await WorkerClient.start(WorkerOptions(python=str(script), debug=False))
    assert "exited with code 3" in broken.value.reason
    assert "no such module" in broken.value.reason


async def test_cancelled_execute_does_not_confuse_the_next(worker: WorkerClient) -> None:
    task = asyncio.create_task(
        worker.execute([chunk("import time\ntime.sleep(0.5)\nlate = 1\n", 1)], stop_on_error=True)
    )
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await run1(worker, "late\n", trailing_expr=True)  # waits for the first batch
    assert result["expr"]["repr"] == "1"


_ORPHANING_PARENT = """
import asyncio, sys
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions

async def main():
    worker = await WorkerClient.start(WorkerOptions(debug=False))
    chunk = {"id": 1, "code": "while True:\\n    pass\\n", "path": "/tmp/x.py",
             "first_line": 1, "names": [], "trailing_expr": False}
    asyncio.create_task(worker.execute([chunk], stop_on_error=True))
    await asyncio.sleep(0.3)
    print(worker.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_runaway_worker_exits_when_the_server_dies(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHANING_PARENT], stdout=subprocess.PIPE, cwd=tmp_path
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert _alive(pid)
        parent.kill()  # the server dies without a word; the worker is mid-`while True`
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)
    finally:
        parent.kill()
        parent.wait()


def test_a_worker_whose_server_dies_leaves_no_process_behind(tmp_path: Path) -> None:
    """The server is killed without any cleanup; the worker notices and takes its process
    group along: a child process the user's code started, with debugpy listening."""
    import os
    import subprocess
    import sys
    import time

    server = tmp_path / "server.py"
    server.write_text(
        "import asyncio, os, sys\n"
        "from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions\n"
        "async def main():\n"
        f"    w = await WorkerClient.start(WorkerOptions(debug=True, cwd={str(tmp_path)!r}))\n"
        "    await w.execute([{'id': 0, 'code': 'import subprocess\\n"
        "p = subprocess.Popen([\"sleep\", \"300\"])\\n', 'path': 'x.py', 'first_line': 1,"
        " 'names': [], 'trailing_expr': False}], stop_on_error=True)\n"
        "    print(w.pid, await w.debug_listen(), flush=True)\n"
        "    os._exit(0)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, str(server)], capture_output=True, text=True, timeout=120)
    pid, port = (int(x) for x in out.stdout.split())
    assert port > 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    raise AssertionError(f"process group {pid} still has members 15 s after its server died")


async def test_reset_frees_the_old_namespace_even_through_cycles(worker: WorkerClient) -> None:
    # A function defined in the namespace references the namespace (its globals): a cycle
    # that only the garbage collector frees. A weakref parked outside the namespace tells.
    await run1(
        worker,
        "import builtins, weakref\n"
        "class Big:\n    pass\n"
        "big = Big()\n"
        "def keeps_globals():\n    return big\n"
        "builtins._eager_probe = weakref.ref(big)\n",
    )
    await worker.reset()
    result = await run1(
        worker, "import builtins\nbuiltins._eager_probe() is None\n", trailing_expr=True
    )
    assert result["ok"], result
    assert result["expr"]["repr"] == "True"


async def test_an_event_read_in_many_pieces_arrives_whole(worker: WorkerClient) -> None:
    """A result line far longer than one pipe read (64 KiB) is put together from the pieces
    the event pipe delivers, and the next event after it is read too. (Output is kept up to
    64 Ki characters; each `é` is six bytes on the wire, `\\u00e9`: a line of ~390 KB.)"""
    result = await run1(worker, "print('é' * 900_000)\ny = 'é' * 100\n")
    assert result["ok"], result
    assert result["stdout"].startswith("é" * 1000)
    assert len(result["stdout"]) > 60_000
    after = await run1(worker, "y\n", trailing_expr=True)
    assert after["expr"]["repr"] == repr("é" * 100)


async def test_an_event_line_over_the_limit_ends_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line longer than LINE_LIMIT is not held in memory: the event stream ends there and the
    batch fails as if the worker had gone away (the old reader's rule, kept)."""
    from eager_lsp.executors.worker import client as client_module

    monkeypatch.setattr(client_module, "LINE_LIMIT", 10_000)
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        with pytest.raises(WorkerCrashed):
            await asyncio.wait_for(
                worker.execute([chunk("print('x' * 50_000)\n", 1)], stop_on_error=True), 30
            )
        assert not worker.alive
    finally:
        await worker.kill()


class _Unusual(BaseException):
    """Not an Exception: what a listener might raise that the read callback must not swallow
    into a replay (tests below)."""


async def test_a_listener_that_raises_fails_its_execute_and_nothing_else(
    worker: WorkerClient,
) -> None:
    """`on_event` runs in the event pipe's read callback: what it raises, even a
    BaseException, is raised by the execute that passed it, once the batch is read; no event
    is handed over twice and the next execute works."""
    seen: list[tuple[str, int]] = []

    def on_event(event: Any) -> None:
        seen.append((event["ev"], event["id"]))
        if event["ev"] == "result":
            raise _Unusual()

    first, second = chunk("a = 1\n", 1), chunk("b = 2\n", 2)
    with pytest.raises(_Unusual):
        await asyncio.wait_for(
            worker.execute([first, second], stop_on_error=True, on_event=on_event), 30
        )
    assert seen == [("started", first["id"]), ("result", first["id"])]
    after = await run1(worker, "a + b\n", trailing_expr=True)
    assert after["expr"]["repr"] == "3"


async def test_a_worker_that_exits_is_gone_though_a_child_holds_its_event_pipe(
    worker: WorkerClient, tmp_path: Path
) -> None:
    """Executed code starts a child that inherits the event pipe and outlives the worker, in
    a session of its own; then the worker exits. The run waited for that child to close the
    pipe (40 s in an attacking helper's test; forever with `sleep infinity`): the worker's
    exit is its end now. The child is killed here after."""
    pid_file = tmp_path / "child.pid"
    code = (
        "import os, subprocess\n"
        "child = subprocess.Popen(['sleep', '300'], pass_fds=(3,), start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "os._exit(3)\n"
    )
    try:
        with pytest.raises(WorkerCrashed):
            await asyncio.wait_for(worker.execute([chunk(code, 1)], stop_on_error=True), 60)
        assert not worker.alive
    finally:
        if pid_file.exists():
            with contextlib.suppress(OSError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


async def test_an_event_the_server_cannot_route_ends_the_stream(worker: WorkerClient) -> None:
    """Executed code can reach the worker's event writer; an object the client cannot route
    (here `error` is not an object) ends the stream with a reason, as a lost worker: it must
    not raise in the read callback and be read again with every later read."""
    forge = (
        "import gc\n"
        "_w = [o for o in gc.get_objects() if type(o).__name__ == 'EventWriter'][0]\n"
        "_w({'ev': 'result', 'id': 99, 'error': 'not an object'})\n"
    )
    with pytest.raises(WorkerCrashed) as lost:
        await asyncio.wait_for(
            worker.execute([chunk(forge, 1), chunk("b = 2\n", 2)], stop_on_error=True), 30
        )
    assert "could not read" in lost.value.reason
    assert not worker.alive


async def test_an_execute_cancelled_while_sending_is_handed_nothing(
    worker: WorkerClient,
) -> None:
    """A request larger than the pipe holds is still being written when its execute is
    cancelled: the batch may run, but its events go to nobody."""
    seen: list[str] = []
    big = "s = '" + "x" * 4_000_000 + "'\n"
    task = asyncio.create_task(
        worker.execute([chunk(big, 1)], stop_on_error=True, on_event=lambda e: seen.append(e["ev"]))
    )
    await asyncio.sleep(0)  # the task starts writing and waits for the pipe to drain
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await run1(worker, "len(s)\n", trailing_expr=True)  # waits for the first batch
    assert seen == []
    assert after["ok"], after
