"""A stand-in for llama.cpp (`xllamacpp`) for tests of the local model's start and stop.

The real model loads in 4–60 s depending on the page cache, so a test on it cannot say
whether a stop came during the start or after. The stub is put first on PYTHONPATH (the
model server's child inherits it): its load takes STUB_LOAD_S seconds (default 60), then it
serves /health on 127.0.0.1 answering STUB_HEALTH (default 200; 503: never finishes
loading). The product's own `local_server.py` runs around it in a real child process.
"""

from __future__ import annotations

from pathlib import Path

STUB = """
import http.server, os, threading, time

class _Part:
    pass

class CommonParams:
    def __init__(self):
        self.model = _Part()
        self.cpuparams = _Part()
        self.cpuparams_batch = _Part()

class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        # STUB_HEALTH 503: a model that never finishes loading
        self.send_response(int(os.environ.get("STUB_HEALTH", "200")))
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass

class Server:
    def __init__(self, params):
        time.sleep(float(os.environ.get("STUB_LOAD_S", "60")))  # "loading the model"
        httpd = http.server.HTTPServer(("127.0.0.1", 0), _Health)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.listening_address = f"http://127.0.0.1:{httpd.server_address[1]}/"
"""


def stub_llama(directory: Path) -> Path:
    """A directory holding the stand-in `xllamacpp` package."""
    (directory / "xllamacpp").mkdir(parents=True)
    (directory / "xllamacpp" / "__init__.py").write_text(STUB)
    return directory


def model_servers(parent: int | None = None) -> list[int]:
    """Pids of the local model servers `parent` started (any parent: None), alive, not
    zombies."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        mine = parent is None or int(stat[1]) == parent
        if b"local_server import main" in cmd and mine and stat[0] != "Z":
            found.append(int(entry.name))
    return found
