"""The execution modes compared by the benchmark, and one measured run of any of them.

Every mode goes through the product's own `Interpreter` (detector → gate → run); modes
differ only in the gate and in the executor behind it, so a difference in the numbers is a
difference in the pipeline, not in how the harness drives it:

- serial: the whole text first, then a *fresh* interpreter (started only when the first
  batch needs it, so its start-up counts) runs everything: `python script.py` after the model.
- serial-warm: the same, in an interpreter that was already running.
- eager-safe / eager-eager: our pipeline with gate `safe` / `eager`, interpreter started.
- jupyter: an ipykernel through the product's kernel backend (executors/kernel.py) behind
  the same run with gate `eager` (chunks go as they complete), as most "run the
  model's code" tools do.
- eager-parallel: gate `parallel` (independent statements overlap on worker threads);
  measured with `--modes`, and side by side with eager-eager in `parallel_cost`.
- eager-safe-debug: eager-safe with debugging allowed, the product's default setting
  (debugpy starts only when someone asks to attach, so nothing listens here).

Serial modes do not stream: their generation time is computed exactly from the token rate
(replay) or measured once per pair (the local model), then the text is fed at once and only
what happens after the last token is timed. Times in a record are seconds from the stream's
start on that (virtual, for serial modes) time axis.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import resource
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eager_lsp.core.executor import Executor, ExecutorSource
from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, StreamFailed
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import Chunk, ChunkResult, failure_text
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from eager_lsp.providers.replay import CHARS_PER_TOKEN, ReplayStream


@dataclass(frozen=True)
class Mode:
    name: str
    gate: str  # "serial" | "safe" | "eager" | "parallel"
    backend: str  # "fresh" (a new worker per run) | "worker" | "worker-debug" | "kernel"

    @property
    def streams(self) -> bool:
        return self.gate != "serial"


SERIAL = Mode("serial", "serial", "fresh")
SERIAL_WARM = Mode("serial-warm", "serial", "worker")
EAGER_SAFE = Mode("eager-safe", "safe", "worker")
EAGER_EAGER = Mode("eager-eager", "eager", "worker")
JUPYTER = Mode("jupyter", "eager", "kernel")
EAGER_SAFE_DEBUG = Mode("eager-safe-debug", "safe", "worker-debug")
EAGER_PARALLEL = Mode("eager-parallel", "parallel", "worker")  # opt-in: --modes
ALL_MODES = (
    SERIAL,
    SERIAL_WARM,
    EAGER_SAFE,
    EAGER_EAGER,
    JUPYTER,
    EAGER_SAFE_DEBUG,
    EAGER_PARALLEL,
)
PIPELINED = ("eager-safe", "eager-eager", "jupyter", "eager-safe-debug", "eager-parallel")


class FreshPool:
    """For `serial`: every acquire spawns a new interpreter, with no spare started ahead."""

    def __init__(self, options: WorkerOptions) -> None:
        self._options = options
        self.handed: list[WorkerClient] = []

    async def acquire(self) -> WorkerClient:
        worker = await WorkerClient.start(self._options)
        self.handed.append(worker)
        return worker

    async def close(self) -> None:
        for worker in self.handed:
            with contextlib.suppress(Exception):
                await worker.shutdown()


class FixedPool:
    """For warm modes: one started executor reused across runs (reset in between), and a
    replacement only if a run lost it."""

    def __init__(self, start: Callable[[], Awaitable[Executor]]) -> None:
        self._start = start
        self.current: Executor | None = None
        self.peak_kb: int | None = None  # VmHWM of executors already replaced

    async def acquire(self) -> Executor:
        if self.current is None or not self.current.alive:
            if self.current is not None:
                self.peak_kb = max(self.peak_kb or 0, vm_hwm_kb(self.current.pid) or 0) or None
            self.current = await self._start()
        return self.current

    async def reset(self) -> Executor:
        executor = await self.acquire()
        try:
            await executor.reset()
        except Exception:
            with contextlib.suppress(Exception):
                await executor.kill()
            executor = await self.acquire()
        return executor

    def peak(self) -> int | None:
        now = vm_hwm_kb(self.current.pid) if self.current is not None else None
        values = [v for v in (now, self.peak_kb) if v]
        return max(values) if values else None

    async def close(self) -> None:
        if self.current is not None:
            with contextlib.suppress(Exception):
                await self.current.shutdown()
            self.current = None


def vm_hwm_kb(pid: int | None) -> int | None:
    """Peak resident set size of a live process (Linux), in KiB."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def server_maxrss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# -- sources ---------------------------------------------------------------------------------


@dataclass
class Generated:
    """A finished generation (for serial modes): its text and when each piece arrived."""

    text: str
    seconds: float  # stream start to last piece
    arrivals: list[tuple[int, float]]  # (characters so far, seconds from start)
    usage: dict[str, Any] | None = None
    computed: bool = False  # from the token rate, not measured

    @classmethod
    def from_rate(cls, text: str, rate: float) -> Generated:
        cps = rate * CHARS_PER_TOKEN
        return cls(text, len(text) / cps, [(len(text), len(text) / cps)], computed=True)

    def arrival(self, offset: int) -> float:
        """Seconds from the start at which character `offset` had arrived."""
        if self.computed:
            return min(offset, len(self.text)) / len(self.text) * self.seconds if self.text else 0.0
        i = bisect.bisect_left(self.arrivals, (offset, -1.0))
        return self.arrivals[min(i, len(self.arrivals) - 1)][1] if self.arrivals else 0.0


class CountingSource:
    """Wraps a text stream to count what the consumer took (tokens generated)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.chars = 0
        self.pieces: list[tuple[int, float]] = []
        self.text_parts: list[str] = []

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        async for piece in self.inner:
            self.chars += len(piece)
            self.text_parts.append(piece)
            self.pieces.append((self.chars, time.monotonic()))
            yield piece

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    @property
    def usage(self) -> dict[str, Any] | None:
        return getattr(self.inner, "usage", None)


# -- one run ---------------------------------------------------------------------------------


@dataclass
class RunContext:
    path: str  # the document path given to the Interpreter (the script is written there)
    cwd: str
    worker: FixedPool
    worker_debug: FixedPool | None
    kernel: FixedPool | None


async def run_mode(
    mode: Mode,
    ctx: RunContext,
    *,
    text: str | None,
    rate: float | None,
    open_source: Callable[[], Any] | None = None,
    generated: Generated | None = None,
    timeout_s: float = 120.0,
) -> dict[str, Any]:
    """One run of `mode`; returns its record (see module doc for the time axis).

    Streaming modes replay `text` at `rate`, or consume `open_source()` (the model).
    Serial modes need `generated` (the finished generation). A run still going after
    `timeout_s` (model-written code can be very slow) is stopped and interrupted, and its
    record says `timed_out`.
    """
    gate = GatePolicy.from_settings(mode.gate)
    config = InterpreterConfig(
        path=ctx.path, cwd=ctx.cwd, debug=mode.backend == "worker-debug", gate=gate
    )
    fresh: FreshPool | None = None
    pool: ExecutorSource | None
    if mode.backend == "fresh":
        fresh = FreshPool(WorkerOptions(cwd=ctx.cwd, debug=False))
        pool = fresh
    elif mode.backend == "kernel":
        pool = ctx.kernel
    elif mode.backend == "worker-debug":
        pool = ctx.worker_debug
    else:
        pool = ctx.worker
    if pool is None:
        raise RuntimeError(f"no executor for mode {mode.name}")
    interpreter = Interpreter(config, pool)
    if isinstance(pool, FixedPool):
        await pool.reset()
        await interpreter.start()

    if mode.streams:
        if open_source is not None:
            source = CountingSource(open_source())
        else:
            assert text is not None
            source = CountingSource(ReplayStream(text, rate=rate))
    else:
        assert generated is not None
        source = CountingSource(ReplayStream(generated.text, rate=None))

    stream_error: str | None = None
    timed_out = False

    async def watchdog() -> None:
        nonlocal timed_out
        await asyncio.sleep(timeout_s)
        timed_out = True
        if interpreter.run is not None:
            interpreter.run.request_stop(f"benchmark timeout after {timeout_s:g} s")
        await interpreter.interrupt()

    guard = asyncio.ensure_future(watchdog())
    try:
        report = await interpreter.run_stream(source)
    except StreamFailed as exc:
        report = exc.report
        stream_error = f"{type(exc.cause).__name__}: {exc.cause}"
    finally:
        guard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await guard
    pid = interpreter.pid
    interp_kb = vm_hwm_kb(pid) if fresh is not None else None
    if fresh is not None:
        await interpreter.close()
        await fresh.close()

    if mode.streams:
        t0 = report.started_at
        if open_source is None and rate:
            cps = rate * CHARS_PER_TOKEN

            def generated_at(offset: int) -> float:
                return offset / cps  # when the replay was due to have produced it

        else:
            seen = Generated("", 0.0, [(c, t - t0) for c, t in source.pieces])
            generated_at = seen.arrival
        record = _record(
            report,
            at=lambda t: t - t0,
            released=lambda chunk: chunk.released_at - t0,
            generated_at=generated_at,
            chars_generated=source.chars,
        )
        if open_source is not None:  # the model: its full length is known from the pair's
            record["text"] = "".join(source.text_parts)  # serial generation (harness)
            record["usage"] = source.usage
            record["chars_total"] = source.chars
        else:
            record["chars_total"] = len(text or "")
    else:
        assert generated is not None
        # Fed at once: put everything after the last token at the generation time, and
        # each release where its last character would have arrived.
        end = report.end_at if report.end_at is not None else report.started_at
        gen = generated.seconds
        record = _record(
            report,
            at=lambda t: gen + max(0.0, t - end),
            released=lambda chunk: generated.arrival(chunk.released_offset),
            generated_at=generated.arrival,
            chars_generated=len(generated.text),
        )
        record["first_token_s"] = round(generated.arrival(1), 6)
        record["serial_generation"] = "computed" if generated.computed else "measured"
        record["chars_total"] = len(generated.text)
    record["stream_error"] = stream_error
    record["timed_out"] = timed_out
    record["mode"] = mode.name
    record["pid"] = pid
    record["interp_peak_kb"] = interp_kb
    record["server_maxrss_kb"] = server_maxrss_kb()
    total = record["chars_total"]
    record["tokens_total"] = round(total / CHARS_PER_TOKEN, 1)
    record["tokens_generated"] = round(record["chars_generated"] / CHARS_PER_TOKEN, 1)
    record["tokens_saved"] = round(max(0, total - record["chars_generated"]) / CHARS_PER_TOKEN, 1)
    return record


def _record(
    report: RunReport,
    *,
    at: Callable[[float], float],
    released: Callable[[Chunk], float],
    generated_at: Callable[[int], float],
    chars_generated: int,
) -> dict[str, Any]:
    """Metrics of one run on its time axis: `at` maps a monotonic time onto it, `released`
    gives a chunk's release time, `generated_at(k)` when the first k characters existed."""
    by_index = {r.chunk.index: r for r in report.results}
    dispatches = [e for e in report.events if e.kind == "dispatch"]
    chunks = []
    executed: list[tuple[float, float]] = []  # (release, exec duration) for the bound
    executed_gen: list[tuple[float, float]] = []  # (text generated, exec duration)
    delays: list[float] = []  # detection delay: text generated → chunk released
    overhead_in: list[float] = []
    overhead_out: list[float] = []
    release_to_result: list[float] = []
    waits: list[float] = []
    prev_end_in_batch: dict[float, float] = {}
    failed: ChunkResult | None = None
    for chunk in report.chunks:
        r = by_index.get(chunk.index)
        rel = released(chunk)
        gen_t = generated_at(chunk.released_offset)
        delays.append(max(0.0, rel - gen_t))
        row: dict[str, Any] = {
            "i": chunk.index,
            "lines": [chunk.start_line, chunk.end_line],
            "kind": chunk.kind,
            "released_s": round(rel, 6),
            "ok": bool(r is not None and r.ok),
            "skipped": r is None or r.skipped,
        }
        if r is not None and not r.skipped:
            row.update(
                dispatched_s=round(at(r.dispatched_at), 6),
                exec_start_s=round(at(r.exec_start), 6),
                exec_end_s=round(at(r.exec_end), 6),
                result_s=round(at(r.result_at), 6),
            )
            duration = max(0.0, r.exec_end - r.exec_start)
            executed.append((rel, duration))
            executed_gen.append((gen_t, duration))
            # Overhead in: from when the executor could take this chunk (dispatch, or the
            # previous chunk of the same batch finishing) to its execution start.
            ready = max(r.dispatched_at, prev_end_in_batch.get(r.dispatched_at, r.dispatched_at))
            overhead_in.append(max(0.0, r.exec_start - ready))
            overhead_out.append(max(0.0, r.result_at - r.exec_end))
            prev_end_in_batch[r.dispatched_at] = r.exec_end
            release_to_result.append(at(r.result_at) - rel - duration)
            waits.append(max(0.0, at(r.dispatched_at) - rel))
            if not r.ok and failed is None:
                failed = r
                row["error"] = _error_text(r)
        chunks.append(row)
    results_at = [at(r.result_at) for r in report.results if not r.skipped and r.result_at]
    last_token = at(report.last_piece_at) if report.last_piece_at is not None else None
    last_result = max(results_at) if results_at else None
    e2e = at(report.done_at)
    record: dict[str, Any] = {
        "e2e_s": round(e2e, 6),
        "first_token_s": _r(at(report.first_piece_at) if report.first_piece_at else None),
        "last_token_s": _r(last_token),
        "last_result_s": _r(last_result),
        "non_overlapped_s": _r(
            None
            if last_result is None or last_token is None
            else max(0.0, last_result - last_token)
        ),
        "exec_total_s": round(sum(d for _, d in executed), 6),
        "bound_s": _r(lower_bound(executed)),
        "bound_gen_s": _r(lower_bound(executed_gen)),
        "detect_delay_ms": _median_ms(delays),
        "detect_delay_max_ms": round(max(delays) * 1000, 3) if delays else None,
        "chunks_n": len(report.chunks),
        "executed_n": len(executed),
        "skipped_n": sum(1 for c in chunks if c["skipped"]),
        "batches_n": len(dispatches),
        "gate_fallback": report.gate_fallback,
        "stopped_early": report.stopped_early,
        "stop_reason": report.stop_reason,
        "syntax_error": None if report.syntax_error is None else report.syntax_error.message,
        "error": _error_text(failed) if failed else None,
        "error_line": failed.error.line if failed and failed.error else None,
        "time_to_error_s": _r(at(failed.result_at) if failed else None),
        "chars_generated": chars_generated,
        "overhead_in_ms": _median_ms(overhead_in),
        "overhead_out_ms": _median_ms(overhead_out),
        "overhead_ms": _median_ms([a + b for a, b in zip(overhead_in, overhead_out, strict=True)]),
        "release_to_result_ms": _median_ms(release_to_result),
        "release_to_dispatch_ms": _median_ms(waits),
        "chunks": chunks,
    }
    return record


def lower_bound(executed: list[tuple[float, float]]) -> float | None:
    """Eager's zero-overhead bound: max over i of (release_i + sum of T_exe,j for j >= i)."""
    if not executed:
        return None
    best = 0.0
    tail = 0.0
    for release, duration in reversed(executed):
        tail += duration
        best = max(best, release + tail)
    return best


def _error_text(r: ChunkResult) -> str | None:
    text = failure_text(r)
    return None if text is None else text[:200]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _median_ms(values: list[float]) -> float | None:
    return round(statistics.median(values) * 1000, 3) if values else None
