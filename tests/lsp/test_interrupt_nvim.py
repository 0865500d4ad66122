"""Neovim's side of a run the user ended (nvim/lua/eager/handlers.lua), in headless Neovim.

Found in the tours: an interrupt that had to kill the interpreter gave three messages (the
server's warning that the interpreter stopped, the summary as a WARN "stopped early … "
and :EagerInterrupt's own answer); a landed interrupt's summary was a WARN "stopped early …
(KeyboardInterrupt)" next to :EagerInterrupt's "eager: interrupted"; a 60 ms run read "done in
0.0 s"; a stopped run claimed a saving. The scenarios are Lua written here and run with the
end-to-end harness (tests/e2e/nvim/harness.lua); the first drives the real server and worker.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_neovim import NVIM, PLUGIN, SCENARIOS, _env, _settings, requires_nvim
from tests.support.openai_server import FakeOpenAIServer

pytestmark = [requires_nvim, pytest.mark.slow]

HARNESS = SCENARIOS / "harness.lua"
DEAF = (
    "kept = 7\n"
    "import signal, time\n"
    "_ = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "time.sleep(60)\n"
    "after = 1\n"
)


def _run_lua(tmp_path: Path, body: str, params: dict[str, Any]) -> dict[str, Any]:
    script = tmp_path / "scenario.lua"
    script.write_text(
        f"local H = dofile({json.dumps(str(HARNESS))})\nH.run(function()\n{body}\nend)\n"
    )
    assert NVIM is not None
    proc = subprocess.run(
        [
            NVIM,
            "--headless",
            "--clean",
            "-u",
            "NONE",
            "--cmd",
            f"set rtp^={PLUGIN}",
            "-l",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(tmp_path, params),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("EAGER_RESULT ")]
    assert lines, f"no result (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("EAGER_RESULT "))
    assert not result.get("error"), f"{result['error']}\n{proc.stderr}"
    return result


def test_an_interrupt_that_had_to_kill_is_told_once(tmp_path: Path) -> None:
    target = tmp_path / "deaf.py"
    target.write_text(DEAF)
    body = """
  H.setup()
  local buf = H.open(H.params.file)
  local eager = require("eager")
  local r = H.result
  vim.cmd("EagerRun")
  assert(H.wait(H.timeout, function()
    local s = eager.status(buf)
    return s ~= nil and s.state == "running" and type(s.runningLines) == "table" and s.runningLines[1] == 3
  end), "the sleep never ran")
  local n = #r.notifications
  vim.cmd("EagerInterrupt")
  assert(H.wait_done(), "no summary")
  H.wait(10000, function() return eager.statusline(buf) == "eager: idle · interpreter restarted" end)
  H.wait(10000, function() return #r.notifications > n end)
  vim.wait(1500) -- a second message would come now
  r.after = vim.list_slice(r.notifications, n + 1)
  r.statusline = eager.statusline(buf)
  r.diagnostics = H.diagnostics(buf)
"""
    with FakeOpenAIServer() as srv:
        settings = _settings(srv.url, execution={"interruptGraceSeconds": 0.5})
        r = _run_lua(tmp_path, body, {"file": str(target), "settings": settings})
    messages = [n["msg"] for n in r["after"]]
    # :EagerInterrupt's own answer, and nothing else (no server warning, no summary)
    assert len(messages) == 1 and "interpreter had to restart" in messages[0], messages
    assert r["statusline"] == "eager: idle · interpreter restarted", r["statusline"]
    [diag] = [d for d in r["diagnostics"] if d["lnum"] == 3]
    assert "InterpreterLost" in diag["message"] and diag["severity"] == 3, diag  # INFO


def test_summaries_say_how_the_run_ended(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    body = """
  H.setup({ filetypes = { "eager-test-none" } }) -- no server: notifications fed by hand
  local h = require("eager.handlers")
  local r = H.result
  vim.cmd.edit(vim.fn.fnameescape(H.params.file))
  local uri = vim.uri_from_bufnr(vim.api.nvim_get_current_buf())
  local function said(p)
    local msg, level = h.summary_message(vim.tbl_extend("force", { uri = uri }, p))
    return { msg = msg, level = level }
  end
  r.short = said({ elapsedS = 0.06, chunks = 2, stoppedEarly = false, error = vim.NIL })
  r.interrupted = said({ elapsedS = 2.3, chunks = 1, stoppedEarly = true, error = "KeyboardInterrupt" })
  r.stopped = said({ elapsedS = 2.3, savedS = 1.0, chunks = 1, stoppedEarly = true, error = vim.NIL })
  r.no_python = said({ elapsedS = 0, chunks = 0, stoppedEarly = false,
    error = "eager: could not start the Python interpreter for a.py: cannot start /x/python3" })
  r.long = said({ elapsedS = 42.4, savedS = 3.21, chunks = 2, stoppedEarly = false, error = vim.NIL })
  -- a run :EagerInterrupt ended: its command said so, the summary is not notified
  local n = #r.notifications
  h.handlers["eager/status"](nil, { uri = uri, state = "idle", message = "interrupted" }, {})
  h.handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 2.3, stoppedEarly = true, error = "KeyboardInterrupt" }, {})
  h.handlers["eager/status"](nil, { uri = uri, state = "idle", message = "following · interpreter restarted" }, {})
  h.handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 2.3, stoppedEarly = true, error = vim.NIL }, {})
  r.after_commands = vim.list_slice(r.notifications, n + 1)
  -- a stop: notified
  h.handlers["eager/status"](nil, { uri = uri, state = "idle", message = "stopped" }, {})
  h.handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 1.2, chunks = 3, stoppedEarly = true, error = vim.NIL }, {})
  r.after_stop = vim.list_slice(r.notifications, n + 1)
"""
    r = _run_lua(tmp_path, body, {"file": str(tmp_path / "a.py")})
    info, warn, error = 2, 3, 4  # vim.log.levels
    assert r["short"] == {"msg": "eager: done in 60 ms", "level": info}, r["short"]
    assert r["interrupted"] == {
        "msg": "eager: interrupted after 2.3 s (KeyboardInterrupt)",
        "level": info,
    }, r["interrupted"]
    assert r["stopped"] == {"msg": "eager: stopped early after 2.3 s", "level": info}, r["stopped"]
    assert r["no_python"] == {
        "msg": "eager: could not start the Python interpreter for a.py: cannot start /x/python3",
        "level": error,
    }, r["no_python"]
    assert r["long"] == {"msg": "eager: done in 42.4 s, 3.2 s saved", "level": info}, r["long"]
    assert r["after_commands"] == [], r["after_commands"]
    assert [n["msg"] for n in r["after_stop"]] == ["eager: stopped early after 1.2 s"]
    assert warn not in {n["level"] for n in r["after_stop"]}
