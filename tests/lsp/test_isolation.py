"""Issue 9.2 and 9.3 against the real server, started the way the editors start it.

- Opening a workspace runs none of its files: the server runs in a workspace holding a
  hostile `runpy.py`, `types.py`, `site.py`, `sitecustomize.py`, `debugpy/`, `eager_lsp/`...
  (each writes a marker and raises); a document still runs, and no marker appears.
- No secret reaches executed code: the server's environment holds secrets of the kinds that
  leaked before; executed code sees none but the one `execution.envAllow` lets through.
- Executed code cannot read another eager-lsp process: as a non-root user (uid 65534 via
  setpriv when the tests run as root), code in one document polls /proc in a tight loop while
  interpreters start (new documents, warm spares, restarts) and tries /proc/<pid>/environ and
  /proc/<pid>/mem of the server, the zygote and every other worker, from their first moments
  on: PermissionError for each, every time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities

import eager_lsp
from eager_lsp.lsp import methods
from tests.support.lsp_session import shut_down
from tests.worker.test_isolation import plant

from .conftest import Editor, _client_factory, _server_env

NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
SECRETS = {
    "DB_PASS": "hunter2",
    "MYSQL_PWD": "hunter2",
    "REDIS_URL": "redis://:hunter2@cache.internal:6379/0",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/XXXX",
    "NPM_CONFIG__AUTH": "dXNlcjpwYXNz",
    "GH_PAT": "ghp_passed_on_purpose",
    "OPENAI_API_KEY": "sk-server-only",
    "COMPANY_INTERNAL_HOST": "denied by a pattern from the settings",
}

ENV_PROBE = """\
import json, os
print(json.dumps(sorted(os.environ)))
"""

# Polls /proc in a tight loop while the test starts interpreters (new documents, warm spares,
# restarts), until the test creates STOP (at most SECONDS), and tries /proc/<pid>/environ and /proc/<pid>/mem of every process
# descended from the server (the server, the zygote, every worker) on every round: a worker is
# caught in whatever state it is in, including its first milliseconds. The test formats in the
# server's pid, the file to create once polling has begun and the one that ends it.
PROC_PROBE = """\
import json, os, time
SERVER, STARTED, STOP, SECONDS = {server}, {started!r}, {stop!r}, {seconds}
me = os.getpid()
def parent(pid):
    with open(f"/proc/{{pid}}/status") as f:
        return int(next(l for l in f if l.startswith("PPid:")).split()[1])
ours, others, first_seen, tried, cmdlines = {{SERVER}}, set(), {{}}, {{}}, {{}}
def is_ours(pid):
    chain = []
    while pid not in ours and pid not in others and pid > 1:
        chain.append(pid)
        pid = parent(pid)
    (ours if pid in ours else others).update(chain)
    return pid in ours
began = time.monotonic()
open(STARTED, "w").close()
rounds = 0
while time.monotonic() - began < SECONDS and not (rounds % 64 == 0 and os.path.exists(STOP)):
    rounds += 1
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        try:
            if not is_ours(pid):
                continue
        except (OSError, StopIteration, ValueError):
            continue  # gone meanwhile
        if pid not in first_seen:
            first_seen[pid] = round(time.monotonic() - began, 3)
        for what in ("environ", "mem"):
            try:
                with open(f"/proc/{{pid}}/{{what}}", "rb") as f:
                    outcome = "read: " + repr(f.read(64) if what == "environ" else b"")
            except (FileNotFoundError, ProcessLookupError):
                continue  # gone meanwhile
            except OSError as exc:
                outcome = type(exc).__name__
            tried.setdefault(pid, {{}}).setdefault(what, [])
            if outcome not in tried[pid][what]:
                tried[pid][what].append(outcome)
        try:
            cmdline = open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\\0", b" ")
            cmdlines[pid] = cmdline.decode(errors="replace")[:200]
        except OSError:
            pass
targets = {{
    pid: {{"cmdline": cmdlines.get(pid, ""), "first_seen": first_seen[pid], "tried": t}}
    for pid, t in tried.items()
}}
print(json.dumps({{"me": me, "server": SERVER, "uid": os.getuid(), "rounds": rounds,
                  "targets": targets}}))
"""
PROBE_SECONDS = 45.0  # at most: the test ends it once its interpreters have started


async def start(
    command: list[str], cwd: Path, env: dict[str, str], root: Path, settings: dict[str, Any]
) -> Any:
    client = _client_factory()
    await client.start_io(*command, env=env, cwd=str(cwd))
    client.set_configuration(settings, section=methods.SETTINGS_SECTION)
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=settings,
            root_uri=root.as_uri(),
        )
    )
    return client


async def stop(client: Any) -> None:
    try:
        await shut_down(client)
    finally:
        await client.stop()


async def run_document(editor: Editor, name: str, text: str, where: Path) -> dict[str, Any]:
    """Open `name` in `where`, run it; all chunks must succeed. Returns the values of all
    chunks and their stdout joined."""
    uri = editor.open(name, text, where)
    assert await editor.command(methods.RUN_DOCUMENT, uri=uri) == {"started": True}
    summary = await editor.summary(uri)
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    assert results, (f"no chunk result for {name}", summary, editor.messages())
    assert all(r["ok"] is True for r in results), results
    return {
        "values": [(v["name"], v["repr"]) for r in results for v in r.get("values") or []],
        "stdout": "".join(r.get("stdout") or "" for r in results),
    }


SETTINGS: dict[str, Any] = {
    "execution": {
        "gate": "eager",
        "envAllow": ["GH_PAT"],
        "envDenyPatterns": ["company_*"],
    },
    "debug": {"enabled": False},
}


@pytest.fixture(params=["editor-command", "console-script"])
def server_command(request: Any) -> list[str]:
    if request.param == "editor-command":  # nvim/lua/eager/init.lua, vscode-extension python.ts
        return [sys.executable, "-c", eager_lsp.SERVER_MAIN, "serve"]
    script = Path(sys.executable).with_name("eager-lsp")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    return [str(script), "serve"]


async def test_workspace_files_do_not_run_and_no_secret_passes(
    server_command: list[str], tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    markers = plant(workspace)
    env = {**_server_env(), **SECRETS}
    client = await start(server_command, workspace, env, workspace, SETTINGS)
    try:
        editor: Editor = client.editor
        result = await run_document(editor, "doc.py", "x = 6 * 7\n", workspace)
        assert result["values"] == [("x", "42")]
        assert os.listdir(markers) == []

        seen = set(
            json.loads((await run_document(editor, "env.py", ENV_PROBE, workspace))["stdout"])
        )
        assert seen & set(SECRETS) == {"GH_PAT"}  # execution.envAllow
        assert {"PATH", "HOME"} <= seen
        assert os.listdir(markers) == []
    finally:
        await stop(client)


def _as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    # through sh: a program exec'd by setpriv itself may still pass root's path checks
    shell = [*AS_NOBODY, "sh", "-c", 'exec "$@"', "sh", *command]
    return subprocess.run(shell, capture_output=True, text=True, cwd="/")


def _nobody_setup() -> tuple[str | None, str | None]:
    """(why the non-root test cannot run here, or None; an interpreter uid 65534 can start
    for the workers, or None for the server's own). The server's venv may live where that
    uid cannot go (here: /root/.pyenv); the worker needs only the stdlib."""
    if os.geteuid() != 0:
        return None, None  # already non-root: run as we are
    if shutil.which("setpriv") is None:
        return "running as root and setpriv is not installed: no non-root uid to test with", None
    server = _as_nobody(sys.executable, "-c", "import eager_lsp, pygls, debugpy")
    direct = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import eager_lsp, pygls"])
    if server.returncode != 0 and direct.returncode != 0:
        return f"uid {NOBODY} cannot start the server: {server.stderr[-300:]}", None
    if server.returncode == 0:
        return None, None
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if candidate and _as_nobody(candidate, "-c", "import json").returncode == 0:
            return None, candidate
    return f"uid {NOBODY} can start no Python for the workers", None


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory uid 65534 can use (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="eager-nonroot-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def test_executed_code_cannot_read_other_eager_processes(shared_dir: Path) -> None:
    reason, worker_python = _nobody_setup()
    if reason is not None:
        pytest.skip(reason)
    settings: dict[str, Any] = {**SETTINGS, "execution": {**SETTINGS["execution"]}}
    if worker_python is not None:
        settings["execution"]["python"] = worker_python
    home, workspace = shared_dir / "home", shared_dir / "ws"
    for d in (home, workspace):
        d.mkdir()
        d.chmod(0o777)
    command = [sys.executable, "-c", eager_lsp.SERVER_MAIN, "serve"]
    if os.geteuid() == 0:
        command = [*AS_NOBODY, *command]
    env = {**_server_env(), **SECRETS, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    client = await start(command, workspace, env, workspace, settings)
    server_pid = client._server.pid  # setpriv exec'd the server: the same pid
    started, stop_file = workspace / "probe-started", workspace / "probe-stop"
    try:
        editor: Editor = client.editor
        await run_document(editor, "other.py", "token = 'worker B state'\n", workspace)
        probe_text = PROC_PROBE.format(
            server=server_pid, started=str(started), stop=str(stop_file), seconds=PROBE_SECONDS
        )
        probe_uri = editor.open("probe.py", probe_text, workspace)
        assert await editor.command(methods.RUN_DOCUMENT, uri=probe_uri) == {"started": True}
        await editor.wait_for(started.exists, "the probe to start polling")
        # Interpreters start while the probe polls: new documents (each takes the warm spare
        # and a new spare starts), then restarts of them.
        uris = []
        for n in range(4):
            uris.append(editor.open(f"doc{n}.py", f"v = {n}\n", workspace))
            await editor.command(methods.RUN_DOCUMENT, uri=uris[-1])
            await editor.summary(uris[-1])
        for uri in uris:
            assert await editor.command(methods.RESTART_INTERPRETER, uri=uri) == {"restarted": True}
            await editor.command(methods.RUN_DOCUMENT, uri=uri)
            await editor.summary(uri, 2)
        stop_file.touch()
        await editor.summary(probe_uri)
        results = editor.notes_for(methods.CHUNK_RESULT, probe_uri)
        assert results and all(r["ok"] for r in results), results
        report = json.loads("".join(r.get("stdout") or "" for r in results))
        assert report["uid"] != 0
        targets = {int(pid): t for pid, t in report["targets"].items()}
        assert report["server"] in targets, report
        workers = [t for pid, t in targets.items() if "eager_lsp.executors.worker" in t["cmdline"]]
        assert workers, f"no other worker of this server found: {report}"
        # the probe really watched interpreters start (each new document and restart)
        born = [pid for pid, t in targets.items() if t["first_seen"] > 0]
        assert len(born) >= 4, json.dumps(report, indent=1)
        readable = {
            pid: t["tried"]
            for pid, t in targets.items()
            if any(o != "PermissionError" for outs in t["tried"].values() for o in outs)
        }
        assert readable == {}, json.dumps(report, indent=1)
    finally:
        await stop(client)
