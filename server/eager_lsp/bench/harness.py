"""`eager-lsp bench [--quick] [--out DIR]`: how much latency the pipeline hides.

For each workload, token rate and repetition, every mode runs back to back on the same text
(modes.py), in a rotated order so slow drift of a shared machine does not favour one mode.
Executors are started once per workload and reset between runs. Afterwards each pipelined
run is read against its own pair (same workload, rate and repetition): efficiency against
serial and serial-warm, the zero-overhead bound from its own release and execution times.
Everything goes to DIR/results.json; a table of medians (min–max) is printed and written
next to it, and the plots are drawn from the same file.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eager_lsp.bench import catalog as catalog_mod
from eager_lsp.bench import modes as M
from eager_lsp.bench import report
from eager_lsp.bench.catalog import Prompt, Workload
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from eager_lsp.providers.replay import CHARS_PER_TOKEN

SCHEMA_VERSION = 1
# Code the model writes may run for ages (naive recursion): such a run is stopped here.
MODEL_RUN_TIMEOUT_S = 30.0


@dataclass
class Plan:
    quick: bool
    main_rate: float
    sweep_rates: list[float]
    reps: int
    sweep_reps: int
    modes: list[str]
    sweep_modes: list[str]  # at the sweep rates (the Jupyter kernel only at the main rate)
    model_modes: list[str]
    debug_workloads: list[str]  # eager-safe-debug runs on these, at the main rate
    model: bool
    model_reps: int
    model_max_tokens: int
    detector_lines: list[int]
    roundtrip_rounds: int
    debug_cost_rounds: int  # CPU-bound chunk, debugger off / default / listening / attached
    parallel_cost_rounds: int  # gate parallel vs eager (parallel_cost); 0: not measured
    memory_pass: bool
    notes: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)  # workload names; empty: all
    command: str = "eager-lsp bench"

    def focus(
        self,
        workloads: list[str] | None,
        modes: list[str] | None = None,
        rate: float | None = None,
        reps: int | None = None,
    ) -> Plan:
        """A part of the run, for measuring one change: these workloads (no model, no token
        rate sweep, no memory pass), these modes, this rate, this many repetitions."""
        if workloads:
            self.only = list(workloads)
            self.model = False
            self.sweep_rates = []
            self.memory_pass = False
            self.debug_workloads = [w for w in self.debug_workloads if w in workloads]
            self.detector_lines = [100]
            self.roundtrip_rounds = 20
            self.parallel_cost_rounds = 0
            self.command += "".join(f" --workload {w}" for w in workloads)
        if modes:
            self.modes = [m for m in self.modes if m in modes]
            self.sweep_modes = [m for m in self.sweep_modes if m in modes]
            self.model_modes = [m for m in self.model_modes if m in modes]
            self.command += " --modes " + ",".join(modes)
        if rate is not None:
            self.main_rate = rate
            self.command += f" --rate {rate:g}"
        if reps is not None:
            self.reps = reps
            self.command += f" --reps {reps}"
        return self

    @classmethod
    def for_run(cls, quick: bool) -> Plan:
        base = ["serial", "serial-warm", "eager-safe", "eager-eager", "jupyter"]
        if quick:
            return cls(
                quick=True,
                main_rate=100.0,
                sweep_rates=[200.0],
                reps=1,
                sweep_reps=1,
                modes=base,
                sweep_modes=base,
                model_modes=base,
                debug_workloads=[],
                model=False,
                model_reps=0,
                model_max_tokens=0,
                detector_lines=[100, 1000],
                roundtrip_rounds=40,
                debug_cost_rounds=3,
                parallel_cost_rounds=0,
                memory_pass=True,
            )
        return cls(
            quick=False,
            main_rate=50.0,
            sweep_rates=[20.0, 100.0, 200.0],
            reps=3,
            sweep_reps=2,
            modes=base,
            sweep_modes=base[:4],
            model_modes=base[:4],
            debug_workloads=["gen-stats", "bal-dp", "data-pandas"],
            model=True,
            model_reps=2,
            model_max_tokens=400,
            detector_lines=[500, 5000],
            roundtrip_rounds=300,
            debug_cost_rounds=15,
            parallel_cost_rounds=3,
            memory_pass=True,
        )


def bench_main(
    quick: bool,
    out: Path,
    workloads: list[str] | None = None,
    modes: list[str] | None = None,
    rate: float | None = None,
    reps: int | None = None,
) -> int:
    """Run the benchmark, write DIR/results.json, the tables and the plots; print the table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = Plan.for_run(quick)
    if quick:
        plan.command += " --quick"
    plan.focus(workloads, modes, rate, reps)
    began = time.monotonic()
    results = asyncio.run(run_bench(plan, out))
    results["meta"]["duration_s"] = round(time.monotonic() - began, 1)
    report.finish(results)
    try:
        from eager_lsp.bench import plots

        results["plots"] = plots.draw_all(results, out)
    except ImportError as exc:
        results["plots"] = []
        results["meta"]["notes"].append(f"no plots: {exc.name} is not installed")
    results["meta"]["duration_s"] = round(time.monotonic() - began, 1)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    with contextlib.suppress(FileNotFoundError):
        (out / "results.partial.json").unlink()
    text = report.text_tables(results)
    (out / "table.txt").write_text(text, encoding="utf-8")
    (out / "tables.md").write_text(report.markdown(results), encoding="utf-8")
    print(text)
    print(f"wrote {out / 'results.json'} and {len(results['plots'])} plots in {out}")
    return 0


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def _loadavg() -> list[float] | None:
    """The machine is shared: a busy neighbour shows up here, and in the spread of runs."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_bench(plan: Plan, out: Path) -> dict[str, Any]:
    cat = catalog_mod.load(quick=plan.quick and not plan.only)
    if plan.only:
        unknown = set(plan.only) - {w.name for w in cat.workloads}
        for s in cat.skipped:  # (a name here, but its modules are not installed)
            if s["name"] in unknown:
                raise SystemExit(f"eager-lsp bench: workload {s['name']}: {s['reason']}")
        if unknown:
            raise SystemExit(
                f"eager-lsp bench: no such workload: {', '.join(sorted(unknown))}"
                f" (choose from {', '.join(catalog_mod.names())})"
            )
        cat.workloads = [w for w in cat.workloads if w.name in plan.only]
    notes = list(plan.notes)
    for s in cat.skipped:
        notes.append(f"workload {s['name']} skipped: {s['reason']}")
    from eager_lsp.executors import kernel as kernel_backend

    kernel_missing = kernel_backend.available()
    modes = [m for m in M.ALL_MODES if m.name in plan.modes]
    if kernel_missing:
        notes.append(f"jupyter mode skipped: {kernel_missing}")
        modes = [m for m in modes if m.backend != "kernel"]
    notes.append(
        "serial and serial-warm do not stream: their generation time is computed from the "
        "token rate (characters / (4 × rate)); the text is then fed at once and only what "
        "follows the last token is measured"
    )
    results: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "meta": {
            "command": plan.command,
            "machine": machine(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadavg_start": _loadavg(),
            "plan": asdict(plan),
            "chars_per_token": CHARS_PER_TOKEN,
            "notes": notes,
        },
        "workloads": [
            {
                "name": w.name,
                "regime": w.regime,
                "origin": w.origin,
                "expects_error": w.expects_error,
                "requires": list(w.requires),
                "chars": w.chars,
                "tokens": round(w.chars / CHARS_PER_TOKEN, 1),
            }
            for w in cat.workloads
        ],
        "runs": [],
        "memory": {},
    }
    _log(f"eager-lsp bench: {len(cat.workloads)} workloads, modes {[m.name for m in modes]}")
    results["detector"] = measure_detector(plan, cat.workloads)
    results["roundtrip"] = await measure_roundtrip(plan, notes, kernel_missing is None)
    results["debug_cost"] = await measure_debug_cost(plan, notes)
    results["parallel_cost"] = await measure_parallel_cost(plan.parallel_cost_rounds, notes)

    with tempfile.TemporaryDirectory(prefix="eager-bench-") as cwd:
        total = sum(len(_rates(plan, w)) for w in cat.workloads)
        done = 0
        for w in cat.workloads:
            try:
                runs, memory = await bench_workload(plan, w, modes, cwd)
            except Exception as exc:  # one broken workload must not lose the others
                notes.append(f"workload {w.name} failed: {type(exc).__name__}: {exc}")
                _log(f"  {w.name} FAILED: {exc!r}")
                continue
            results["runs"].extend(runs)
            results["memory"][w.name] = memory
            done += len(_rates(plan, w))
            # Partial results survive a crash or an interrupted long run.
            (out / "results.partial.json").write_text(json.dumps(results), encoding="utf-8")
            _log(f"  [{done}/{total} workload-rates] {w.name} done")
        if plan.model:
            model_modes = [m for m in modes if m.name in plan.model_modes]
            results["runs"].extend(await bench_model(plan, cat.prompts, model_modes, cwd, notes))
    results["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["meta"]["loadavg_end"] = _loadavg()
    return results


def _rates(plan: Plan, w: Workload) -> list[tuple[float, int]]:
    rates = [(plan.main_rate, plan.reps)]
    if w.sweep:
        rates += [(r, plan.sweep_reps) for r in plan.sweep_rates if r != plan.main_rate]
    return sorted(rates)


def _rotated(modes: list[M.Mode], rep: int) -> list[M.Mode]:
    k = rep % len(modes)
    return modes[k:] + modes[:k]


async def _pools(plan: Plan, w: Workload, modes: list[M.Mode], cwd: str) -> M.RunContext:
    from eager_lsp.bench.kernel_roundtrip import start_kernel

    path = os.path.join(cwd, f"{w.name}.py")
    Path(path).write_text(w.text, encoding="utf-8")
    names = {m.backend for m in modes}
    worker = M.FixedPool(lambda: WorkerClient.start(WorkerOptions(cwd=cwd, debug=False)))
    debug = None
    if w.name in plan.debug_workloads:
        debug = M.FixedPool(lambda: WorkerClient.start(WorkerOptions(cwd=cwd, debug=True)))
    kernel = M.FixedPool(lambda: start_kernel(cwd)) if "kernel" in names else None
    for pool in (worker, debug, kernel):
        if pool is not None:
            await pool.acquire()
    return M.RunContext(path=path, cwd=cwd, worker=worker, worker_debug=debug, kernel=kernel)


async def bench_workload(
    plan: Plan, w: Workload, modes: list[M.Mode], cwd: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every rate × repetition × mode for one workload, executors started once."""
    ctx = await _pools(plan, w, modes, cwd)
    runs: list[dict[str, Any]] = []
    try:
        for rate, reps in _rates(plan, w):
            for rep in range(reps):
                mode_list = list(modes)
                if rate != plan.main_rate:
                    mode_list = [m for m in modes if m.name in plan.sweep_modes]
                if ctx.worker_debug is not None and rate == plan.main_rate:
                    mode_list.append(M.EAGER_SAFE_DEBUG)
                generated = M.Generated.from_rate(w.text, rate)
                for mode in _rotated(mode_list, rep):
                    record = await M.run_mode(
                        mode, ctx, text=w.text, rate=rate, generated=generated
                    )
                    record.update(
                        workload=w.name, regime=w.regime, source="replay", rate=rate, rep=rep
                    )
                    runs.append(record)
                    _log(
                        f"    {w.name:<15} {rate:>5g} tok/s rep {rep} {mode.name:<16} "
                        f"e2e {record['e2e_s']:7.2f} s  bound {record['bound_s'] or 0:7.2f} s"
                    )
        memory: dict[str, Any] = {}
        if plan.memory_pass:
            memory.update(await _tracemalloc_pass(plan, w, ctx))
        memory["worker_vmhwm_kb"] = ctx.worker.peak()
        if ctx.kernel is not None:
            memory["kernel_vmhwm_kb"] = ctx.kernel.peak()
        if ctx.worker_debug is not None:
            memory["worker_debug_vmhwm_kb"] = ctx.worker_debug.peak()
        cold = [r["interp_peak_kb"] for r in runs if r["mode"] == "serial" and r["interp_peak_kb"]]
        memory["serial_worker_vmhwm_kb"] = max(cold) if cold else None
        memory["server_maxrss_kb"] = M.server_maxrss_kb()
        return runs, memory
    finally:
        for pool in (ctx.worker, ctx.worker_debug, ctx.kernel):
            if pool is not None:
                await pool.close()


async def _tracemalloc_pass(plan: Plan, w: Workload, ctx: M.RunContext) -> dict[str, Any]:
    """Python-heap peak of this process over one eager-safe run (timings discarded:
    tracemalloc slows allocation-heavy code such as the detector)."""
    rate = max([plan.main_rate, *plan.sweep_rates])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await M.run_mode(M.EAGER_SAFE, ctx, text=w.text, rate=rate)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"server_tracemalloc_peak_kb": round(peak / 1024, 1), "tracemalloc_rate": rate}


def measure_detector(plan: Plan, workloads: list[Workload]) -> dict[str, Any]:
    """Detector CPU per token: per workload (4-character pieces, as replayed) and, via the
    colleagues' detector_cost, for a short and a long generated file."""
    from eager_lsp.core.detector import BoundaryDetector

    per_workload = {}
    for w in workloads:
        best = float("inf")
        pieces = [w.text[i : i + CHARS_PER_TOKEN] for i in range(0, len(w.text), CHARS_PER_TOKEN)]
        for _ in range(3):
            detector = BoundaryDetector()
            start = time.process_time()
            for p in pieces:
                detector.feed(p)
            detector.end()
            best = min(best, time.process_time() - start)
        per_workload[w.name] = {
            "tokens": len(pieces),
            "cpu_s": round(best, 6),
            "us_per_token": round(best / max(1, len(pieces)) * 1e6, 2),
        }
    out: dict[str, Any] = {"per_workload": per_workload, "by_length": []}
    try:
        from eager_lsp.bench import detector_cost
    except ImportError as exc:
        out["note"] = f"detector_cost unavailable: {exc}"
        return out
    for lines in plan.detector_lines:
        _log(f"  detector cost, {lines} lines …")
        out["by_length"].append(detector_cost.measure(lines, CHARS_PER_TOKEN))
    return out


async def measure_roundtrip(plan: Plan, notes: list[str], kernel: bool) -> dict[str, Any]:
    """Per-chunk overhead of a trivial chunk: our worker (worker_roundtrip) and the kernel."""
    out: dict[str, Any] = {}
    _log("  round trips …")
    try:
        from eager_lsp.bench import worker_roundtrip

        starts = 1 if plan.quick else 3
        out["worker"] = await asyncio.to_thread(
            worker_roundtrip.measure, plan.roundtrip_rounds, starts
        )
    except ImportError as exc:
        notes.append(f"worker round trip not measured: {exc}")
    if kernel:
        from eager_lsp.bench.kernel_roundtrip import roundtrip

        with tempfile.TemporaryDirectory() as cwd:
            out["kernel"] = await roundtrip(plan.roundtrip_rounds, cwd)
    return out


async def measure_debug_cost(plan: Plan, notes: list[str]) -> dict[str, Any]:
    """Executed code's time with the debugger off, at the default settings, listening and
    attached (debug_cost), side by side."""
    _log("  debugger cost …")
    try:
        from eager_lsp.bench import debug_cost

        return await asyncio.to_thread(debug_cost.measure, plan.debug_cost_rounds)
    except Exception as exc:  # e.g. debugpy missing: the rest of the bench still counts
        notes.append(f"debugger cost not measured: {type(exc).__name__}: {exc}")
        return {}


async def measure_parallel_cost(rounds: int, notes: list[str]) -> dict[str, Any]:
    """Gate `parallel` against gate `eager`, side by side (parallel_cost)."""
    if rounds <= 0:
        return {}
    _log("  parallel gate vs eager …")
    try:
        from eager_lsp.bench import parallel_cost

        return await asyncio.to_thread(parallel_cost.measure, rounds)
    except Exception as exc:
        notes.append(f"parallel gate not measured: {type(exc).__name__}: {exc}")
        return {}


# -- the real local model ----------------------------------------------------------------------


def local_model_missing() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "the `local` extra is not installed (pip install 'eager-lsp[local]')"
    if importlib.util.find_spec("eager_lsp.providers.local_model") is None:
        return "eager_lsp.providers.local_model is not available"
    return None


async def bench_model(
    plan: Plan, prompts: list[Prompt], modes: list[M.Mode], cwd: str, notes: list[str]
) -> list[dict[str, Any]]:
    """The bundled model generating through the product's provider code, at its own speed.

    Per pair: one generation for the serial modes (measured), then each streaming mode with
    a generation of its own; at temperature 0 the texts should match (recorded per run).
    """
    missing = local_model_missing()
    if missing:
        notes.append(f"local-model source skipped: {missing}")
        return []
    from eager_lsp.providers import LLMConfig, open_stream
    from eager_lsp.providers.prompts import generation_messages

    config = LLMConfig(provider="local", temperature=0.0, max_tokens=plan.model_max_tokens)

    def opener(prompt: str) -> Callable[[], Any]:
        messages = generation_messages(prompt, "", "")
        return lambda: open_stream(config, messages)

    _log("  local model: starting and warming up …")
    try:
        await _consume(opener("Print the number 1.")())
    except Exception as exc:
        notes.append(f"local-model source skipped: it failed to start: {exc}")
        return []
    runs: list[dict[str, Any]] = []
    for p in prompts:
        try:
            runs.extend(await _bench_prompt(plan, p, modes, cwd, opener))
        except Exception as exc:
            notes.append(f"local model, {p.name} failed: {type(exc).__name__}: {exc}")
            _log(f"  {p.name} FAILED: {exc!r}")
    return runs


async def _bench_prompt(
    plan: Plan,
    p: Prompt,
    modes: list[M.Mode],
    cwd: str,
    opener: Callable[[str], Callable[[], Any]],
) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    w = Workload(name=p.name, regime=p.regime, text="", origin="local model")
    ctx = await _pools(plan, w, modes, cwd)
    try:
        for rep in range(plan.model_reps):
            gen = await _generate(opener(p.prompt)())
            for mode in _rotated(list(modes), rep):
                if mode.streams:
                    record = await M.run_mode(
                        mode,
                        ctx,
                        text=None,
                        rate=None,
                        open_source=opener(p.prompt),
                        timeout_s=MODEL_RUN_TIMEOUT_S,
                    )
                    record["chars_total"] = max(len(gen.text), record["chars_generated"])
                    saved = max(0, len(gen.text) - record["chars_generated"])
                    record["tokens_total"] = round(record["chars_total"] / CHARS_PER_TOKEN, 1)
                    record["tokens_saved"] = round(saved / CHARS_PER_TOKEN, 1)
                    record["same_text_as_serial"] = record.pop("text", None) == gen.text
                else:
                    record = await M.run_mode(
                        mode,
                        ctx,
                        text=None,
                        rate=None,
                        generated=gen,
                        timeout_s=MODEL_RUN_TIMEOUT_S,
                    )
                    if mode.name == "serial":
                        record["text"] = gen.text  # what the model wrote, for the record
                record.update(
                    workload=p.name,
                    regime=p.regime,
                    source="model",
                    rate=None,
                    rep=rep,
                    model_tok_s=_tok_s(gen),
                    usage=gen.usage if not mode.streams else record.get("usage"),
                )
                runs.append(record)
                _log(
                    f"    {p.name:<15} model rep {rep} {mode.name:<16} "
                    f"e2e {record['e2e_s']:7.2f} s  ({len(gen.text)} chars)"
                )
    finally:
        for pool in (ctx.worker, ctx.worker_debug, ctx.kernel):
            if pool is not None:
                await pool.close()
    return runs


def _tok_s(gen: M.Generated) -> float | None:
    usage = gen.usage or {}
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not gen.seconds:
        return None
    if tokens:
        return round(float(tokens) / gen.seconds, 1)
    return round(len(gen.text) / CHARS_PER_TOKEN / gen.seconds, 1)


async def _consume(stream: Any) -> str:
    parts = []
    async for piece in stream:
        parts.append(piece)
    return "".join(parts)


async def _generate(stream: Any) -> M.Generated:
    """Run the model to the end, remembering when each character arrived."""
    start = time.monotonic()
    parts: list[str] = []
    arrivals: list[tuple[int, float]] = []
    chars = 0
    async for piece in stream:
        parts.append(piece)
        chars += len(piece)
        arrivals.append((chars, time.monotonic() - start))
    seconds = arrivals[-1][1] if arrivals else 0.0
    usage = getattr(stream, "usage", None)
    return M.Generated("".join(parts), seconds, arrivals, usage=usage)


def rebuild(out: Path) -> int:
    """Recompute the derived numbers, tables and plots of DIR/results.json without running
    anything again (after changing a report or a plot)."""
    try:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"eager-lsp: cannot read {out / 'results.json'}: {exc}", file=sys.stderr)
        return 2
    report.finish(results)
    try:
        from eager_lsp.bench import plots

        results["plots"] = plots.draw_all(results, out)
    except ModuleNotFoundError as exc:  # (as `bench` itself: the tables still come)
        results["plots"] = []
        print(f"no plots: {exc.name} is not installed (pip install 'eager-lsp[bench]')")
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    text = report.text_tables(results)
    (out / "table.txt").write_text(text, encoding="utf-8")
    (out / "tables.md").write_text(report.markdown(results), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":  # python -m eager_lsp.bench.harness DIR: rebuild DIR's outputs
    if len(sys.argv) != 2:
        print("usage: python -m eager_lsp.bench.harness DIR (a bench --out directory)")
        sys.exit(2)
    sys.exit(rebuild(Path(sys.argv[1])))
