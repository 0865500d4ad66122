"""Output capture: per chunk, capped, and never on the parent's stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from eager_lsp.executors.worker.client import WorkerClient
from eager_lsp.executors.worker.launch import worker_command, worker_env
from eager_lsp.limits import CLIPPED_MARKER
from tests.worker.helpers import DOC, run1


async def test_stdout_and_stderr_per_chunk(worker: WorkerClient) -> None:
    code = "import sys, os\nprint('out')\nprint('err', file=sys.stderr)\nos.write(1, b'fd1\\n')\n"
    result = await run1(worker, code)
    assert result["stdout"] == "out\nfd1\n"
    assert result["stderr"] == "err\n"
    quiet = await run1(worker, "x = 1\n")
    assert quiet["stdout"] == "" and quiet["stderr"] == ""


async def test_subprocess_output_is_captured(worker: WorkerClient) -> None:
    code = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(123)'])\n"
    result = await run1(worker, code)
    assert result["stdout"] == "123\n"


async def test_output_flood_is_capped(worker: WorkerClient) -> None:
    code = "for _ in range(10**6):\n    print('x' * 1000)\n"
    began = time.monotonic()
    result = await run1(worker, code)
    assert time.monotonic() - began < 60
    assert result["ok"]
    assert len(result["stdout"]) < 70 * 1024
    assert len(CLIPPED_MARKER.findall(result["stdout"])) == 1  # head and tail, one gap
    assert result["stdout"].startswith("x" * 1000 + "\n")
    assert result["stdout"].endswith("\n" + "x" * 1000 + "\n")


async def test_fd_flood_is_capped(worker: WorkerClient) -> None:
    code = "import os\nfor _ in range(2000):\n    os.write(2, b'y' * 1000)\n"
    result = await run1(worker, code)
    assert 60 * 1024 <= len(result["stderr"]) < 70 * 1024
    assert len(CLIPPED_MARKER.findall(result["stderr"])) == 1


async def test_input_fails_at_once(worker: WorkerClient) -> None:
    began = time.monotonic()
    result = await run1(worker, "name = input('name? ')\n")
    assert time.monotonic() - began < 30  # it fails, it does not wait for input (a hang)
    assert result["error"]["type"] == "RuntimeError"
    assert "input() is not available" in result["error"]["message"]
    stdin = await run1(worker, "import sys\nsys.stdin.read()\n", trailing_expr=True)
    assert stdin["expr"]["repr"] == "''"


def test_raw_worker_never_writes_to_stdout() -> None:
    """Run `python -m eager_lsp.executors.worker` by hand and check its stdout pipe stays empty."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        worker_command(sys.executable, write_fd, debug=True),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(write_fd,),
        env=worker_env(None),
    )
    os.close(write_fd)
    events = os.fdopen(read_fd, "rb")
    assert json.loads(events.readline())["ev"] == "ready"
    code = (
        "import os, sys, ctypes\n"
        "print('hello')\n"
        "os.write(1, b'x')\n"
        "os.write(2, b'y')\n"
        "sys.__stdout__.write('z')\n"
        "sys.__stdout__.flush()\n"
        "ctypes.CDLL(None).puts(b'from C')\n"
        "ctypes.CDLL(None).fflush(None)\n"
    )
    request = {
        "op": "exec",
        "batch": 1,
        "stop_on_error": True,
        "chunks": [{"id": 1, "code": code, "path": DOC, "first_line": 1, "names": []}],
    }
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(request) + "\n").encode())
    proc.stdin.write(b'{"op": "shutdown"}\n')
    proc.stdin.flush()
    seen = [json.loads(line) for line in events]
    stdout, stderr = proc.communicate(timeout=30)
    result = next(e for e in seen if e["ev"] == "result")
    assert result["ok"], result["error"]
    assert "hello" in result["stdout"] and "x" in result["stdout"]
    assert "from C" in result["stdout"]
    assert stdout == b""
    assert stderr == b""
    assert proc.returncode == 0


async def test_stream_references_kept_across_chunks(worker: WorkerClient) -> None:
    setup = "import logging, sys\nlogging.basicConfig(level=logging.INFO)\nsaved = sys.stdout\n"
    await run1(worker, setup)
    code = (
        "logging.info('later')\nsaved.write('via saved\\n')\nsys.stdout.buffer.write(b'bytes\\n')\n"
    )
    result = await run1(worker, code)
    assert result["stderr"] == "INFO:root:later\n"
    assert result["stdout"] == "via saved\nbytes\n"
    await run1(worker, "sys.stdout = open('/dev/null', 'w')\n")
    assert (await run1(worker, "print('back')\n"))["stdout"] == "back\n"
