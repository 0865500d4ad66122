"""What the debugger costs executed code: a CPU-bound chunk, side by side in four workers.

- off: debugging not allowed (`--no-debug`, `debug.enabled: false`).
- default: the product's default settings: attaching allowed, nobody asked. debugpy is not
  imported, so this must cost nothing (goal: at most 1.05x of `off`).
- listening: someone asked (eager.debugAttachInfo, `--debug`): debugpy listens in-process
  and traces every thread, with no client yet.
- attached: a DAP client attached (initialize, attach, configurationDone), no breakpoints.

Times are the worker's own (t_end - t_start of the chunk), so the parent's overhead is not
in them. The workers take turns, one run each per round, so a noisy machine slows all four
alike; medians and minimums per worker are reported.

    python -m eager_lsp.bench.debug_cost [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
from typing import Any

from eager_lsp.core.executor import ChunkRequest
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions

CPU_CHUNK = (
    "def _bench_work(n):\n"
    "    s = 0\n"
    "    for i in range(n):\n"
    "        s += i * i % 7\n"
    "    return s\n"
    "_bench_total = sum(_bench_work(20000) for _ in range(50))\n"
)
CONFIGS = ("off", "default", "listening", "attached")


class _Dap:
    """Just enough of the Debug Adapter Protocol to attach (the reader drains events)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._seq = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            header = await self._reader.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await self._reader.readexactly(length))
            if message.get("type") == "response":
                waiter = self._waiting.pop(message["request_seq"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)

    def send(self, command: str, **arguments: Any) -> asyncio.Future[dict[str, Any]]:
        seq = next(self._seq)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = waiter
        body = json.dumps(
            {"seq": seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return waiter

    @classmethod
    async def attach(cls, port: int) -> _Dap:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        dap = cls(reader, writer)
        await asyncio.wait_for(dap.send("initialize", adapterID="python", clientID="bench"), 30)
        attached = dap.send("attach", justMyCode=False)
        await asyncio.wait_for(dap.send("configurationDone"), 30)
        await asyncio.wait_for(attached, 30)
        return dap

    async def close(self) -> None:
        self._task.cancel()
        self._writer.close()


async def _run_once(worker: WorkerClient, round_no: int) -> float:
    chunk: ChunkRequest = {
        "id": round_no,
        "code": CPU_CHUNK,
        "path": "/tmp/eager-lsp-bench-debug.py",
        "first_line": 1,
        "names": [],
        "trailing_expr": False,
        "image_dir": "",
    }
    [result] = await worker.execute([chunk], stop_on_error=True)
    if result["ev"] != "result" or not result["ok"]:
        raise RuntimeError(f"benchmark chunk failed: {result.get('error', 'skipped')}")
    return float(result["t_end"] - result["t_start"])


async def _measure(rounds: int, python: str | None) -> dict[str, Any]:
    workers: dict[str, WorkerClient] = {}
    dap: _Dap | None = None
    samples: dict[str, list[float]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as cwd:
        try:
            for name in CONFIGS:
                options = WorkerOptions(python=python, cwd=cwd, debug=name != "off")
                workers[name] = await WorkerClient.start(options)
            version = workers["off"].version
            await workers["listening"].debug_listen()
            dap = await _Dap.attach(await workers["attached"].debug_listen())
            for r in range(rounds + 1):
                for name in CONFIGS:
                    seconds = await _run_once(workers[name], r)
                    if r:  # round 0 warms up
                        samples[name].append(seconds)
        finally:
            if dap is not None:
                await dap.close()
            for worker in workers.values():
                await worker.shutdown()
    base_median = statistics.median(samples["off"])
    base_min = min(samples["off"])
    report: dict[str, Any] = {"python": version, "rounds": rounds, "configs": {}}
    for name in CONFIGS:
        median, low = statistics.median(samples[name]), min(samples[name])
        report["configs"][name] = {
            "median_s": round(median, 4),
            "min_s": round(low, 4),
            "x_off_median": round(median / base_median, 3),
            "x_off_min": round(low / base_min, 3),
        }
    return report


def measure(rounds: int = 15, python: str | None = None) -> dict[str, Any]:
    """{"python", "rounds", "configs": {name: {"median_s", "min_s", "x_off_median",
    "x_off_min"}}} for the names in CONFIGS."""
    return asyncio.run(_measure(rounds, python))


def format_table(report: dict[str, Any]) -> list[str]:
    lines = [f"debugger cost on a CPU-bound chunk (Python {report['python']}, worker time):"]
    for name, row in report["configs"].items():
        lines.append(
            f"  {name:<10} median {row['median_s']:.4f} s ({row['x_off_median']:.2f}x off)"
            f"  min {row['min_s']:.4f} s ({row['x_off_min']:.2f}x off)"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--python", help="interpreter for the workers (default: this one)")
    args = parser.parse_args(argv)
    print("\n".join(format_table(measure(args.rounds, args.python))))


if __name__ == "__main__":
    main()
