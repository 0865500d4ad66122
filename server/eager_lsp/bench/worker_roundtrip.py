"""Worker round-trip overhead: what running a trivial chunk costs beyond running it.

Eager's gain depends on per-chunk setup being small next to token generation (the paper
reports about 1 ms per call), so this measures, for `x = 1`: the parent-observed time per
chunk minus the worker-observed execution time, one chunk per request and ten per batch,
with debugging allowed (the default; nothing listens until asked) and off, plus the
worker start time three ways, interleaved so that machine load hits them alike: forked by the
interpreter's zygote that is already running (every start but an interpreter's first), the
first start (the zygote's own start, then the fork), and exec'd directly (`zygote=False`: how
every worker started before the zygote, and still does off Linux).

    python -m eager_lsp.bench.worker_roundtrip [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from typing import Any

from eager_lsp.core.executor import ChunkRequest
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from eager_lsp.executors.worker.launch import worker_env
from eager_lsp.executors.worker.spawn import close_zygotes


def _chunks(n: int, start_id: int) -> list[ChunkRequest]:
    return [
        {
            "id": start_id + i,
            "code": "x = 1\n",
            "path": "/tmp/eager-lsp-bench.py",
            "first_line": i + 1,
            "names": ["x"],
            "trailing_expr": False,
            "image_dir": "",
        }
        for i in range(n)
    ]


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p90_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000,
    }


async def _overheads(worker: WorkerClient, batch_size: int, rounds: int) -> list[float]:
    """Per-chunk overhead: (request round trip - sum of worker exec times) / batch size."""
    samples = []
    for r in range(rounds + 5):
        began = time.perf_counter()
        results = await worker.execute(_chunks(batch_size, r * batch_size), stop_on_error=True)
        elapsed = time.perf_counter() - began
        executed = sum(e["t_end"] - e["t_start"] for e in results if e["ev"] == "result")
        if r >= 5:  # warm-up
            samples.append((elapsed - executed) / batch_size)
    return samples


async def _start_time(options: WorkerOptions) -> float:
    began = time.perf_counter()
    worker = await WorkerClient.start(options)
    elapsed = time.perf_counter() - began
    await worker.shutdown()
    return elapsed


async def _measure(rounds: int, starts: int) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cwd:
        for debug in (False, True):
            label = "debug" if debug else "no_debug"
            times: dict[str, list[float]] = {"start": [], "start_first": [], "start_exec": []}
            await _start_time(WorkerOptions(debug=debug, cwd=cwd))  # its zygote is running
            for n in range(starts):
                # a fresh zygote of its own (a distinct environment), closed afterwards
                env = {**worker_env(None), "EAGER_BENCH_FIRST_START": f"{label}-{n}"}
                first = WorkerOptions(debug=debug, cwd=cwd, env=env)
                times["start_first"].append(await _start_time(first))
                close_zygotes(sys.executable, worker_env(env))
                times["start"].append(await _start_time(WorkerOptions(debug=debug, cwd=cwd)))
                direct = WorkerOptions(debug=debug, cwd=cwd, zygote=False)
                times["start_exec"].append(await _start_time(direct))
            worker = await WorkerClient.start(WorkerOptions(debug=debug, cwd=cwd))
            try:
                report[label] = {name: _stats(samples) for name, samples in times.items()}
                report[label]["single"] = _stats(await _overheads(worker, 1, rounds))
                report[label]["batch10"] = _stats(
                    await _overheads(worker, 10, max(1, rounds // 10))
                )
            finally:
                await worker.shutdown()
    return report


def measure(rounds: int = 300, starts: int = 3) -> dict[str, Any]:
    """{"no_debug"|"debug": {"start"|"start_first"|"start_exec"|"single"|"batch10":
    {"median_ms", "p90_ms"}}}; single and batch10 are per-chunk overheads, the starts are
    spawn-to-ready (forked by a running zygote, an interpreter's first, exec'd)."""
    return asyncio.run(_measure(rounds, starts))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args(argv)
    report = measure(args.rounds, args.starts)
    print(f"{'mode':<10} {'what':<28} {'median ms':>10} {'p90 ms':>10}")
    rows = (
        ("start", "start, zygote running"),
        ("start_first", "start, first (zygote+fork)"),
        ("start_exec", "start, exec'd (no zygote)"),
        ("single", "overhead/chunk, 1 per request"),
        ("batch10", "overhead/chunk, 10 per batch"),
    )
    for mode, parts in report.items():
        for key, label in rows:
            s = parts[key]
            print(f"{mode:<10} {label:<28} {s['median_ms']:>10.3f} {s['p90_ms']:>10.3f}")


if __name__ == "__main__":
    main()
