"""Ctrl-C while `eager-lsp generate` starts the bundled local model (no API key: 15–60 s).

The command printed its summary at once, then sat until the model had loaded: the start runs
in a thread, and Python's asyncio.run waits for its threads at exit. Now the start is
stopped: the command ends within a second or so and the model's process is killed with it.

The real CLI, the real `local_server.py` child; llama.cpp is replaced by a stand-in whose
load takes 60 s (a stub `xllamacpp` on PYTHONPATH, which the child inherits): the real model
loads a cached file in a few seconds when the page cache holds it, too fast to tell a stop
during the start from one after (tests/providers/test_local_model_stop.py says more). The
model file is a stand-in too, in a cache of the test's own, with the `.verified` sidecar a
real first start leaves, so nothing is joined or hashed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eager_lsp.providers import local_model
from tests.cli.test_run import _gone
from tests.support.llama_stub import model_servers, stub_llama

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc"),
]


def _stand_in(tmp_path: Path) -> dict[str, str]:
    """The command's environment: no API key, the stub first on the path, a cache holding a
    stand-in for the default model that a first start has verified."""
    stub_llama(tmp_path / "stub")
    cache = tmp_path / "cache"
    model = cache / "models" / local_model.MODEL_FILE
    model.parent.mkdir(parents=True)
    model.write_bytes(b"GGUF stand-in")
    sidecar = model.with_name(model.name + ".verified")
    sidecar.write_text(
        json.dumps({**local_model._stamp(model), "sha256": local_model.MODEL_SHA256})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(tmp_path / "stub"), env.get("PYTHONPATH")) if p
    )
    env["EAGER_LSP_CACHE"] = str(cache)
    return env


def test_ctrl_c_while_the_local_model_starts_ends_the_command_at_once(tmp_path: Path) -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "generate", "print hello", "--no-debug"],
        cwd=tmp_path,
        env=_stand_in(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a shell's foreground job: Ctrl-C is SIGINT to its group
    )
    try:
        deadline = time.monotonic() + 60
        while not (servers := model_servers(cli.pid)):
            assert time.monotonic() < deadline and cli.poll() is None, "no model process"
            time.sleep(0.05)
        time.sleep(1.0)  # loading now (the stand-in takes 60 s)
        pressed = time.monotonic()
        os.killpg(cli.pid, signal.SIGINT)
        try:
            out, err = cli.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the command waited for the model's start") from None
        took = time.monotonic() - pressed
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 130, (out, err)
    assert took < 2.5, f"{took:.1f} s after Ctrl-C"  # (it was the rest of the load, ~60 s)
    assert "stopped early: interrupted by the user (Ctrl-C)" in out, (out, err)
    assert "Traceback" not in err, err
    assert all(_gone(pid, timeout=2) for pid in servers), "the model's process outlived it"
