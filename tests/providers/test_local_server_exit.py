"""The bundled model's server process ends as soon as its parent is gone (its stdin closes),
also while it is still loading the model: a Ctrl-C or a killed editor during the 5-25 s load
left a process loading a model for nobody (a newcomer's tour: 8-25 s at 60-70 % CPU).

llama.cpp is replaced here by a stand-in whose load takes 60 s (a stub `xllamacpp` on the
path): the real one loads this machine's cached model too fast to tell the two behaviours
apart. tests/cli/test_generate_local_model.py stops the real CLI while the real model loads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.support.llama_stub import stub_llama

import eager_lsp


def test_the_model_server_ends_when_its_stdin_closes_while_the_model_loads(
    tmp_path: Path,
) -> None:
    stub_llama(tmp_path)
    code = (
        eager_lsp.DROP_CWD
        + f"sys.path.insert(0, {str(tmp_path)!r})\n"
        + "from eager_lsp.providers.local_server import main\n"
        + "sys.exit(main(['--model', 'm.gguf', '--port-fd', '2']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"key\n")
        proc.stdin.flush()
        time.sleep(1.0)  # in the stand-in's load now
        assert proc.poll() is None, "it ended before its parent went away"
        proc.stdin.close()  # what the parent's death does
        proc.wait(30)  # (the load alone takes 60 s: TimeoutExpired fails the test)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
