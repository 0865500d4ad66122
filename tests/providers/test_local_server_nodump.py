"""Issue 9.3: the bundled model's server process is non-dumpable, so executed code (same user)
cannot read its memory or environment through /proc. Its `main` makes the process so before
loading anything; here with a missing model file, so it fails right after (no model needed).
The /proc attack itself is tested as uid 65534 against the server and the workers in
tests/lsp/test_isolation.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eager_lsp

PROBE = (
    eager_lsp.DROP_CWD
    + "import os\n"
    + "from eager_lsp.providers import local_server\n"
    + "from eager_lsp.executors.worker.nodump import is_dumpable\n"
    + "os.write(2, b'before %r\\n' % is_dumpable())\n"
    + "try:\n"
    + "    local_server.main(['--model', '/nonexistent.gguf', '--ctx', '64', '--port-fd', '99'])\n"
    + "except BaseException as exc:\n"
    + "    os.write(2, b'failed as expected: %r\\n' % type(exc).__name__)\n"
    + "os.write(2, b'after %r\\n' % is_dumpable())\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_DUMPABLE is Linux's")
def test_the_model_server_process_makes_itself_non_dumpable() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd="/"
    )
    lines = done.stderr.splitlines()
    assert "before True" in lines, done.stderr
    assert "after False" in lines, done.stderr
