"""The README's main job, for real: the bundled local model through `eager-lsp generate`.

No fake here: llama.cpp (xllamacpp) serves the pinned default model (Qwen2.5-Coder-1.5B) on 127.0.0.1 and
the product's own provider code streams from it. Skipped only when the `local` extra is not
installed (scripts/test.sh installs it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.llama_stub import model_servers

pytestmark = [pytest.mark.slow, pytest.mark.model]

PROMPT = (  # the README's
    "Step by step, with no functions: make the list of the primes below 200000 by trial "
    "division and print how many there are, then print their sum and the largest one, then "
    "print the sum of the squares of the numbers from 1 to 3000000"
)


def _local_extra_installed() -> bool:
    from eager_lsp.providers.local_model import PART_MODULES

    return all(importlib.util.find_spec(m) is not None for m in ("xllamacpp", *PART_MODULES))


@pytest.mark.skipif(not _local_extra_installed(), reason="the `local` extra is not installed")
def test_generate_with_the_bundled_model_runs_chunks_while_tokens_arrive(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "generate",
            PROMPT,
            "--json",
            "--no-debug",
            "--max-tokens",
            "300",
            "-o",
            str(tmp_path / "gen.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.stdout.strip(), out.stderr
    # The model's start (15-25 s) is not silent: progress on stderr from the first second.
    assert "starting the local model… (0 s)" in out.stderr, out.stderr
    summary = json.loads(out.stdout)
    assert summary["provider"] == "local"
    assert summary["error"] is None, summary["error"]
    code = (tmp_path / "gen.py").read_text()
    assert "print(" in code
    compile(code, "gen.py", "exec")  # the kept program is whole Python
    chunks = summary["chunks"]
    ran = [c for c in chunks if not c["skipped"]]
    assert len(ran) >= 2, code
    # The timeline shows the overlap: some chunk finished running before the last token.
    finished_early = [
        c for c in ran if c["exec_end_s"] is not None and c["exec_end_s"] < summary["last_token_s"]
    ]
    assert finished_early, json.dumps(summary, indent=1)


@pytest.mark.skipif(not _local_extra_installed(), reason="the `local` extra is not installed")
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the model's process")
@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_a_cli_stopped_while_the_model_loads_leaves_no_model_process(
    tmp_path: Path, how: str
) -> None:
    """Ctrl-C (SIGINT) or a kill of `eager-lsp generate` while the bundled model still loads:
    the model's process ends too, not once it has loaded (a newcomer saw one spin for 8-25 s
    at 60-70 % CPU after Ctrl-C, reparented to init). Where the cached model loads within the
    10 s this waits, the old behaviour passes too: tests/providers/test_local_server_exit.py
    tells them apart with a slow stand-in for llama.cpp. Ctrl-C also ends the command at once
    (it sat until the model had loaded, 4-10 s here, 15-60 s on a first start);
    tests/cli/test_generate_local_stop.py checks that against a 60 s stand-in load."""
    import signal
    import time

    before = set(model_servers())
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    cli = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "generate", "print hello", "--no-debug"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        mine: set[int] = set()
        while not mine and time.monotonic() < deadline:
            mine = set(model_servers()) - before
            time.sleep(0.1)
        assert mine, "the model's process never started"
        time.sleep(1.0)  # loading now (it takes 5-25 s)
        sent = time.monotonic()
        cli.send_signal(getattr(signal, how))
        cli.wait(30)
        assert time.monotonic() - sent < 2.5, "the command waited for the model's start"
        deadline = time.monotonic() + 10
        while mine & set(model_servers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not mine & set(model_servers()), "the model's process outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
