"""Workers forked by their interpreter's zygote (executors/worker/zygote.py, executors/worker/spawn.py), Linux.

The attack itself (code of one document reading a starting worker's /proc files, as uid
65534) runs against the real server in tests/lsp/test_isolation.py. Here: the lifecycle the
zygote must keep working (parentage, a zygote that dies, group kill, what it holds).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerCrashed, WorkerOptions
from eager_lsp.executors.worker.launch import worker_env
from eager_lsp.executors.worker.spawn import MAX_ZYGOTES, close_zygotes

from .helpers import run1

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise KeyError(field)


def _ppid(pid: int) -> int:
    return int(_status(pid, "PPid"))


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_workers_are_forked_by_one_zygote_per_interpreter(tmp_path: Path) -> None:
    options = WorkerOptions(debug=False, cwd=str(tmp_path))
    first = await WorkerClient.start(options)
    second = await WorkerClient.start(options)
    direct = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path), zygote=False))
    try:
        zygote = _ppid(first.pid)
        assert _ppid(second.pid) == zygote != os.getpid()
        assert "eager_lsp.executors.worker.zygote" in _cmdline(zygote)
        assert _ppid(zygote) == os.getpid()
        assert _ppid(direct.pid) == os.getpid()  # zygote=False: exec'd as before
        # each worker leads its own session and process group (start_new_session)
        assert os.getsid(first.pid) == os.getpgid(first.pid) == first.pid
        result = await run1(first, "import os\nos.getcwd()\n", trailing_expr=True)
        assert result["expr"]["repr"] == repr(str(tmp_path))
    finally:
        for worker in (first, second, direct):
            await worker.shutdown()


async def test_the_zygote_holds_no_secret_of_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During its own dumpable start-up the zygote holds the scrubbed environment only."""
    monkeypatch.setenv("DB_PASS", "hunter2-zygote")
    monkeypatch.setenv("EAGER_ZYGOTE_TEST_MARK", "visible")
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        environ = Path(f"/proc/{_ppid(worker.pid)}/environ").read_bytes()  # we are root here
        assert b"EAGER_ZYGOTE_TEST_MARK=visible" in environ
        assert b"hunter2" not in environ
        result = await run1(
            worker, "import os\nos.environ.get('DB_PASS', 'absent')\n", trailing_expr=True
        )
        assert result["expr"]["repr"] == "'absent'"
    finally:
        await worker.shutdown()


async def test_a_zygote_that_dies_is_replaced_and_its_workers_say_so(tmp_path: Path) -> None:
    options = WorkerOptions(debug=False, cwd=str(tmp_path), env={"PATH": os.defpath, "Z": "1"})
    worker = await WorkerClient.start(options)
    zygote = _ppid(worker.pid)
    os.kill(zygote, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while worker.alive and time.monotonic() < deadline:  # it dies with its zygote
        await asyncio.sleep(0.02)
    assert not worker.alive
    with pytest.raises(WorkerCrashed) as info:
        await run1(worker, "x = 1\n")
    assert f"its zygote (pid {zygote})" in info.value.reason
    assert "killed by SIGKILL" in info.value.reason
    await worker.shutdown()
    fresh = await WorkerClient.start(options)  # a new zygote, no error
    try:
        assert _ppid(fresh.pid) != zygote
        assert (await run1(fresh, "y = 2\n", names=["y"]))["values"][0]["repr"] == "2"
    finally:
        await fresh.shutdown()


async def test_kill_takes_the_workers_process_group(tmp_path: Path) -> None:
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    code = "import subprocess\np = subprocess.Popen(['sleep', '300'])\nchild = p.pid\n"
    result = await run1(worker, code, names=["child"])
    child = int(result["values"][0]["repr"])
    assert os.getpgid(child) == worker.pid
    await worker.kill()
    assert worker.alive is False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(worker.pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker's process group outlived kill()")


async def test_a_zygote_that_cannot_start_says_why(tmp_path: Path) -> None:
    script = tmp_path / "python-that-fails"
    script.write_text("#!/bin/sh\necho 'cannot import encodings' >&2\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(WorkerCrashed) as info:
        await WorkerClient.start(WorkerOptions(python=str(script), debug=False))
    reason = info.value.reason
    assert "(the zygote) exited with code 1" in reason
    assert "cannot import encodings" in reason


async def test_a_cancelled_start_does_not_spoil_the_others(tmp_path: Path) -> None:
    """Starts that wait for the same new zygote: cancelling one leaves the others going."""
    env = {"PATH": os.defpath, "EAGER_TEST": "cancelled-start"}
    options = WorkerOptions(debug=False, cwd=str(tmp_path), env=env)
    first = asyncio.create_task(WorkerClient.start(options))
    second = asyncio.create_task(WorkerClient.start(options))
    await asyncio.sleep(0)  # both now wait for the zygote's hello
    first.cancel()
    worker = await asyncio.wait_for(second, 60)
    try:
        assert (await run1(worker, "z = 3\n", names=["z"]))["values"][0]["repr"] == "3"
    finally:
        await worker.shutdown()
        close_zygotes(sys.executable, worker_env(env))
    with pytest.raises(asyncio.CancelledError):
        await first


def _zygotes_of_ours() -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            ours = _ppid(pid) == os.getpid() and _status(pid, "State")[0] != "Z"
            if ours and "eager_lsp.executors.worker.zygote" in _cmdline(pid):
                found.append(pid)
        except (OSError, KeyError):
            continue
    return found


async def test_zygotes_of_environments_no_longer_used_go_away(tmp_path: Path) -> None:
    """A process whose environment keeps changing (here each test's PYTEST_CURRENT_TEST)
    keeps at most MAX_ZYGOTES zygotes; retired ones stop once their workers have ended."""
    kept = None
    for n in range(MAX_ZYGOTES + 3):
        env = {"PATH": os.defpath, "EAGER_TEST": f"environment {n}"}
        worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path), env=env))
        if n == 0:
            kept = worker  # its zygote is retired while this worker runs: it must keep running
        else:
            await worker.shutdown()
    assert kept is not None
    try:
        assert (await run1(kept, "k = 1\n", names=["k"]))["values"][0]["repr"] == "1"
    finally:
        await kept.shutdown()
    deadline = time.monotonic() + 10
    while len(_zygotes_of_ours()) > MAX_ZYGOTES and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(_zygotes_of_ours()) <= MAX_ZYGOTES


STOPPED_ZYGOTE_SCRIPT = """
import asyncio, sys
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions

async def main():
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=sys.argv[1]))
    print(worker.pid, flush=True)
    sys.stdin.readline()  # the test stops the zygote meanwhile; then we exit, no shutdown

asyncio.run(main())
"""


@pytest.mark.parametrize("end", ["exits", "is SIGKILLed"])
def test_a_zygote_stopped_by_executed_code_goes_when_its_server_ends(
    tmp_path: Path, end: str
) -> None:
    """Executed code runs as the same user as its zygote and can SIGSTOP it; a stopped zygote
    sees no EOF when the server exits, and used to stay behind (and its workers with it). A
    SIGKILLed server runs no exit hook: the zygote is woken (SIGCONT by PR_SET_PDEATHSIG)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "server")}
    server = subprocess.Popen(
        [sys.executable, "-c", STOPPED_ZYGOTE_SCRIPT, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    worker = int(server.stdout.readline())
    zygote = _ppid(worker)
    assert _ppid(zygote) == server.pid
    os.kill(zygote, signal.SIGSTOP)
    if end == "exits":
        server.stdin.write("\n")
        server.stdin.flush()
        assert server.wait(timeout=30) == 0
    else:
        server.kill()
        assert server.wait(timeout=30) == -signal.SIGKILL

    def gone(pid: int) -> bool:
        try:
            return _status(pid, "State")[0] in "ZX"
        except (FileNotFoundError, ProcessLookupError):
            return True

    deadline = time.monotonic() + 15
    while not (gone(zygote) and gone(worker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(zygote) and gone(worker), (_status(zygote, "State"), _status(worker, "State"))
