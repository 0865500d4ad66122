"""Through the real server with debugging allowed (the product default): opening and running
a document opens no port; eager.debugAttachInfo starts debugpy on loopback, with no secret on
any command line, and can break into a statement that is already running."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from eager_lsp.lsp import methods
from tests.support.procs import cmdlines_as_nobody, descendants, listening_tcp, tcp_sockets
from tests.worker.dap import DapClient

from .conftest import Editor

pytestmark = pytest.mark.settings({"debug": {"enabled": True}})


def _everything() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


async def _first_result(editor: Editor, uri: str) -> None:
    await editor.wait_for(
        lambda: any(
            n["chunk"]["startLine"] == 0 for n in editor.notes_for(methods.CHUNK_RESULT, uri)
        ),
        "the first statement's result",
    )


async def test_running_code_opens_no_port_until_attach_is_asked(
    editor: Editor, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "debugger = any(m.split('.')[0] in ('debugpy', 'pydevd') for m in sys.modules)\n"
        "traced = sys.gettrace() is not None\n"
    )
    uri = editor.open("plain.py", code, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert (await editor.summary(uri))["error"] is None
    labels = await editor.hint_labels(uri)
    assert labels[1] == "debugger = False" and labels[2] == "traced = False", labels
    # The server, its interpreter and the warm spare: not a single TCP socket, not even a
    # connection to an out-of-process debug adapter.
    assert tcp_sockets(descendants(os.getpid())) == []

    info = await editor.command(methods.DEBUG_ATTACH_INFO, uri=uri)
    assert info["host"] == "127.0.0.1" and isinstance(info["port"], int)
    owners = [(pid, ip) for pid, ip, port in listening_tcp(_everything()) if port == info["port"]]
    assert owners and all(ip == "127.0.0.1" for _, ip in owners), owners  # loopback only
    # Whoever listens, and everything below the server, shows no secret to another user.
    shown = cmdlines_as_nobody([pid for pid, _ in owners] + descendants(os.getpid()))
    for pid, cmdline in shown.items():
        assert "access-token" not in cmdline and "token" not in cmdline.lower(), (pid, cmdline)
    assert await editor.command(methods.DEBUG_ATTACH_INFO, uri=uri) == info  # same port


async def test_attach_info_breaks_into_a_running_loop(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("spin.py", "n = 0\nwhile True:\n    n += 1\n", tmp_path)
    path = str(tmp_path / "spin.py")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await _first_result(editor, uri)  # the loop runs now

    info = await editor.command(methods.DEBUG_ATTACH_INFO, uri=uri)
    dap = await DapClient.connect(info["port"])
    try:
        await dap.request("initialize", adapterID="python", clientID="test", pathFormat="path")
        attached = dap.send("attach", justMyCode=False)
        await dap.event("initialized")
        await dap.request("configurationDone")
        assert (await asyncio.wait_for(attached, 20))["success"]
        [thread] = (await dap.request("threads"))["body"]["threads"]
        await dap.request("pause", threadId=thread["id"])
        stopped = await dap.event("stopped")
        trace = await dap.request("stackTrace", threadId=stopped["body"]["threadId"], levels=1)
        [top] = trace["body"]["stackFrames"]
        assert top["source"]["path"] == path and top["line"] in (2, 3)
        await dap.request("disconnect", terminateDebuggee=False)
    finally:
        await dap.close()
    result = await editor.command(methods.INTERRUPT, uri=uri)
    assert result == {"interrupted": True, "stateLost": False}
    assert (await editor.summary(uri))["error"].startswith("KeyboardInterrupt")
