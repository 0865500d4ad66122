"""The debugger listens only when asked, on loopback, with no secret on a command line, and
can break into code that is already running (real worker, real debugpy, a raw DAP client)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from tests.support.procs import (
    cmdlines_as_nobody,
    descendants,
    described,
    listening_tcp,
    tcp_sockets,
)
from tests.worker.dap import DapClient
from tests.worker.helpers import chunk, run1

LOOP = "n = 0\nwhile True:\n    n += 1\n"


def _tree(worker: WorkerClient) -> list[int]:
    return [worker.pid, *descendants(worker.pid)]


async def _attach(worker: WorkerClient) -> DapClient:
    """Ask the worker to listen, then attach a raw DAP client to it, as an editor does."""
    port = await asyncio.wait_for(worker.debug_listen(), 30)
    dap = await DapClient.connect(port)
    await dap.request("initialize", adapterID="python", clientID="test", pathFormat="path")
    attached = dap.send("attach", justMyCode=False)
    await dap.event("initialized")
    await dap.request("configurationDone")
    assert (await asyncio.wait_for(attached, 20))["success"]
    return dap


async def _started(worker: WorkerClient, code: str, path: str) -> asyncio.Task:
    started = asyncio.Event()

    def on_event(event: dict) -> None:
        if event["ev"] == "started":
            started.set()

    task = asyncio.create_task(
        worker.execute([chunk(code, path=path)], stop_on_error=True, on_event=on_event)
    )
    await asyncio.wait_for(started.wait(), 20)
    return task


async def test_a_debuggable_worker_starts_without_debugpy(tmp_path: Path) -> None:
    """debug=True (the editors' default) only allows attaching: no import, no trace function,
    no listening socket anywhere in the worker's process tree, before or after running code."""
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    try:
        assert worker.debug_port is None
        result = await run1(
            worker,
            "import sys, threading\n"
            "(sorted(m for m in sys.modules if m.split('.')[0] in ('debugpy', 'pydevd')),"
            " sys.gettrace(), threading._trace_hook)\n",
            trailing_expr=True,
        )
        assert result["expr"]["repr"] == "([], None, None)"
        assert tcp_sockets(_tree(worker)) == []
    finally:
        await worker.shutdown()


async def test_listening_is_loopback_in_process_and_has_no_secret_on_a_command_line(
    tmp_path: Path,
) -> None:
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    try:
        port = await worker.debug_listen()
        assert await worker.debug_listen() == port  # idempotent: one port per interpreter
        assert listening_tcp(_tree(worker)) == [(worker.pid, "127.0.0.1", port)]
        # What any other user's `ps` shows of the worker and everything it started.
        shown = cmdlines_as_nobody(_tree(worker))
        assert worker.pid in shown
        for pid, cmdline in shown.items():
            assert "token" not in cmdline.lower(), (pid, cmdline)
            assert "debugpy" not in cmdline, (pid, cmdline)  # no adapter child at all
    finally:
        await worker.shutdown()


async def test_debugging_off_refuses_to_listen(tmp_path: Path) -> None:
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        with pytest.raises(RuntimeError, match="disabled"):
            await worker.debug_listen()
        assert listening_tcp(_tree(worker)) == []
    finally:
        await worker.shutdown()


async def test_attach_breaks_into_a_running_infinite_loop(tmp_path: Path) -> None:
    """The chunk is already spinning when the attach request comes: the worker's request
    reader starts debugpy, pydevd traces the running main thread, and a pause stops it on the
    loop's lines. Then detach and interrupt as usual: the state survives."""
    doc = str(tmp_path / "loop.py")
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    dap: DapClient | None = None
    try:
        task = await _started(worker, LOOP, doc)
        dap = await _attach(worker)
        threads = (await dap.request("threads"))["body"]["threads"]
        assert [t["name"] for t in threads] == ["MainThread"]  # our own threads are hidden
        await dap.request("pause", threadId=threads[0]["id"])
        stopped = await dap.event("stopped")
        assert stopped["body"]["reason"] == "pause"
        trace = await dap.request("stackTrace", threadId=stopped["body"]["threadId"], levels=1)
        [top] = trace["body"]["stackFrames"]
        assert top["source"]["path"] == doc and top["line"] in (2, 3)
        scopes = await dap.request("scopes", frameId=top["id"])
        assert scopes["body"]["scopes"]
        value = await dap.request("evaluate", expression="n > 0", frameId=top["id"])
        assert value["body"]["result"] == "True"
        await dap.request("disconnect", terminateDebuggee=False)
        await dap.close()
        dap = None

        assert await worker.interrupt() == "interrupted"
        [result] = await asyncio.wait_for(task, 20)
        assert result["error"]["type"] == "KeyboardInterrupt"
        after = await run1(worker, "n > 0\n", trailing_expr=True, path=doc)
        assert after["expr"]["repr"] == "True"
    finally:
        if dap is not None:
            await dap.close()
        await worker.shutdown()


async def test_nothing_below_us_holds_a_tcp_socket_until_asked(tmp_path: Path) -> None:
    """Not even a connection: debugpy's old out-of-process adapter daemonized itself out of
    our process tree, so look for the worker's end too. Everything below the test process
    counts (a spare, an adapter child)."""
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    try:
        await run1(worker, "x = sum(range(1000))\n")
        held = tcp_sockets(descendants(os.getpid()))
        assert held == [], described(held)
    finally:
        await worker.shutdown()


async def test_attach_breaks_into_a_parallel_statement_on_a_thread_started_before(
    tmp_path: Path,
) -> None:
    """The parallel gate reuses its statement threads: the thread running the loop here was
    started (for an earlier statement) before the debugger existed. pydevd traces it on
    attach all the same, lists it, and a pause stops it on the loop's lines."""
    doc = str(tmp_path / "par.py")
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    dap: DapClient | None = None
    try:
        first = chunk("import threading\nfirst_thread = threading.get_ident()\n", path=doc)
        first.update(after=[], exclusive=False, speculative=False)
        [done] = await asyncio.wait_for(
            worker.execute_parallel([first], run=1, stop_on_error=True), 30
        )
        assert done["ok"]
        started = asyncio.Event()

        def on_event(event: dict) -> None:
            if event["ev"] == "started":
                started.set()

        loop = chunk("loop_thread = threading.get_ident()\n" + LOOP, first_line=3, path=doc)
        loop.update(after=[], exclusive=False, speculative=False)
        task = asyncio.ensure_future(
            worker.execute_parallel([loop], run=1, stop_on_error=True, on_event=on_event)
        )
        await asyncio.wait_for(started.wait(), 20)
        dap = await _attach(worker)
        threads = (await dap.request("threads"))["body"]["threads"]
        statement = [t for t in threads if t["name"] != "MainThread"]
        assert len(statement) == 1, threads
        await dap.request("pause", threadId=statement[0]["id"])
        stopped = await dap.event("stopped")
        trace = await dap.request("stackTrace", threadId=stopped["body"]["threadId"], levels=1)
        [top] = trace["body"]["stackFrames"]
        assert top["source"]["path"] == doc and top["line"] in (5, 6), top
        await dap.request("disconnect", terminateDebuggee=False)
        await dap.close()
        dap = None

        assert await worker.interrupt() == "interrupted"
        [result] = await asyncio.wait_for(task, 20)
        assert result["error"]["type"] == "KeyboardInterrupt"
        same = await run1(worker, "loop_thread == first_thread\n", trailing_expr=True, path=doc)
        assert same["expr"]["repr"] == "True"  # the loop ran on the reused thread
    finally:
        if dap is not None:
            await dap.close()
        await worker.shutdown()


_DAP_PROBE = r"""
exec 3<>/dev/tcp/127.0.0.1/$1 || exit 3
body='{"seq":1,"type":"request","command":"initialize","arguments":{"adapterID":"python"}}'
printf 'Content-Length: %d\r\n\r\n%s' "${#body}" "$body" >&3
timeout 10 head -c 300 <&3
"""


def _probe(port: int, *, as_nobody: bool) -> str:
    """Connect to `port`, send DAP `initialize`, and return what comes back (bash's /dev/tcp:
    the other user can run no Python of ours, which lives under /root)."""
    import subprocess

    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody else []
    out = subprocess.run(
        [*prefix, "/bin/bash", "-c", _DAP_PROBE, "probe", str(port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user (nobody)")
async def test_another_user_cannot_attach(tmp_path: Path) -> None:
    """Loopback is open to every account: a reviewer, as another user, attached to a worker's
    debugger and ran `os.system` as the editor's user. Now the worker closes a connection
    from any other user before reading it; its own user still attaches."""
    worker = await WorkerClient.start(WorkerOptions(debug=True, cwd=str(tmp_path)))
    try:
        port = await asyncio.wait_for(worker.debug_listen(), 30)
        assert await asyncio.to_thread(_probe, port, as_nobody=True) == ""
        answer = await asyncio.to_thread(_probe, port, as_nobody=False)
        assert '"command":"initialize"' in answer.replace(" ", ""), answer
        dap = await _attach(worker)  # and an editor's client works as before
        await dap.close()
    finally:
        await worker.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/net/tcp")
def test_the_owner_of_a_connection_is_read_for_ipv4_and_mapped_ipv6_and_not_for_a_closed_end() -> (
    None
):
    """A dual-stack client (`::ffff:127.0.0.1`, the JVM's default) is in /proc/net/tcp6, and
    was refused; a peer that sent and closed left an ownerless row (uid 0, inode 0) that read
    as root, and its buffered `initialize` was let in (a reviewing helper)."""
    import socket

    from eager_lsp.executors.worker.debug_owner import peer_uid

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    with server:
        v4 = socket.create_connection(("127.0.0.1", port))
        ours_v4, _ = server.accept()
        v6 = socket.socket(socket.AF_INET6)
        v6.connect(("::ffff:127.0.0.1", port))
        ours_v6, _ = server.accept()
        assert peer_uid(ours_v4) == os.geteuid()
        assert peer_uid(ours_v6) == os.geteuid()
        v4.sendall(b"Content-Length: 2\r\n\r\n{}")
        v4.close()
        deadline = time.monotonic() + 10
        while peer_uid(ours_v4) is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # (the close reaches the table at once; this only bounds it)
        assert peer_uid(ours_v4) is None
        for s in (ours_v4, ours_v6, v6):
            s.close()
