"""End-to-end: real VS Code (code-server 4.100.3 = Code 1.100.3, in headless Chromium) with the
extension from `vscode-extension/` packaged as a .vsix, talking to the real
`python -m eager_lsp serve`, which streams from the fake OpenAI server.

The Node driver `tests/e2e/vscode/drive.mjs` acts like a person (explorer click, F1, typing the
prompt) and reports what the page shows as one JSON line; the assertions are made here. A
screenshot is kept in `artifacts/vscode-e2e.png`.

Needs code-server and chromium: `bash scripts/install-code-server.sh` installs both (the test runs
it; it returns at once when they are there). Without them the test is skipped with the
installer's reason, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.support` lives at the repository root
    sys.path.insert(0, str(ROOT))

from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

EXTENSION = ROOT / "vscode-extension"
DRIVER = ROOT / "tests" / "e2e" / "vscode"
ARTIFACTS = ROOT / "artifacts"
INSTALLER = ROOT / "scripts" / "install-code-server.sh"
# The interpreter that runs the server; EAGER_E2E_SERVER_PYTHON overrides it (harness debugging).
PYTHON = os.environ.get("EAGER_E2E_SERVER_PYTHON", sys.executable)

# The first test on a new machine also installs code-server and chromium (a few minutes).
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1200)]

# What the fake model writes: line 2 (0-based) raises; stopOnError (the default) stops there.
COMPLETION = 'x = 6 * 7\ny = x + 1\nz = 1 / 0\nprint("never")\n'
# Its answer to "Fix with AI".
FIX = 'z = 1 / 1\nprint("fixed", z)\n'
PIECE_CHARS = 3
PIECE_DELAY = 0.08  # ~12 pieces/s: a moderate token rate; the whole completion takes ~1.5 s


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"VS Code e2e cannot run under CI: {reason}")
    pytest.skip(reason)


def _run(cmd: list[str], cwd: Path, timeout: float, what: str) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


@pytest.fixture(scope="module")
def code_server() -> Path:
    """The code-server executable (installed into ~/.cache on first use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("needs Node 20 and npm on PATH")
    try:
        out = _run(["bash", str(INSTALLER)], ROOT, 1800, "scripts/install-code-server.sh")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"code-server/chromium could not be installed: {exc}")
    binary = Path(out.strip().splitlines()[-1])
    if not binary.exists() or shutil.which("chromium") is None:
        _unavailable(f"installer ran but {binary} or chromium is missing")
    return binary


def _npm_install(folder: Path) -> None:
    marker = folder / "node_modules" / ".package-lock.json"
    lock = folder / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    _run(["npm", "ci", "--no-audit", "--no-fund"], folder, 600, f"npm ci in {folder}")


@pytest.fixture(scope="module")
def vsix(code_server: Path) -> Path:
    """The extension, built and packaged by its own npm script."""
    _npm_install(EXTENSION)
    _npm_install(DRIVER)
    _run(["npm", "run", "package"], EXTENSION, 300, "npm run package")
    path = EXTENSION / "eager-lsp.vsix"
    assert path.exists(), "npm run package made no eager-lsp.vsix"
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"code-server exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"code-server did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop code-server and everything it started (extension host, our server, the worker)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # Children that outlive code-server in its process group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Workbench:
    """code-server with the extension installed into a fresh extensions dir, on a test folder."""

    def __init__(self, binary: Path, vsix: Path, tmp: Path, settings: dict[str, Any]) -> None:
        self.tmp = tmp
        self.folder = tmp / "project"
        self.folder.mkdir()
        self.user_data = tmp / "user-data"
        self.extensions = tmp / "extensions"
        self.log = tmp / "code-server.log"
        self.port = _free_port()
        self.binary = binary
        common = [f"--user-data-dir={self.user_data}", f"--extensions-dir={self.extensions}"]
        # Install before starting (installing into a running code-server asks for a reload).
        out = _run(
            [str(binary), *common, "--install-extension", str(vsix), "--force"],
            tmp,
            180,
            "code-server --install-extension",
        )
        assert "successfully installed" in out, out
        assert any(self.extensions.glob("eager-lsp.eager-lsp-*")), list(self.extensions.iterdir())
        user = self.user_data / "User"
        user.mkdir(parents=True, exist_ok=True)
        (user / "settings.json").write_text(json.dumps(settings, indent=2))
        # Key bindings the drivers press (drive.mjs).
        (user / "keybindings.json").write_text(json.dumps(KEYBINDINGS, indent=2))
        config = tmp / "config.yaml"
        config.write_text(f"bind-addr: 127.0.0.1:{self.port}\nauth: none\ncert: false\n")
        self.cmd = [
            str(binary),
            *common,
            f"--config={config}",
            "--auth=none",
            f"--bind-addr=127.0.0.1:{self.port}",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--disable-getting-started-override",
            str(self.folder),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.tmp,
                start_new_session=True,
            )
        _wait_http(f"http://127.0.0.1:{self.port}/healthz", 60, self.proc, self.log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.folder}"

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def logs(self) -> str:
        out = [f"--- code-server.log:\n{self.log.read_text(errors='replace')[-3000:]}"]
        # The extension host's log and the "Eager" output channel (server log, program output).
        for path in sorted(self.user_data.glob("logs/**/*.log")):
            if "exthost" in str(path) or "Eager" in path.name or "eager" in str(path).lower():
                out.append(
                    f"--- {path.relative_to(self.user_data)}:\n{path.read_text(errors='replace')[-3000:]}"
                )
        return "\n".join(out)

    def server_log(self) -> str:
        """The whole "Eager Server" output channel (the language server's log), as saved."""
        paths = sorted(self.user_data.glob("logs/**/*Eager Server*.log"))
        return "\n".join(p.read_text(errors="replace") for p in paths)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def drive(params: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", str(DRIVER / "drive.mjs")],
        cwd=DRIVER,
        env={**os.environ, "EAGER_E2E": json.dumps(params)},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("EAGER_RESULT ")]
    assert lines, f"driver printed no result (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("EAGER_RESULT "))
    result["_stderr"] = proc.stderr
    return result


# The typing driver goes to the generation's insertion point in one key press, and clears the
# notifications before each run (drive.mjs).
KEYBINDINGS = [
    {
        "key": "ctrl+alt+shift+g",
        "command": "eager.client.goToGenerationPoint",
        "when": "editorTextFocus && editorLangId == python",
    },
    {"key": "ctrl+alt+shift+k", "command": "notifications.clearAll"},
]

# A quiet, predictable workbench.
WORKBENCH_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "editor.inlayHints.enabled": "on",
    "editor.minimap.enabled": False,
    "editor.hover.delay": 150,
    "files.autoSave": "off",
    "chat.commandCenter.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "remote.autoForwardPorts": False,
}


def test_generate_here_streams_runs_and_shows_values_and_errors(
    code_server: Path, vsix: Path, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.enqueue(
        text=COMPLETION, chunk_chars=PIECE_CHARS, delay=PIECE_DELAY, first_delay=0.3
    )
    openai_server.enqueue(text=FIX, chunk_chars=PIECE_CHARS, delay=PIECE_DELAY)
    settings = {
        **WORKBENCH_SETTINGS,
        "eager.server.python": PYTHON,
        "eager.llm.provider": "openai",
        "eager.llm.baseUrl": openai_server.url,
        "eager.llm.apiKey": "test",
        "eager.llm.model": "fake-model",
    }
    bench = Workbench(code_server, vsix, tmp_path, settings)
    (bench.folder / "a.py").write_text("")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "vscode-e2e.png"
    bench.start()
    try:
        r = drive(
            {
                "url": bench.url,
                "file": "a.py",
                "prompt": "compute x, then divide by zero",
                "screenshot": str(screenshot),
                "outputScreenshot": str(ARTIFACTS / "vscode-e2e-output.png"),
                "readOutput": True,
                "expectText": ["x = 6 * 7", "z = 1 / 0"],
                "expectValue": "42",
                "minDecorations": 3,
                "fix": {
                    "lineText": "z = 1 / 0",
                    "expectText": 'print("fixed", z)',
                    "expectDecoration": "» fixed 1.0",
                    "undo": True,
                },
                "fixScreenshot": str(ARTIFACTS / "vscode-e2e-fix.png"),
                "staleEdit": {"lineText": "y = x + 1", "type": "0"},
                "staleScreenshot": str(ARTIFACTS / "vscode-e2e-stale.png"),
                "timeoutMs": 120000,
            }
        )
        server_log = bench.server_log()
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e.json").write_text(json.dumps(r, indent=1))
    debug = (
        f"\nsteps: {r.get('steps')}\ndriver stderr:\n{r['_stderr'][-2000:]}\n"
        f"final: {json.dumps(r.get('final'), indent=1)[:4000]}\n{bench.logs()}"
    )
    assert r["error"] is None, r["error"] + debug
    final = r["final"]

    # Opening the prompt box asked the running server to prepare the model (eager.prepareModel;
    # with an endpoint there is nothing to prepare, and the server's log says so).
    assert "prompt box opened" in server_log and "a.py" in server_log, server_log[-3000:] + debug

    # The generated text streamed into the editor (and stopOnError kept the rest out of the run).
    text = final["text"]
    for line in ("x = 6 * 7", "y = x + 1", "z = 1 / 0"):
        assert line in text, f"{line!r} not in the editor: {text!r}" + debug

    # Values once: our decoration draws them; the server sends this client no inlay hints
    # (they would be part of the view lines' text).
    x_line = next(ln for ln in text.splitlines() if ln.startswith("x = 6 * 7"))
    assert "42" not in x_line.replace("x = 6 * 7", ""), f"value twice: {x_line!r}" + debug
    decorations = [d["text"] for d in final["decorations"]]
    assert any(d.startswith("⟵ x = 42") for d in decorations), decorations
    assert any(d.startswith("⟵ y = 43") for d in decorations), decorations
    assert any("ZeroDivisionError: division by zero" in d for d in decorations), decorations

    # The failing line has its diagnostic: a squiggle and the problems count in the status bar.
    assert final["squiggles"] >= 1, debug
    problems = next((i for i in final["statusItems"] if i["id"] == "status.problems"), None)
    assert problems is not None and "1" in problems["text"].split()[0] + problems["aria"], problems

    # The decoration's hover has the full error.
    assert r.get("hover") and "ZeroDivisionError" in r["hover"], r.get("hover")

    # The status bar is back to idle and the summary was shown.
    status = next(i for i in final["statusItems"] if "Eager" in i["text"])
    assert "generating" not in status["text"] and "running" not in status["text"], status
    toasts = r["toastsSeen"]
    assert any(t.startswith("Eager: stopped after") and "ZeroDivisionError" in t for t in toasts), (
        toasts
    )

    # The "Eager" output channel has the program's output (the traceback of the failing
    # statement, the summary) and not the server's log, which has a channel of its own.
    output = r.get("output") or ""
    assert "ZeroDivisionError" in output and "[summary]" in output, output
    assert "[client] starting" not in output and "showMessage:" not in output, output
    assert screenshot.exists()

    # "Fix with AI" (the server's quick fix) replaced the failing line; the new code ran.
    fixed = r["fixSnapshot"]
    assert "z = 1 / 1" in fixed["text"] and "z = 1 / 0" not in fixed["text"], fixed["text"]
    assert fixed["squiggles"] == 0, fixed
    assert any(d["text"].startswith("⟵ z = 1.0") for d in fixed["decorations"]), fixed
    assert len(openai_server.chat_requests) == 2

    # The repair is one undo step of its own: after the edit typed last is undone, one Ctrl+Z
    # restores the text as it was before "Fix with AI" (the failing line back, the fix gone);
    # redo brings the fix back.
    undone = r["fixUndoSnapshot"]["text"]
    assert "z = 1 / 0" in undone and "z = 1 / 1" not in undone, undone
    assert 'print("fixed", z)' not in undone, undone
    assert "x = 6 * 7" in undone and "y = x + 1" in undone, undone
    assert r["fixRedoSnapshot"] is not None, r["fixUndoSnapshot"]
    assert "z = 1 / 1" in r["fixRedoSnapshot"]["text"], r["fixRedoSnapshot"]

    # Editing a line that ran marks its result stale; the others stay as they were.
    stale = {d["text"].split(" · ")[0]: d for d in r["staleSnapshot"]["decorations"]}
    assert "stale" in stale["⟵ y = 43"]["text"], stale
    assert "stale" not in stale["⟵ x = 42"]["text"], stale


def test_an_interpreter_without_eager_lsp_is_reported_with_a_way_to_fix_it(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-python"
    bench = Workbench(
        code_server, vsix, tmp_path, {**WORKBENCH_SETTINGS, "eager.server.python": str(missing)}
    )
    (bench.folder / "a.py").write_text("x = 1\n")
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "noServer",
                "url": bench.url,
                "file": "a.py",
                "screenshot": str(ARTIFACTS / "vscode-e2e-no-server.png"),
                "timeoutMs": 60000,
            }
        )
    finally:
        bench.stop()
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    assert "cannot start the language server" in r["toast"], r["toast"]
    assert str(missing) in r["toast"], r["toast"]
    assert "Open Setting" in r["toast"], r["toast"]
    # "Open Setting" opened the settings editor on eager.server.python.
    assert any("Server: Python" in t for t in r["settingTitles"]), r["settingTitles"]


def test_run_file_from_the_context_menu_and_attach_info(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    bench = Workbench(
        code_server, vsix, tmp_path, {**WORKBENCH_SETTINGS, "eager.server.python": PYTHON}
    )
    (bench.folder / "a.py").write_text('a = 2\nb = a * 21\nprint("hello", b)\n')
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "runFile",
                "url": bench.url,
                "file": "a.py",
                "screenshot": str(ARTIFACTS / "vscode-e2e-run-file.png"),
                "minDecorations": 3,
                "timeoutMs": 60000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-run-file.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    # The editor's context menu has an "Eager" submenu with the commands.
    assert "Eager" in r["contextMenu"], r["contextMenu"]
    for title in ("Generate Code Here…", "Stop", "Run File Eagerly", "Attach Debugger"):
        assert title in r["eagerSubmenu"], r["eagerSubmenu"]
    decorations = [d["text"] for d in r["afterRun"]["decorations"]]
    assert any(d.startswith("⟵ b = 42") for d in decorations), decorations
    assert any("» hello 42" in d for d in decorations), decorations
    # Each value once: the decoration, and no inlay hint from the server in the line's text.
    assert "b = 42" not in r["afterRun"]["text"], r["afterRun"]["text"]
    # No Python debugger extension in code-server: host:port is offered with a Copy button.
    assert "127.0.0.1:" in r["attachToast"] and "Copy" in r["attachToast"], r["attachToast"]


# A loop that prints for 3 s, then one more statement.
LIVE = 'import time\nfor i in range(5):\n    print("tick", i, flush=True)\n    time.sleep(0.6)\nprint("after")\n'


def test_a_running_statement_shows_its_output_while_it_runs(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    """`eager/output`: the "Eager" output channel shows what a running statement prints as it
    prints it (tick 0 while the loop still runs), its line shows the last line so far, and its
    result adds only the rest: every line once."""
    bench = Workbench(
        code_server,
        vsix,
        tmp_path,
        {**WORKBENCH_SETTINGS, "eager.server.python": PYTHON, "eager.debug.enabled": False},
    )
    (bench.folder / "live.py").write_text(LIVE)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "liveOutput",
                "url": bench.url,
                "file": "live.py",
                "first": "tick 0",
                "last": "after",
                "screenshot": str(ARTIFACTS / "vscode-e2e-live-output.png"),
                "timeoutMs": 90000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-live-output.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    first = r["firstSeen"]
    assert first is not None, debug
    # Seen while the loop ran: its later lines and the next statement's were not there yet.
    assert "tick 4" not in first["output"] and "after" not in first["output"], (first, debug)
    assert "[live.py:2-4] stdout" in first["output"], first["output"]
    assert "running" in first["status"], first
    # Its line showed the last line printed so far.
    assert any(d.startswith("⟵ … » tick ") for d in r["runningDecorations"]), r[
        "runningDecorations"
    ]
    # The result added only the rest: every line once, under one header, no "(in full)" copy.
    out = r["finalOutput"]
    for i in range(5):
        assert out.count(f"tick {i}") == 1, out
    assert out.count("[live.py:2-4] stdout") == 1 and "(in full)" not in out, out
    assert "[live.py:5] stdout\nafter" in out, out
    decorations = [d["text"] for d in r["final"]["decorations"]]
    assert any("» tick 0 … (5 lines)" in d for d in decorations), decorations
    assert not any(d.startswith("⟵ …") for d in decorations), decorations


# ---- typing while code streams in (issue 10) ------------------------------------------------

STREAM_LINES = 150
STREAM_RUNS = int(os.environ.get("EAGER_E2E_STREAM_RUNS", "20"))
STREAM_HEAD = "# head\n"


def _stream_completion() -> str:
    return "".join(f"v{i} = {i}\n" for i in range(STREAM_LINES))


def _check_stream_run(run: dict[str, Any]) -> list[str]:
    """What is wrong with one run's saved file (empty: nothing)."""
    problems: list[str] = []
    lines = run["text"].split("\n")
    generated = [(n, ln) for n, ln in enumerate(lines) if ln.startswith("v")]
    expected = [f"v{i} = {i}" for i in range(STREAM_LINES)]
    got = [ln for _, ln in generated]
    if got != expected:
        missing = sorted(set(expected) - set(got), key=expected.index)
        extra = [ln for ln in got if ln not in expected]
        dups = sorted({ln for ln in got if got.count(ln) > 1})
        problems.append(
            f"generated lines differ: {len(got)} of {STREAM_LINES}, missing {missing[:5]}, "
            f"extra {extra[:5]}, duplicated {dups[:5]}, in order: {got == sorted(got, key=expected.index)}"
        )
    elif generated[-1][0] - generated[0][0] != STREAM_LINES - 1:
        inside = [ln for ln in lines[generated[0][0] : generated[-1][0]] if not ln.startswith("v")]
        problems.append(f"other lines inside the generated block: {inside[:5]}")
    # The generation completed: its summary says "done" (a toast can be gone before it is read:
    # then the status bar must be back to plain idle, it says "error" otherwise), nothing
    # reported an error.
    toasts = run.get("toasts", [])
    if (
        not any(t.startswith("Eager: done in") for t in toasts)
        and run.get("finalStatus") != "Eager"
    ):
        problems.append(f"no 'done' summary ({toasts}) and status {run.get('finalStatus')!r}")
    errors = [t for t in toasts if "rror" in t or "stopped" in t or "ended after" in t]
    if errors:
        problems.append(f"errors shown: {errors[:3]}")
    typed = run["typed"]
    for where, typed_lines in typed.items():
        for ln in typed_lines:
            count = lines.count(ln)
            if count != 1:
                bent = [x for x in lines if ln in x and x != ln]
                problems.append(
                    f"typed {where} line {ln!r} appears {count} times (bent: {bent[:3]})"
                )
    if generated and not problems:
        first, last = generated[0][0], generated[-1][0]
        head = lines.index(STREAM_HEAD.strip())
        for ln in typed["above"]:
            if lines.index(ln) > head:
                problems.append(f"{ln!r} typed above is not above the generated code")
        for ln in typed["below"]:
            if lines.index(ln) < last:
                problems.append(f"{ln!r} typed below is not below the code")
        # A line typed at the insertion point goes below the code, or above it when it was
        # finished before the first generated text arrived; never inside (checked above).
        # Once code is there (from the second on), it goes in right after the code: the only
        # lines between the code and it are lines typed at the point later.
        at = typed["at"]
        for i, ln in enumerate(at[1:], 1):
            later = set(at[i + 1 :])
            between = [x for x in lines[last + 1 : lines.index(ln)] if x and x not in later]
            if lines.index(ln) < last or between:
                problems.append(
                    f"{ln!r} typed at the point is not right after the code: {between[:3]}"
                )
                break
        if head > first:
            problems.append("the head line moved below the generated code")
    return problems


def test_typing_above_below_and_at_the_insertion_point_loses_nothing_and_one_undo_removes_it(
    code_server: Path, vsix: Path, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Issue 10: 150 short lines at 50 tokens/s while a line is typed above the generation,
    below it and at its insertion point every 20–70 ms, STREAM_RUNS times in one workbench; then a
    quiet generation, which one Ctrl+Z removes whole."""
    completion = _stream_completion()
    runs: list[dict[str, Any]] = []
    for i in range(STREAM_RUNS + 1):
        quiet = i == STREAM_RUNS
        name = f"run{i:02d}.py"
        runs.append(
            {
                "file": name,
                "prompt": f"lines {i}",
                "typing": not quiet,
                "undo": quiet,
                "maxSeconds": 90,
            }
        )
        # ~4 characters a token at 50 tokens/s: ~7 s for the 150 lines.
        openai_server.enqueue(text=completion, chunk_chars=4, delay=0.02, first_delay=0.2)
    settings = {
        **WORKBENCH_SETTINGS,
        "eager.server.python": PYTHON,
        "eager.llm.provider": "openai",
        "eager.llm.baseUrl": openai_server.url,
        "eager.llm.apiKey": "test",
        "eager.llm.model": "fake-model",
        "eager.llm.maxTokens": 4096,
        "eager.execution.gate": "eager",
        "eager.debug.enabled": False,
        # Typed lines are comments; keep suggestions from taking the Enter key anyway.
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.suggestOnTriggerCharacters": False,
        "editor.acceptSuggestionOnEnter": "off",
        "editor.inlayHints.enabled": "off",
    }
    bench = Workbench(code_server, vsix, tmp_path, settings)
    for run in runs:
        (bench.folder / run["file"]).write_text(STREAM_HEAD)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "streamTyping",
                "url": bench.url,
                "folder": str(bench.folder),
                "file": runs[0]["file"],
                "runs": runs,
                "screenshot": str(ARTIFACTS / "vscode-e2e-stream-typing.png"),
                "timeoutMs": 60000,
            },
            timeout=300 + 60 * len(runs),
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-stream-typing.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    (ARTIFACTS / "vscode-e2e-stream-typing.log").write_text(debug)
    assert r["error"] is None, r["error"] + debug
    done = r["runs"]
    assert len(done) == len(runs), debug
    report = {
        run["file"]: {
            "typed": run["linesTyped"],
            "seconds": run["seconds"],
            "problems": _check_stream_run(run),
        }
        for run in done
    }
    # How fast the typing really was (numbers, not asserts): the intervals between consecutive
    # typed lines, how long "Go to Generation Point" took until the cursor was drawn there, and
    # a line's navigation plus typing.
    for run in done:
        if run["typed"]["at"]:
            t, nav, per = run["typing"], run["navigation"], run["perLine"]
            print(
                f"{run['file']}: {run['linesTyped']} lines in {run['seconds']:.1f} s; interval "
                f"median {t['medianMs']} ms, p90 {t['p90Ms']} ms, max {t['maxMs']} ms (n={t['n']}); "
                f"go to point median {nav['medianMs']} ms, p90 {nav['p90Ms']} ms; "
                f"navigate+type median {per['medianMs']} ms, p90 {per['p90Ms']} ms; "
                f"not at the point {len(run.get('notAtPoint', []))}"
            )
    bad = {f: v for f, v in report.items() if v["problems"]}
    assert not bad, json.dumps(bad, indent=1) + debug
    typing = [run for run in done if run["typed"]["at"]]
    assert len(typing) == STREAM_RUNS
    # Every typing run really typed at all three places while the code streamed in.
    for run in typing:
        assert all(len(v) >= 2 for v in run["typed"].values()), (run["file"], run["typed"])
    # The quiet run: one Ctrl+Z leaves the file as it was before the generation.
    quiet = done[-1]
    assert quiet["text"].count("\n") > STREAM_LINES, quiet["text"][:300]
    assert quiet["afterOneUndo"] == STREAM_HEAD, repr(quiet["afterOneUndo"][:300])


RICH = """\
import pandas as pd
import matplotlib.pyplot as plt
df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 27.25]})
plt.plot([1, 2, 3], [1, 4, 9])
print("rows", len(df))
"""


def test_tables_and_plots_in_the_hover_and_the_results_panel(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    bench = Workbench(
        code_server, vsix, tmp_path, {**WORKBENCH_SETTINGS, "eager.server.python": PYTHON}
    )
    (bench.folder / "rich.py").write_text(RICH)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "results",
                "url": bench.url,
                "file": "rich.py",
                "tableLine": "df = pd.DataFrame",
                "plotLine": "plt.plot(",
                "screenshot": str(ARTIFACTS / "vscode-e2e-results.png"),
                "tableScreenshot": str(ARTIFACTS / "vscode-e2e-hover-table.png"),
                "hoverScreenshot": str(ARTIFACTS / "vscode-e2e-hover-plot.png"),
                "minDecorations": 5,
                "timeoutMs": 90000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-results.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    # The hover on the DataFrame line has its head as a table, once (one hover, ours).
    table = r["tableHover"]
    assert table["tables"] == 1 and "Oslo" in table["text"] and "27.25" in table["text"], table
    assert table["text"].lower().count("eager ·") == 1, table["text"]
    # The hover on the plot line shows the figure: a decoded PNG.
    images = r["imageHover"]["images"]
    assert len(images) == 1 and images[0]["src"].startswith("data:image/png"), images
    assert images[0]["width"] == 640, images
    # The results panel lists every statement: the table, the figure, the output.
    panel = r["panel"]
    assert panel["tables"] == 1 and "Lima" in panel["text"], panel
    assert [i["width"] for i in panel["images"]] == [640], panel["images"]
    assert "rows 3" in panel["text"] and "line 5" in panel["text"], panel["text"]


def test_follow_mode_typed_with_pauses_never_runs_a_half_typed_line(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    """Issue 10: follow mode runs a statement only once the cursor has left it; a pause in the
    middle of `count = 41` never runs `cou` (a NameError would show as a squiggle and a red
    decoration)."""
    settings = {
        **WORKBENCH_SETTINGS,
        "eager.server.python": PYTHON,
        "eager.debug.enabled": False,
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.suggestOnTriggerCharacters": False,
        "editor.acceptSuggestionOnEnter": "off",
    }
    bench = Workbench(code_server, vsix, tmp_path, settings)
    (bench.folder / "f.py").write_text("# follow\n")
    bench.start()
    steps = [
        {"text": "cou", "pauseMs": 1500},
        {"text": "nt = 41", "pauseMs": 1500},
        {"text": "\n", "pauseMs": 2500},
        {"text": "x = cou", "pauseMs": 1500},
        {"text": "nt + 1\n", "pauseMs": 2500},
    ]
    try:
        r = drive(
            {
                "scenario": "followTyping",
                "url": bench.url,
                "file": "f.py",
                "steps": steps,
                "screenshot": str(ARTIFACTS / "vscode-e2e-follow.png"),
                "timeoutMs": 60000,
            }
        )
    finally:
        bench.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "vscode-e2e-follow.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    after = r["afterSteps"]
    for snap in after:
        assert snap["squiggles"] == 0, (snap, debug)
        assert not any("Error" in d for d in snap["decorations"]), (snap, debug)
    # Nothing of a line runs while the cursor is on it...
    assert not any("count" in d for d in after[0]["decorations"] + after[1]["decorations"])
    # ...and it runs once the user has moved past it.
    assert any(d.startswith("⟵ count = 41") for d in after[2]["decorations"]), after[2]
    assert not any(d.startswith("⟵ x =") for d in after[3]["decorations"]), after[3]
    assert any(d.startswith("⟵ x = 42") for d in after[4]["decorations"]), after[4]
    assert not any("NameError" in t for t in r["toastsSeen"]), r["toastsSeen"]


def _drive_with_fake_model(
    code_server: Path,
    vsix: Path,
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    files: dict[str, bytes],
    params: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    """One workbench on `files`, the fake model, no debugger, no inlay hints or suggestions in
    the way; drives `params` (a drive.mjs scenario) and returns its result and the logs."""
    settings = {
        **WORKBENCH_SETTINGS,
        "eager.server.python": PYTHON,
        "eager.llm.provider": "openai",
        "eager.llm.baseUrl": openai_server.url,
        "eager.llm.apiKey": "test",
        "eager.llm.model": "fake-model",
        "eager.debug.enabled": False,
        "editor.inlayHints.enabled": "off",
        "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
        "editor.suggestOnTriggerCharacters": False,
    }
    bench = Workbench(code_server, vsix, tmp_path, settings)
    for name, data in files.items():
        (bench.folder / name).write_bytes(data)
    bench.start()
    try:
        r = drive({"url": bench.url, "folder": str(bench.folder), "timeoutMs": 90000, **params})
    finally:
        bench.stop()
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    return r, debug


def _release_once_written(marker: Path, held: threading.Event) -> None:
    """Let the held model stream go on once the driver has made its edit (it writes `marker`)."""

    def release() -> None:
        deadline = time.monotonic() + 200
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        held.set()

    threading.Thread(target=release, daemon=True).start()


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_an_edit_above_the_unfinished_line_stops_and_removes_that_line(
    code_server: Path, vsix: Path, openai_server: FakeOpenAIServer, tmp_path: Path, eol: str
) -> None:
    """The model stalls in the middle of `e = d - 100`, so the server writes `e = d`; the user
    types in `a = 1` above it meanwhile. The generation stops there, and `e = d`, which never ran
    and reads as another statement, is removed (the extension's own edit, before it answers
    "edited"); the user's edit, the complete lines and the blank line the code went on stay."""
    held = threading.Event()
    marker = tmp_path / "edited"
    openai_server.enqueue(
        pieces=["a = 1\nb = 2\ne = d", " - 100\nf = e\n"], delay=0.01, hold_after_first=held
    )
    _release_once_written(marker, held)
    try:
        r, debug = _drive_with_fake_model(
            code_server,
            vsix,
            tmp_path,
            openai_server,
            {"u.py": eol.join(["# top", "", "# end", ""]).encode()},
            {
                "scenario": "editAboveUnfinished",
                "file": "u.py",
                "prompt": "stall",
                "line": 2,
                "unfinished": "e = d",
                "editLine": "a = 1",
                "type": "0",
                "marker": str(marker),
            },
        )
    finally:
        held.set()
    assert "e = d" in r["beforeEdit"], r["beforeEdit"]
    expected = eol.join(["# top", "a = 10", "b = 2", "", "# end", ""])
    assert r["fileText"] == expected, (r["fileText"], r["beforeEdit"], debug)


def test_an_edit_above_a_finished_last_line_without_a_line_break_keeps_it(
    code_server: Path, vsix: Path, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model's text ends without a line break: its last line is finished (it runs when the
    stream ends) though it is written as a partial line. Typing above it while the code still
    runs removes nothing: `end` says `complete` (a reviewing helper saw such a line deleted
    after it ran in Neovim; the extension's rule was the same)."""
    openai_server.enqueue(
        pieces=["a = 1\nb = 2\nimport time; time.sleep(3)\nprint('done', a)"], delay=0.01
    )
    r, debug = _drive_with_fake_model(
        code_server,
        vsix,
        tmp_path,
        openai_server,
        {"f.py": b"# top\n\n# end\n"},
        {
            "scenario": "editAboveUnfinished",
            "file": "f.py",
            "prompt": "sleep",
            "line": 2,
            "unfinished": "print('done', a)",
            "editLine": "a = 1",
            "type": "0",
            "marker": str(tmp_path / "edited"),
        },
    )
    code = ["a = 10", "b = 2", "import time; time.sleep(3)", "print('done', a)"]
    assert r["fileText"] == "\n".join(["# top", *code, "# end", ""]), (r["fileText"], debug)


def test_ctrl_alt_g_generates_and_escape_stops(
    code_server: Path, vsix: Path, openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The extension's default keybindings: Ctrl+Alt+G (Cmd+Alt+G on macOS) asks for the prompt
    and generates at the cursor; Escape in the editor, while that document generates, stops it
    (complete lines stay, the rest never comes)."""
    script = "".join(f"v{i} = {i}\n" for i in range(80))
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS, delay=0.05)
    r, _ = _drive_with_fake_model(
        code_server,
        vsix,
        tmp_path,
        openai_server,
        {"k.py": b""},
        {"scenario": "keys", "file": "k.py", "prompt": "count", "stopAfter": "v3 = 3"},
    )
    assert "generating" in r["statusBeforeEscape"].lower(), r["statusBeforeEscape"]
    lines = r["fileText"].splitlines()
    assert lines[:4] == ["v0 = 0", "v1 = 1", "v2 = 2", "v3 = 3"], r["fileText"]
    assert "v79 = 79" not in r["fileText"], r["fileText"]  # stopped, not finished
    assert all(ln == f"v{i} = {i}" for i, ln in enumerate(lines)), r["fileText"]


# ---- "Eager: Whole Output of Statement"; the status after Interrupt and Restart Interpreter ---

# A loop whose output is more than any place but the whole output shows: 3000 lines of 20
# characters (63,000 characters: under the worker's 64 Ki a stream, over the 64 KiB of JSON an
# eager/chunkResult may take once its line breaks are escaped, and far over the hover's 4000),
# then a failure 151 calls deep (the traceback's text keeps every frame: 152 frames are far
# within its 128 Ki characters).
WHOLE = """\
# every row, then a deep failure
for i in range(3000):
    print(f"row {i:04d} of 3000 ...")
def ping(n):
    return pong(n - 1) if n else 1 / 0
def pong(n):
    return ping(n - 1)
ping(150)
"""
WHOLE_ROWS = [f"row {i:04d} of 3000 ..." for i in range(3000)]


DEEP_FRAMES = 152  # <module>, then ping(150) … ping(0)


def _deep_traceback(path: Path) -> str:
    """The traceback of `ping(150)` in WHOLE as the worker keeps it: CPython's text, every
    frame of it (nothing is left out within the traceback's cap, limits.TRACEBACK_CAP)."""
    module = (8, "<module>", "ping(150)")
    ping = (5, "ping", "return pong(n - 1) if n else 1 / 0")
    pong = (7, "pong", "return ping(n - 1)")
    calls = [module] + [ping if k % 2 == 0 else pong for k in range(151)]  # ping(150) … ping(0)
    assert len(calls) == DEEP_FRAMES
    frame = [f'  File "{path}", line {ln}, in {fn}\n    {src}\n' for ln, fn, src in calls]
    return (
        "Traceback (most recent call last):\n"
        + "".join(frame)
        + "ZeroDivisionError: division by zero\n"
    )


def test_show_whole_output_has_every_line_and_the_whole_traceback(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    """Eager: Whole Output of Statement from the palette, the cursor on the loop that printed
    3000 lines: the read-only document beside the editor has every one of them, in order,
    although the result drawn on the line, its hover and the channel have it cut. On the failing
    call, and on the line deep inside where the error was raised: the whole traceback as the
    worker kept it. On a line where nothing ran: a message, no document. Asked from the
    rightmost group while another group shows whole output: that group shows it, no new one."""
    bench = Workbench(
        code_server,
        vsix,
        tmp_path,
        {**WORKBENCH_SETTINGS, "eager.server.python": PYTHON, "eager.debug.enabled": False},
    )
    (bench.folder / "whole.py").write_text(WHOLE)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "wholeOutput",
                "url": bench.url,
                "file": "whole.py",
                "minDecorations": 4,
                "targets": [
                    {"lineText": "# every row", "nothing": True},
                    {"lineText": 'print(f"row', "hover": True},
                    {"lineText": "ping(150)", "hover": True},
                    {"lineText": "return pong(n - 1)"},
                    {"lineText": 'print(f"row', "viaHover": True},
                    # kept open, its group moved left of the source's; then asked again
                    {"lineText": 'print(f"row', "moveLeft": True},
                    {"lineText": "return ping(n - 1)"},
                ],
                "screenshot": str(ARTIFACTS / "vscode-e2e-whole-output.png"),
                "timeoutMs": 90000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-whole-output.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    nothing, rows, call, raised, linked, kept, from_right = r["details"]

    # Nothing ran on the comment: said so, no document.
    assert nothing["cursor"]["line"] == 1, nothing
    assert nothing["message"].startswith("Eager: nothing ran on line 1 of whole.py"), nothing
    assert not any("whole output" in t for t in nothing["tabs"]), nothing["tabs"]

    # What the loop printed is cut everywhere else: its eager/chunkResult lost its middle (the
    # count drawn on the line says "N+ lines"), and the hover shows its start and its end
    # around how much it leaves out.
    decorations = [d["text"] for d in r["afterRun"]["decorations"]]
    loop = next(d for d in decorations if "» row 0000 of 3000" in d)
    assert "+ lines)" in loop, decorations
    assert "row 0000 of 3000" in rows["hover"]["text"], rows["hover"]
    assert "row 2999 of 3000" in rows["hover"]["text"], rows["hover"]
    assert "characters not shown here" in rows["hover"]["text"], rows["hover"]
    assert "row 1500 of 3000" not in rows["hover"]["text"], rows["hover"]
    # ...and says where all of it is, under its heading: its link runs Whole Output of Statement
    # on the loop's first line.
    assert rows["hover"]["text"].split("\n\n")[1] == "Cut to fit. Show whole output", rows["hover"]
    assert linked["tab"] == "whole.py:2 whole output.txt", linked["tab"]
    assert linked["text"] == rows["text"]

    # The whole output document: beside the editor, named after the file and line, read-only,
    # with every line the loop printed, once, in order, under the loop's header.
    assert rows["cursor"]["line"] == 3, rows
    assert rows["tab"] == "whole.py:3 whole output.txt", rows["tab"]
    assert rows["groups"] == 2, rows
    lines = rows["text"].split("\n")
    assert lines[0].startswith("[whole.py:2-3] ok · "), lines[:3]
    assert lines[1:3] == ["i = 2999", "[whole.py:2-3] stdout"], lines[:3]
    assert lines[3:] == [*WHOLE_ROWS, ""], (len(lines), lines[3:6], lines[-3:])
    assert rows["end"]["line"] == len(lines), (rows["end"], len(lines))  # all of it was copied
    assert rows["firstLineAfterTyping"] == lines[0], rows["firstLineAfterTyping"]

    # The failing call, and the line where its error was raised (inside ping, whose `def` ran
    # fine): the failure, with the whole traceback the worker kept, and no frame of the worker.
    tb = _deep_traceback(bench.folder / "whole.py")
    assert call["cursor"]["line"] == 8 and raised["cursor"]["line"] == 5, (call, raised)
    for d, line in ((call, 8), (raised, 5)):
        assert d["tab"] == f"whole.py:{line} whole output.txt", d["tab"]
        head = d["text"].split("\n")[:2]
        assert head[0].startswith("[whole.py:8] error · "), head
        assert head[1] == "[whole.py:5] ZeroDivisionError: division by zero", head
        assert d["text"].endswith("\n" + tb), d["text"][-3000:]
        # all of it: every frame, none left out
        assert d["text"].count('\n  File "') == DEEP_FRAMES, d["text"][-3000:]
        assert "more frames not shown" not in d["text"], d["text"][-3000:]
        assert "runner.py" not in d["text"] and "eager_lsp" not in d["text"], d["text"]
    assert raised["text"] == call["text"]
    # The hover shows the traceback's first frames and its end (where it was raised), not all.
    hover = call["hover"]["text"]
    assert tb not in hover and "characters not shown here" in hover, hover
    assert tb[:300] in hover and tb[-600:].rstrip() in hover, hover
    assert hover.split("\n\n")[1] == "Cut to fit. Show whole output", hover

    # Asked from the rightmost group (the source's), the whole output group on its left: shown
    # there, not in one more group.
    assert kept["groups"] == 2 and kept["tab"] == "whole.py:3 whole output.txt", kept
    assert from_right["cursor"]["line"] == 7, from_right
    assert from_right["tab"] == "whole.py:7 whole output.txt", from_right["tab"]
    assert from_right["groups"] == 2, from_right
    assert from_right["text"].startswith("[whole.py:6-7] ok"), from_right["text"][:200]


# A statement that sleeps for a minute, between two that do not.
NAP = 'import time\nprint("before")\ntime.sleep(60)\nprint("after")\n'


def test_interrupt_and_restart_from_the_palette_say_so_in_the_status_bar(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    """Eager: Interrupt from the palette while `time.sleep(60)` runs (Eager: Whole Output of
    Statement on it meanwhile says it is running): the status bar says `Eager: interrupted`, not
    drawn as an error, and one message says so (the interrupt's own, as information: no summary
    of the run besides); the line's diagnostic (Information: no error squiggle) and its result,
    headed interrupted, say KeyboardInterrupt, with a traceback (hover, channel, whole output)
    that has no frame of the worker's own (runner.py raises it in the user's code). Then Eager:
    Restart Interpreter while it runs again: `Eager: interpreter restarted`, one message (the
    restart's, no summary of the run it stopped), every result stale (and Whole Output of
    Statement on one shows the copy the editor draws)."""
    bench = Workbench(
        code_server,
        vsix,
        tmp_path,
        {**WORKBENCH_SETTINGS, "eager.server.python": PYTHON, "eager.debug.enabled": False},
    )
    (bench.folder / "nap.py").write_text(NAP)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "interrupt",
                "url": bench.url,
                "file": "nap.py",
                "sleepLine": "time.sleep(60)",
                "printed": "» before",
                "staleLine": 'print("before")',
                "runningStatus": r"\b2 done · 1 running\b",
                "screenshot": str(ARTIFACTS / "vscode-e2e-interrupt.png"),
                "timeoutMs": 90000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-interrupt.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug

    # Asked for its whole output while it ran: no result yet, and not "nothing ran" either: it
    # runs, for how long, and it printed nothing yet.
    running = r["detailWhileRunning"].split("\n")
    assert running[0].startswith("[nap.py:3] running for "), r["detailWhileRunning"]
    assert running[1] == "(no output yet)", r["detailWhileRunning"]
    # The interrupt ended the run at once (not the minute's sleep, nor a restart's grace).
    assert r["interruptSeconds"] < 20, r["interruptSeconds"]
    after = r["afterInterrupt"]
    assert after["texts"][-1] == "Eager: interrupted", after
    assert after["later"]["text"] == "Eager: interrupted", after
    assert "error-kind" not in after["later"]["className"], after
    assert "Eager: idle (interrupted)" in after["later"]["aria"], after
    # One action, one message: the interrupt's own, as information (the user ended the run);
    # the run's summary is not shown besides (it is in the channel).
    assert r["interruptMessages"] == [{"text": "Eager: interrupted.", "severity": "info"}], r[
        "interruptMessages"
    ]
    # A clean interrupt: not "the interpreter was restarted", nor "nothing was interrupted".
    toasts = r["toastsSeen"]
    assert not any("variables are gone" in t or "nothing was" in t for t in toasts), toasts

    # The interrupted statement: an Information diagnostic saying KeyboardInterrupt (its
    # squiggle, no error's), its result drawn as interrupted (no ✗), the next statement skipped.
    snap = r["interruptSnapshot"]
    assert (snap["squiggles"], snap["infoSquiggles"]) == (0, 1), snap
    assert any(d.startswith("⟵ interrupted: KeyboardInterrupt") for d in snap["decorations"]), snap
    assert not any("✗" in d for d in snap["decorations"]), snap
    assert any(d.startswith("⟵ skipped") for d in snap["decorations"]), snap
    # The hover shows the diagnostic (its message, its frames) and the traceback: the user's
    # line, no frame of the worker.
    hover = r["hover"]["text"]
    diagnostic, _, ours = hover.partition("Eager · line 3")
    assert diagnostic.startswith("KeyboardInterrupt") and "nap.py(3, 1)" in diagnostic, hover
    assert ours.split("\n")[0].endswith("· interrupted"), hover  # its heading
    assert "KeyboardInterrupt" in ours and "Traceback (most recent call last)" in ours, hover
    assert "time.sleep(60)" in ours, hover
    for shown in (hover, r["output"], r["detail"]):
        assert "runner.py" not in shown and "eager_lsp" not in shown, shown
    assert "[nap.py:3] KeyboardInterrupt" in r["output"], r["output"]
    assert "[summary]" in r["output"], r["output"]  # (the summary is in the channel)
    assert r["detail"].startswith("[nap.py:3] interrupted · "), r["detail"]
    tb = r["detail"].split("\n", 2)[2]
    assert tb.startswith("Traceback (most recent call last):\n  File "), r["detail"]
    assert tb.rstrip().endswith("line 3, in <module>\n    time.sleep(60)\nKeyboardInterrupt"), tb

    # Restart Interpreter while it sleeps again: said in the status bar, not as an error; every
    # result of the file is stale (its variables are gone).
    restarted = r["afterRestart"]
    assert restarted["later"]["text"] == "Eager: interpreter restarted", restarted
    assert "error-kind" not in restarted["later"]["className"], restarted
    # one message: the restart's (the run it stopped has no summary message besides)
    assert r["restartMessages"] == [
        {"text": "Eager: interpreter restarted.", "severity": "info"}
    ], r["restartMessages"]
    decorations = r["restartSnapshot"]["decorations"]
    assert decorations and all(d.endswith("· stale") for d in decorations), decorations
    # The server keeps no result after the restart; on a line still drawn (stale), Whole Output
    # of Statement shows the editor's copy, said to be that, not "nothing ran" beside a drawn
    # result.
    stale = r["staleDetail"].split("\n")
    assert stale[0].startswith("[the server no longer has this result"), r["staleDetail"]
    assert stale[1].startswith("[nap.py:2] ok · ") and stale[2:4] == [
        "[nap.py:2] stdout",
        "before",
    ], stale


DEAF_NAP = (
    "import signal, time\n"
    'print("before")\n'
    "_ = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "time.sleep(60)\n"
    'print("after")\n'
)


def test_a_stop_that_has_to_kill_warns_once_and_clears_the_values(
    code_server: Path, vsix: Path, tmp_path: Path
) -> None:
    """Eager: Stop while a statement that ignores SIGINT sleeps: the interpreter is killed after
    the grace period. The status bar says `Eager: interpreter restarted`; one message, a
    warning, says the variables are gone (no summary of the run besides); the values drawn
    before are drawn stale, gone with the namespace (they stayed drawn as current), and the
    sleeping line shows what happened as information, not as an error."""
    bench = Workbench(
        code_server,
        vsix,
        tmp_path,
        {
            **WORKBENCH_SETTINGS,
            "eager.server.python": PYTHON,
            "eager.debug.enabled": False,
            "eager.execution.interruptGraceSeconds": 0.5,
        },
    )
    (bench.folder / "deaf.py").write_text(DEAF_NAP)
    ARTIFACTS.mkdir(exist_ok=True)
    bench.start()
    try:
        r = drive(
            {
                "scenario": "stopKill",
                "url": bench.url,
                "file": "deaf.py",
                "sleepLine": "time.sleep(60)",
                "printed": "» before",
                "runningStatus": r"\b3 done · 1 running\b",
                "screenshot": str(ARTIFACTS / "vscode-e2e-stop-kill.png"),
                "timeoutMs": 90000,
            }
        )
    finally:
        bench.stop()
    (ARTIFACTS / "vscode-e2e-stop-kill.json").write_text(json.dumps(r, indent=1))
    debug = f"\nsteps: {r.get('steps')}\n{r['_stderr'][-2000:]}\n{bench.logs()}"
    assert r["error"] is None, r["error"] + debug
    after = r["afterStop"]
    assert after["later"]["text"] == "Eager: interpreter restarted", after
    messages = r["stopMessages"]
    assert len(messages) == 1, messages
    assert messages[0]["severity"] == "warning", messages
    assert "variables are gone" in messages[0]["text"], messages
    snap = r["stopSnapshot"]
    # `» before` was drawn while it slept; the kill took the namespace: it is drawn stale now,
    # as after Restart Interpreter (it was drawn as current)
    assert any("» before" in d for d in r["whileRunning"]["decorations"]), r["whileRunning"]
    before = [d for d in snap["decorations"] if "» before" in d]
    assert before and all(d.endswith("· stale") for d in before), snap
    # no error squiggle (the user ended it): the sleeping line's is information
    assert (snap["squiggles"], snap["infoSquiggles"]) == (0, 1), snap
