"""The language server with `execution.backend = "kernel"`: a real local ipykernel (kernelspec
python3) runs the document; results, diagnostics on the right line, and interrupt."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from tests.support.jupyter import kernels_on

from .conftest import Editor

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

KERNEL = {"execution": {"backend": "kernel", "kernel": {"name": "python3"}}}

SCRIPT = """\
import math
x = 6 * 7
print("hello", x)
data = [1, 2, 3]
math.sqrt(x)
y = x / 0
z = 1
"""


@pytest.mark.settings(KERNEL)
async def test_run_document_in_a_jupyter_kernel(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("run.py", SCRIPT, tmp_path)
    assert await editor.command(methods.RUN_DOCUMENT, uri=uri) == {"started": True}
    summary = await editor.summary(uri)
    assert summary["error"] == "ZeroDivisionError: division by zero"
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert [(d.range.start.line, d.message) for d in diags.diagnostics] == [
        (5, "ZeroDivisionError: division by zero")
    ]
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    by_line = {r["chunk"]["startLine"]: r for r in results}
    assert by_line[1]["values"][0]["name"] == "x"
    assert by_line[1]["values"][0]["type"] == "int"
    assert by_line[2]["stdout"] == "hello 42\n"
    assert by_line[5]["error"]["line"] == 5
    assert by_line[6]["skipped"] is True
    labels = await editor.hint_labels(uri)
    assert labels[1] == "x = 42"
    assert labels[2] == "» hello 42"


@pytest.mark.settings(KERNEL)
async def test_interrupt_a_kernel_keeps_its_state(editor: Editor, tmp_path: Path) -> None:
    # get_ipython exists only in the kernel: the worker would fail on line 1
    code = "kept = type(get_ipython()).__name__\nwhile True:\n    pass\n"
    uri = editor.open("loop.py", code, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(
        lambda: any(
            n["chunk"]["startLine"] == 0 for n in editor.notes_for(methods.CHUNK_RESULT, uri)
        ),
        "the first statement",
    )
    first = editor.notes_for(methods.CHUNK_RESULT, uri)[0]
    assert first["ok"] and first["values"][0]["repr"] == "'ZMQInteractiveShell'"
    result = await editor.command(methods.INTERRUPT, uri=uri)
    assert result == {"interrupted": True, "stateLost": False}
    summary = await editor.summary(uri)
    assert summary["error"].startswith("KeyboardInterrupt")
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line in (1, 2)


@pytest.mark.settings(
    {"execution": {"backend": "kernel", "kernel": {"name": "python3"}, "gate": "parallel"}}
)
async def test_the_parallel_gate_with_a_kernel_runs_in_order_and_says_so(
    editor: Editor, tmp_path: Path
) -> None:
    uri = editor.open("par.py", "a = 1\nb = a + 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    results = {r["chunk"]["startLine"]: r for r in editor.notes_for(methods.CHUNK_RESULT, uri)}
    assert results[1]["values"][0]["summary"] == "2"
    told = [m for m in editor.messages() if "gate 'parallel' is not available" in m]
    assert len(told) == 1, editor.messages()
    assert "par.py runs one statement at a time" in told[0]


@pytest.mark.settings(KERNEL)
async def test_restart_gives_a_fresh_kernel(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("restart.py", "a = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    assert (await editor.summary(uri))["error"] is None
    assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
    assert await editor.hint_labels(uri) == {}  # results of the old kernel are gone
    editor.replace(uri, (0, 0), (1, 0), "a\n")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    # a new kernel: `a` is not there any more
    assert (await editor.summary(uri, 2))["error"] == "NameError: name 'a' is not defined"


@pytest.fixture
def attached_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An ipykernel started as a notebook starts one (not by eager-lsp): its connection file."""
    conn = tmp_path_factory.mktemp("kernel") / "kernel-attached.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not conn.exists() or conn.stat().st_size == 0:
            assert time.monotonic() < deadline and proc.poll() is None, "no kernel"
            time.sleep(0.1)
        yield conn
    finally:
        proc.kill()  # it may still be in the loop that ignores interrupts
        proc.wait()


async def test_an_attached_kernel_that_ignores_the_interrupt_is_still_running(
    editor: Editor, tmp_path: Path, attached_kernel: Path
) -> None:
    """Not "interrupted" (it was not) and not killed (it is the user's kernel): the editor is
    told it is still running."""
    kernel = {"backend": "kernel", "kernel": {"connectionFile": str(attached_kernel)}}
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(
            settings={"eager": {"execution": {**kernel, "interruptGraceSeconds": 1}}}
        )
    )
    code = (  # whenever the interrupt lands, the loop swallows it
        "import time\n"
        "while True:\n"
        "    try:\n"
        "        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n"
        "        pass\n"
    )
    uri = editor.open("stubborn.py", code, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(
        lambda: any(
            n["chunk"]["startLine"] == 0 for n in editor.notes_for(methods.CHUNK_RESULT, uri)
        ),
        "the first statement",
    )
    result = await editor.command(methods.INTERRUPT, uri=uri)
    assert result == {"interrupted": False, "stateLost": False, "stillRunning": True}


async def test_a_document_runs_in_a_kernel_of_a_jupyter_server(
    editor: Editor, tmp_path: Path, jupyter_server: tuple[str, str]
) -> None:
    """`execution.kernel.url` + token: the server starts a kernel on a real `jupyter server`
    (127.0.0.1, random token), runs the document there, never shows the token, and deletes
    the kernel when the document is closed."""
    url, token = jupyter_server
    before = {k["id"] for k in kernels_on(url, token)}
    kernel = {"backend": "kernel", "kernel": {"url": url, "token": token}}
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"eager": {"execution": kernel}})
    )
    uri = editor.open("remote.py", SCRIPT, tmp_path)
    assert await editor.command(methods.RUN_DOCUMENT, uri=uri) == {"started": True}
    summary = await editor.summary(uri)
    assert summary["error"] == "ZeroDivisionError: division by zero"
    by_line = {r["chunk"]["startLine"]: r for r in editor.notes_for(methods.CHUNK_RESULT, uri)}
    assert by_line[1]["values"][0]["repr"] == "42"
    assert by_line[2]["stdout"] == "hello 42\n"
    assert by_line[5]["error"]["line"] == 5
    started = {k["id"] for k in kernels_on(url, token)} - before
    assert len(started) == 1, started
    shown = [*editor.messages(), *(m.message for m in editor.client.log_messages)]
    assert not [m for m in shown if token in m]
    editor.close(uri)
    await editor.wait_for(
        lambda: not started & {k["id"] for k in kernels_on(url, token)}, "the kernel deleted"
    )
