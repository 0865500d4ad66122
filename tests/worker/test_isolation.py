"""Issue 9.2: opening a workspace runs none of its files.

The worker runs in the workspace. Before the fix `python -m eager_lsp.executors.worker` imported the
workspace's `runpy.py` ("Could not access runpy._run_module_as_main") and, with the workspace
first on sys.path, its `types.py`, `debugpy/`, `eager_lsp/`... Now each of those files writes
a marker and raises when imported, and none may run until user code imports it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions

from .helpers import chunk, run1

HOSTILE_MODULES = ("runpy", "types", "site", "sitecustomize", "usercustomize", "debugpy")
HOSTILE_MODULES += ("eager_lsp", "json", "traceback", "linecache", "tokenize", "inspect")
# what debugpy.listen() and pydevd's threads import once asked to listen (found by shadowing
# every stdlib name in a workspace: these ran from it when listen() ran on the user's sys.path)
HOSTILE_MODULES += ("base64", "calendar", "code", "csv", "datetime", "decimal", "email", "glob")
HOSTILE_MODULES += ("getpass", "gzip", "html", "http", "ipaddress", "mimetypes", "pathlib")
HOSTILE_MODULES += ("pickle", "pydoc", "quopri", "socketserver", "ssl", "subprocess", "urllib")
HOSTILE_MODULES += ("xml", "xmlrpc", "zipfile", "stringprep", "ntpath")


def plant(workspace: Path) -> Path:
    """Every hostile module in `workspace`; returns the marker directory."""
    markers = workspace / "markers"
    markers.mkdir()
    for name in HOSTILE_MODULES:
        body = (
            f"open({str(markers / name)!r}, 'w').close()\n"
            f"raise RuntimeError('workspace {name} ran')\n"
        )
        if name in ("debugpy", "eager_lsp"):
            (workspace / name).mkdir()
            (workspace / name / "__init__.py").write_text(body)
        else:
            (workspace / f"{name}.py").write_text(body)
    (workspace / "mine.py").write_text(
        f"open({str(markers / 'mine')!r}, 'w').close()\nVALUE = 42\n"
    )
    return markers


@pytest.mark.parametrize("debug", [False, True], ids=["no-debug", "debug"])
async def test_workspace_files_do_not_run(tmp_path: Path, debug: bool) -> None:
    markers = plant(tmp_path)
    worker = await WorkerClient.start(WorkerOptions(debug=debug, cwd=str(tmp_path)))
    try:
        if debug:  # debugpy starts on request, after user code can import workspace files
            assert await worker.debug_listen() > 0
        doc = str(tmp_path / "doc.py")
        result = await run1(worker, "x = 6 * 7\nx\n", trailing_expr=True, path=doc)
        assert result["ok"], result["error"]
        assert result["expr"]["repr"] == "42"
        # tracebacks, reprs and the worker's lazily used stdlib keep working
        failed = await run1(worker, "import collections\n{}['k']\n", path=doc)
        assert failed["error"]["type"] == "KeyError"
        assert sorted(os.listdir(markers)) == []
        # user code sees the workspace first, as `python doc.py` would
        mine = await run1(worker, "import mine\nmine.VALUE\n", trailing_expr=True, path=doc)
        assert mine["expr"]["repr"] == "42"
        assert sorted(os.listdir(markers)) == ["mine"]
        # a module nobody imported yet resolves to the workspace file, for user code only
        user = await run1(worker, "import sitecustomize\n", path=doc)
        assert "workspace sitecustomize ran" in user["error"]["message"]
        assert sorted(os.listdir(markers)) == ["mine", "sitecustomize"]
        # the interpreter still works afterwards
        [again] = await worker.execute([chunk("1 + 1\n", trailing_expr=True)], stop_on_error=True)
        assert again["expr"]["repr"] == "2"
    finally:
        await worker.shutdown()


async def test_pythonpath_still_reaches_user_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-I` ignores PYTHONPATH; the worker applies it to user code itself."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "from_pythonpath.py").write_text("WHERE = 'pythonpath'\n")
    (extra / "json.py").write_text("raise RuntimeError('PYTHONPATH json ran')\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(extra))
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(workspace)))
    try:
        code = "import from_pythonpath, sys\nfrom_pythonpath.WHERE, sys.path[:2]\n"
        result = await run1(worker, code, trailing_expr=True)
        assert result["ok"], result["error"]
        assert result["expr"]["repr"] == repr(("pythonpath", [str(workspace), str(extra)]))
    finally:
        await worker.shutdown()


async def test_the_worker_is_not_dumpable_before_user_code(worker: WorkerClient) -> None:
    """Issue 9.3: other workers' code must not read this one's /proc/<pid>/environ or mem
    (the full attack runs as uid 65534 in tests/lsp/test_isolation.py)."""
    code = "from eager_lsp.executors.worker.nodump import is_dumpable\nis_dumpable()\n"
    result = await run1(worker, code, trailing_expr=True)
    expected = "False" if sys.platform.startswith("linux") else "None"
    assert result["expr"]["repr"] == expected


async def test_debugpy_started_after_the_workspace_is_open_is_ours(tmp_path: Path) -> None:
    """A debugger started later (on attach) must not import a workspace `debugpy/`."""
    markers = plant(tmp_path)
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        code = (
            "from eager_lsp.executors.worker import isolation\n"
            "m = isolation.own_import('debugpy')\n"
            "import sys\n"
            "m.__file__.startswith(sys.path[0]), sys.path[0]\n"
        )
        result = await run1(worker, code, trailing_expr=True, path=str(tmp_path / "doc.py"))
        assert result["ok"], result["error"]
        assert result["expr"]["repr"] == repr((False, str(tmp_path)))
        assert os.listdir(markers) == []
    finally:
        await worker.shutdown()
