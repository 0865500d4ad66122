"""The server loads the model SDK after start-up on a thread of its own, before anyone asks for
a model: the first generation neither waits for the import (about a second, on the event loop
every document shares) nor leaves the SDK's objects to the collector (they are frozen with the
rest of start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import asyncio, gc, sys, threading

importers = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "openai":
            importers.append(threading.current_thread() is threading.main_thread())
        return None

sys.meta_path.insert(0, Watch())
from eager_lsp.lsp.server import build_server

server = build_server()
print("before", "openai" in sys.modules)
asyncio.run(server.warm_up())
print("after", "openai" in sys.modules, "on main thread", importers)
import openai
sdk = openai.__dict__  # in no generation once frozen (gc.get_objects skips the permanent one)
print("frozen", not any(o is sdk for g in (0, 1, 2) for o in gc.get_objects(generation=g)))
"""


def test_warm_up_imports_the_sdk_on_a_thread(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "before False" in out.stdout, out.stdout
    assert "after True on main thread [False]" in out.stdout, out.stdout
    assert "frozen True" in out.stdout, out.stdout
