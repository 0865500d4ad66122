"""A Jupyter kernel behind the same "execute a batch" shape as our worker.

Most tools that run model-written code use a Jupyter kernel, so the fairest comparison for
our worker is that kernel driven by the very same detector, gate and scheduler: the harness
hands a `KernelExecutor` to the Session where a `WorkerClient` would go. Every chunk of a batch
is sent at once as its own execute request (the kernel queues them), so a chunk never waits
on the parent. Timestamps the kernel reports are wall-clock; they are mapped onto
`time.monotonic()` with an offset taken in this process (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

EventCallback = Callable[[dict[str, Any]], None]

REPLY_TIMEOUT_S = 600.0


def available() -> str | None:
    """None when a kernel can be started here, else why not."""
    try:
        import ipykernel  # noqa: F401
        import jupyter_client  # noqa: F401
    except ImportError as exc:
        return f"not installed: {exc.name}"
    return None


def _wall_to_mono(value: Any, offset: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp() - offset


class KernelExecutor:
    """One ipykernel process; quacks like `WorkerClient` where the Session uses it."""

    debug_port: int | None = None
    debug_error: str | None = None

    def __init__(self, km: Any, kc: Any) -> None:
        self._km = km
        self._kc = kc
        self._lock = asyncio.Lock()
        self._iopub_task = asyncio.get_running_loop().create_task(self._drain_iopub())
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        self.pid: int | None = getattr(proc, "pid", None)
        self.start_seconds = 0.0
        self._dead = False

    @classmethod
    async def start(cls, cwd: str) -> KernelExecutor:
        from jupyter_client.manager import AsyncKernelManager

        began = time.monotonic()
        km = AsyncKernelManager(kernel_name="python3")
        # The kernel warns on stderr about unencrypted TCP on loopback: not useful here.
        await km.start_kernel(cwd=cwd, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=120)
        except BaseException:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        executor = cls(km, kc)
        executor.start_seconds = time.monotonic() - began
        return executor

    @property
    def alive(self) -> bool:
        return not self._dead

    async def _drain_iopub(self) -> None:
        """A front end reads iopub (outputs, status); so do we, and drop it."""
        while True:
            try:
                await self._kc.get_iopub_msg(timeout=3600)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._dead:
                    return
                await asyncio.sleep(0.01)

    async def execute(
        self,
        batch: list[dict[str, Any]],
        *,
        stop_on_error: bool,
        on_event: EventCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Send every chunk of `batch` as its own execute request, report per chunk."""
        async with self._lock:
            offset = time.time() - time.monotonic()
            ids: dict[str, int] = {}
            for chunk in batch:
                msg_id = self._kc.execute(
                    chunk["code"],
                    store_history=True,
                    allow_stdin=False,
                    stop_on_error=stop_on_error,
                )
                ids[msg_id] = int(chunk["id"])
            out: list[dict[str, Any]] = []
            while ids:
                reply = await self._kc.get_shell_msg(timeout=REPLY_TIMEOUT_S)
                received = time.monotonic()
                chunk_id = ids.pop(reply["parent_header"].get("msg_id"), None)
                if chunk_id is None:
                    continue
                content = reply["content"]
                status = content.get("status")
                if status == "aborted":
                    event: dict[str, Any] = {"ev": "skipped", "id": chunk_id}
                else:
                    t_start = _wall_to_mono(reply["metadata"].get("started"), offset) or received
                    t_end = _wall_to_mono(reply["header"].get("date"), offset) or received
                    t_end = min(max(t_end, t_start), received)
                    if on_event is not None:
                        on_event({"ev": "started", "id": chunk_id, "t": t_start})
                    error = None
                    if status != "ok":
                        error = {
                            "type": content.get("ename", "Error"),
                            "message": content.get("evalue", ""),
                            "line": None,
                            "traceback": "\n".join(content.get("traceback", [])),
                            "frames": [],
                        }
                    event = {
                        "ev": "result",
                        "id": chunk_id,
                        "ok": status == "ok",
                        "values": [],
                        "expr": None,
                        "stdout": "",
                        "stderr": "",
                        "error": error,
                        "t_start": t_start,
                        "t_end": t_end,
                    }
                out.append(event)
                if on_event is not None:
                    on_event(event)
            return out

    async def reset(self) -> None:
        """Fresh user namespace (IPython's %reset), like the worker's reset op."""
        async with self._lock:
            msg_id = self._kc.execute("%reset -f", silent=True, store_history=False)
            while True:
                reply = await self._kc.get_shell_msg(timeout=60)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return

    async def interrupt(self) -> str:
        await self._km.interrupt_kernel()
        return "interrupted"

    async def kill(self) -> None:
        await self.shutdown(now=True)

    async def shutdown(self, timeout: float = 1.0, *, now: bool = True) -> None:
        if self._dead:
            return
        self._dead = True
        self._iopub_task.cancel()
        with contextlib.suppress(BaseException):
            await self._iopub_task
        self._kc.stop_channels()
        with contextlib.suppress(Exception):
            await self._km.shutdown_kernel(now=now)


async def roundtrip(rounds: int = 100, cwd: str = ".") -> dict[str, Any]:
    """Per-chunk overhead of the kernel for `x = 1`, defined as in worker_roundtrip: parent
    round trip minus the kernel's own execution window, one per request and ten per batch."""
    kernel = await KernelExecutor.start(cwd)
    try:
        report: dict[str, Any] = {"start": {"median_ms": kernel.start_seconds * 1000}}
        for label, size, n in (("single", 1, rounds), ("batch10", 10, max(1, rounds // 10))):
            samples = []
            for r in range(n + 5):
                chunks = [{"id": i, "code": "x = 1\n"} for i in range(size)]
                began = time.monotonic()
                results = await kernel.execute(chunks, stop_on_error=True)
                elapsed = time.monotonic() - began
                executed = sum(e["t_end"] - e["t_start"] for e in results if e["ev"] == "result")
                if r >= 5:
                    samples.append((elapsed - executed) / size)
            ordered = sorted(samples)
            report[label] = {
                "median_ms": statistics.median(ordered) * 1000,
                "p90_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000,
            }
        return report
    finally:
        await kernel.shutdown()
