"""Per-chunk overhead of the product's Jupyter kernel backend (executors/kernel.py) for `x = 1`,
defined as in worker_roundtrip: the parent's round trip minus the kernel's own execution
window, one chunk per request and ten per batch."""

from __future__ import annotations

import statistics
import time
from typing import Any

from eager_lsp.core.executor import ChunkRequest
from eager_lsp.executors.kernel import KernelExecutor
from eager_lsp.executors.worker.launch import worker_env


async def start_kernel(cwd: str) -> KernelExecutor:
    """A local python3 kernel started the way the product starts one."""
    return await KernelExecutor.start_local(
        "python3", cwd=cwd, env=worker_env(None), interrupt_grace_s=2.0
    )


def _chunk(i: int) -> ChunkRequest:
    return {
        "id": i,
        "code": "x = 1\n",
        "path": "<roundtrip>",
        "first_line": 1,
        "names": [],
        "trailing_expr": False,
        "image_dir": "",
    }


async def roundtrip(rounds: int = 100, cwd: str = ".") -> dict[str, Any]:
    kernel = await start_kernel(cwd)
    try:
        report: dict[str, Any] = {"start": {"median_ms": kernel.start_seconds * 1000}}
        for label, size, n in (("single", 1, rounds), ("batch10", 10, max(1, rounds // 10))):
            samples = []
            for r in range(n + 5):
                chunks = [_chunk(i) for i in range(size)]
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
