"""A real `jupyter server` on 127.0.0.1 with a random token, for the kernel backend's remote
(URL) mode: used by the executor tests and the language-server tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    pytest.importorskip("jupyter_server")
    root = tmp_path_factory.mktemp("server")
    port = free_port()
    token = secrets.token_hex(16)
    args = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1"]
    args += [f"--port={port}", "--port-retries=0", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    env = {**os.environ, "JUPYTER_TOKEN": token}  # not on its command line either
    log = open(root / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=root, stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (root / "server.log").read_text()
            try:
                req = urllib.request.Request(
                    url + "/api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "jupyter server did not come up"
            time.sleep(0.3)
        yield url, token
    finally:
        stop_process(proc, 15)
        log.close()


def stop_process(proc: subprocess.Popen[bytes], wait_s: float) -> None:
    """Terminate `proc` (a kernel, a server), killed if it has not exited within `wait_s`."""
    proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kernels_on(url: str, token: str) -> list[dict]:
    req = urllib.request.Request(url + "/api/kernels", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())
