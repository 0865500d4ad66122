"""A kernel's iopub messages can be lost before its subscription takes effect (ZeroMQ's slow
joiner): seen in CI as a first execute that waited 300 s for an idle status that never came.

The race itself cannot be forced on a real socket, so these tests run a real ipykernel behind
the product's ZeroMQ transport with one change: iopub messages are dropped while `deaf` is set,
which is what a subscription that has not taken effect yet looks like to the client."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from jupyter_client.manager import AsyncKernelManager

from eager_lsp.core.executor import ChunkRequest
from eager_lsp.executors import kernel as kernel_module
from eager_lsp.executors.kernel import KernelExecutor, _ZmqTransport
from eager_lsp.executors.worker.launch import worker_env

pytestmark = pytest.mark.slow


class _DeafIopub(_ZmqTransport):
    """Drops iopub messages while `deaf`; `hear_after_info` ends that at the second
    kernel_info_request (the subscription "took effect" between the first and the second)."""

    def __init__(self, kc: Any, km: Any, *, hear_after_info: bool) -> None:
        self.deaf = True
        self._infos = 0
        self._hear_after_info = hear_after_info
        super().__init__(kc, km)

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        if msg_type == "kernel_info_request":
            self._infos += 1
            if self._hear_after_info and self._infos >= 2:
                self.deaf = False
        return super().send(channel, msg_type, content)

    async def _read(self, name: str, channel: Any) -> None:
        if name != "iopub":
            return await super()._read(name, channel)
        from queue import Empty

        while not self.closed:
            try:
                msg = await channel.get_msg(timeout=kernel_module.ZMQ_POLL_S)
            except Empty:
                continue
            if not self.deaf:
                self.queue.put_nowait((name, msg))


async def _kernel(tmp_path: Path, *, hear_after_info: bool) -> tuple[KernelExecutor, _DeafIopub]:
    km = AsyncKernelManager(kernel_name="python3")
    await km.start_kernel(
        cwd=str(tmp_path),
        env=dict(worker_env(None)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kc = km.client()
    kc.start_channels(hb=False)
    transport = _DeafIopub(kc, km, hear_after_info=hear_after_info)
    executor = KernelExecutor(transport, interrupt_grace_s=2.0)
    try:
        await executor._handshake()
    except BaseException:
        await transport.close(destroy=True)
        raise
    return executor, transport


def _chunk(code: str, path: Path) -> ChunkRequest:
    return {
        "id": 0,
        "code": code,
        "path": str(path),
        "first_line": 1,
        "names": [],
        "trailing_expr": True,
        "image_dir": "",
    }


async def test_the_handshake_waits_until_iopub_is_heard(tmp_path: Path) -> None:
    """The first kernel_info's reply came but none of its iopub messages did: the handshake
    asks again, so the first execute's output and idle status are not lost."""
    kernel, _ = await _kernel(tmp_path, hear_after_info=True)
    try:
        events = await asyncio.wait_for(
            kernel.execute([_chunk("print('hi')\n6 * 7\n", tmp_path / "a.py")], stop_on_error=True),
            60,
        )
    finally:
        await kernel.shutdown()
    (result,) = [e for e in events if e["ev"] == "result"]
    assert result["ok"] and "hi" in result["stdout"], result


async def test_a_reply_without_its_idle_status_does_not_hold_the_kernel_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iopub went deaf after the handshake: the execute still ends, once its reply is
    IDLE_GRACE_S old, with what arrived (no output: it was on iopub)."""
    monkeypatch.setattr(kernel_module, "IDLE_GRACE_S", 1.0)
    kernel, transport = await _kernel(tmp_path, hear_after_info=True)
    try:
        transport.deaf = True
        events = await asyncio.wait_for(
            kernel.execute([_chunk("x = 1\n", tmp_path / "a.py")], stop_on_error=True), 60
        )
    finally:
        await kernel.shutdown()
    (result,) = [e for e in events if e["ev"] == "result"]
    assert result["ok"], result
