"""Stopping the local model's start: it ends at once, kills the process it spawned, and the
next start works.

A start is slow (15–60 s: the parts joined and hashed on first use, then the model loaded),
and its loops waited for the port, then for /health, without looking at a stop: `eager-lsp
generate` stopped by Ctrl-C printed its summary, then sat until the model had loaded (Python's
asyncio.run waits for the thread at exit).

The real model loads this machine's cached file in a few seconds when it is in the page cache
and in 20+ s when not, so a test on it could not say whether a stop came during the start or
after. llama.cpp is replaced here by a stand-in (a stub `xllamacpp` on PYTHONPATH, which the
server's child inherits) whose load takes STUB_LOAD_S seconds and which then serves /health
on 127.0.0.1 (STUB_HEALTH: its answer, 200 or 503): the product's own `local_server.py` runs in a real child process around it.
tests/cli/test_generate_local_stop.py presses Ctrl-C in the real CLI the same way."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.llama_stub import model_servers, stub_llama

from eager_lsp.providers import local_model
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for processes")


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMConfig]:
    """The stand-in on the child's path, a cache of our own, a model file of the user's own
    (taken as is: nothing to join or hash), and no server left over from another test."""
    path = os.pathsep.join([str(stub_llama(tmp_path / "stub")), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path.rstrip(os.pathsep))
    monkeypatch.setenv("EAGER_LSP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("STUB_LOAD_S", "60")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    local_model.stop_local_server()
    yield LLMConfig(provider="local", local_model_path=str(model), local_threads=1)
    local_model.stop_local_server()


def test_a_stopped_start_ends_at_once_and_kills_its_process(
    stand_in: LLMConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    failure: list[BaseException] = []

    def start() -> None:
        try:
            local_model.get_local_server(stand_in)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (children := model_servers(os.getpid())):
        assert time.monotonic() < deadline, "the model's process never started"
        time.sleep(0.05)
    time.sleep(1.0)  # in the stand-in's load now (it takes 60 s)
    assert thread.is_alive()

    stopped = time.monotonic()
    local_model.stop_local_start()
    thread.join(5)
    assert not thread.is_alive(), "the start went on after the stop"
    assert time.monotonic() - stopped < 1.5
    assert failure and isinstance(failure[0], ProviderError), failure
    assert "stopped" in str(failure[0]), failure
    assert not set(children) & set(model_servers(os.getpid())), "its process outlived the stop"
    assert not local_model.local_server_ready()

    # The next start is a start: a fresh process, up and answering.
    monkeypatch.setenv("STUB_LOAD_S", "0")
    server = local_model.get_local_server(stand_in)
    assert server.running() and local_model.local_server_ready()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as reply:
        assert reply.status == 200
    # A stop of a start that is over leaves the running server alone.
    local_model.stop_local_start()
    assert server.running()


def test_a_stop_during_the_health_wait_ends_it_too(
    stand_in: LLMConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the port comes, the start polls /health (a model still loading answers 503):
    a stop there ended nothing either (the loop only watched its deadline, 120 s)."""
    monkeypatch.setenv("STUB_LOAD_S", "0")
    monkeypatch.setenv("STUB_HEALTH", "503")
    server = local_model.LocalModelServer(Path(stand_in.local_model_path or ""), threads=1)
    failure: list[BaseException] = []

    def start() -> None:
        try:
            server.start()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while server.port is None:
        assert time.monotonic() < deadline and thread.is_alive(), failure
        time.sleep(0.02)
    time.sleep(0.5)  # waiting for a /health that never answers
    stopped = time.monotonic()
    server.stop()
    thread.join(5)
    assert not thread.is_alive(), "the health wait went on after the stop"
    assert time.monotonic() - stopped < 1.5
    assert failure and "stopped" in str(failure[0]), failure
    assert not server.running()


def test_a_start_stopped_while_it_joins_the_parts_leaves_no_file(tmp_path: Path) -> None:
    """The first start joins ~1 GB of parts and hashes it (the slowest part of a start):
    stopped there it ends at once, and no half file is left to be loaded later."""
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(b"x" * 1024)
        parts.append(part)
    dest = tmp_path / "cache" / "model.gguf"
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(ProviderError, match="stopped"):
        local_model.join_parts(parts, dest, stopped=stopped)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    local_model.join_parts(parts, dest)
    with pytest.raises(ProviderError, match="stopped"):
        local_model.verify(dest, "0" * 64, stopped=stopped)
    assert dest.exists()  # (a stop is not a failed check: the file stays for the next start)
