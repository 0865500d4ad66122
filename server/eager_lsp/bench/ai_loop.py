"""`eager-lsp bench --repair` and `--humaneval N`: how good the AI loop is, measured through
the same code the CLI and the editor use (open_stream → Interpreter.run_stream → app/repair.py).

- Fix rate: each case in `workloads/repair/` is a task, code that fails at runtime, and a
  check (a Python expression over the names after the run). The code runs through an interpreter
  until it fails; one repair attempt then runs from the failing statement, with each repair
  style (`legacy`: the first prompt and loop; `facts`: runtime facts, repeats dropped,
  unchanged statement refused). Fixed means: the repair ran without an error and the check
  holds in the same interpreter.
- HumanEval: the first N problems (a fixed, documented subset on a shared 2-core machine) go
  through the generate prompt; the code runs as it streams, then the problem's own tests run
  in the same interpreter.
- Speed: llama.cpp's own decode rate (`timings.predicted_per_second`) of every request, and
  the wall rate (completion tokens / stream time). Medians are reported; the machine is
  shared, so single requests may stall.
Results go to DIR/ai-loop.json and a table is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eager_lsp.app import repair
from eager_lsp.bench.model_timings import model_timings
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, StreamFailed
from eager_lsp.core.results import value_from_wire
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers import open_stream
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig, resolve
from eager_lsp.providers.prompts import generation_messages

CASES_DIR = Path(__file__).parent / "workloads" / "repair"
RUN_TIMEOUT_S = 300.0  # one model answer plus running it (a shared machine stalls)
STALL_TIMEOUT_S = 180.0  # how long the model may stay silent
CHECK_TIMEOUT_S = 20.0


@dataclass
class RepairCase:
    name: str
    task: str
    check: str
    code: str


def load_cases(directory: Path = CASES_DIR) -> list[RepairCase]:
    cases = []
    for path in sorted(directory.glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        head = {}
        while lines and lines[0].startswith("# ") and ":" in lines[0]:
            key, _, value = lines.pop(0)[2:].partition(":")
            head[key.strip()] = value.strip()
        # The header is the benchmark's, not the code's: the model never sees the check.
        cases.append(RepairCase(path.stem, head["task"], head["check"], "".join(lines)))
    return cases


@dataclass
class Sample:
    """One model request: what came back and how fast."""

    ok: bool
    detail: str = ""
    tokens: int | None = None
    decode_tok_s: float | None = None  # llama.cpp's own decode rate
    wall_s: float | None = None
    first_piece_s: float | None = None  # request sent → first piece of code out of the stream
    prompt_tokens_evaluated: int | None = None  # llama.cpp: what its prompt cache did not hold
    prompt_eval_s: float | None = None  # llama.cpp: time to evaluate them
    extra: dict[str, Any] = field(default_factory=dict)


class _Timed:
    """Counts pieces and keeps the provider's usage, around any text stream."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.opened: float | None = None
        self.first: float | None = None
        self.last: float | None = None
        self.text = ""

    def __aiter__(self) -> Any:
        return self._iter()

    async def _iter(self) -> Any:
        self.opened = time.monotonic()  # the request goes out on the first iteration
        async for piece in self.inner:
            now = time.monotonic()
            self.first = self.first or now
            self.last = now
            self.text += piece
            yield piece

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    def speed(self, sample: Sample) -> None:
        timings = model_timings(self.inner)
        sample.tokens = timings.completion_tokens
        sample.decode_tok_s = timings.decode_tok_s or None  # 0: a request that wrote nothing
        if self.first is not None and self.last is not None:
            sample.wall_s = round(self.last - self.first, 3)
        if self.opened is not None and self.first is not None:
            sample.first_piece_s = round(self.first - self.opened, 3)
        sample.prompt_tokens_evaluated = timings.prompt_tokens_evaluated
        sample.prompt_eval_s = timings.prompt_eval_s


async def _namespace_check(interpreter: Interpreter, expr: str, first_line: int) -> bool:
    """Evaluate `expr` in the run's namespace (a chunk of its own) and read back a bool."""
    worker = await interpreter.executor()
    code = f"__eager_check__ = bool({expr})\n"
    results = await asyncio.wait_for(
        worker.execute(
            [
                {
                    "id": -2,
                    "image_dir": "",  # no images wanted
                    "code": code,
                    "path": interpreter.config.path,
                    "first_line": first_line,
                    "names": ["__eager_check__"],
                    "trailing_expr": False,
                }
            ],
            stop_on_error=True,
        ),
        CHECK_TIMEOUT_S,
    )
    for result in results:
        if result["ev"] != "result" or not result["ok"]:
            return False
        for wire in result["values"]:
            value = value_from_wire(wire)
            if value is not None and value.name == "__eager_check__":
                return value.repr == "True"
    return False


async def _replay(text: str) -> Any:
    yield text


def _interpreter(path: str, cwd: str) -> Interpreter:
    return open_interpreter(InterpreterConfig(path=path, cwd=cwd, debug=False))


async def _run_timed(
    interpreter: Interpreter, timed: _Timed, sample: Sample, first_line: int = 1
) -> Any:
    """Run the model's stream through `interpreter`; None (with `sample.detail` saying why) when the
    stream failed or the run timed out. The decode speed goes into `sample` either way."""
    try:
        return await asyncio.wait_for(
            interpreter.run_stream(timed, first_line=first_line), RUN_TIMEOUT_S
        )
    except StreamFailed as exc:
        sample.detail = f"model stream failed: {exc.cause}"
    except asyncio.TimeoutError:
        sample.detail = "timed out"
    finally:
        timed.speed(sample)
    return None


async def repair_case(llm: LLMConfig, case: RepairCase, style: str, workdir: str) -> Sample:
    path = os.path.join(workdir, f"{case.name}.py")
    interpreter = _interpreter(path, workdir)
    try:
        report = await interpreter.run_stream(_replay(case.code))
        failed = report.failed
        if failed is None or failed.error is None:
            return Sample(False, "the case did not fail")
        lines = case.code.splitlines(keepends=True)
        code_ran = "".join(lines[: failed.chunk.start_line - 1])
        req = await repair.request_from_run(
            interpreter,
            task=case.task,
            code_ran=code_ran,
            failed=failed,
            results=report.results,
            style=style,
        )
        stream, stats = repair.open_repair_stream(llm, req, style)
        timed = _Timed(stream)
        sample = Sample(False)
        fix = await _run_timed(interpreter, timed, sample, first_line=failed.chunk.start_line)
        if fix is None:
            return sample
        repeats = repair.repeated_statements(timed.text if stats is None else "", code_ran)
        sample.extra = {
            "dropped": len(stats.dropped) if stats else 0,
            "unchanged": bool(stats and stats.unchanged),
            "repeats_run": repeats,
            "answer": timed.text[:2000],
        }
        if stats is not None and stats.unchanged:
            sample.detail = "unchanged failing statement (not run)"
            return sample
        if fix.failed is not None:
            err = fix.failed.error
            sample.detail = err.text if err else "failed"
            return sample
        if fix.syntax_error is not None:
            sample.detail = f"syntax error: {fix.syntax_error.message}"
            return sample
        end_line = failed.chunk.start_line + timed.text.count("\n") + 1
        sample.ok = await _namespace_check(interpreter, case.check, end_line)
        sample.detail = "fixed" if sample.ok else "ran, but the check failed"
        return sample
    except (ProviderError, OSError) as exc:
        return Sample(False, f"error: {exc}")
    finally:
        await interpreter.close()


HUMANEVAL_TASK = (
    "Complete this Python function. Write the whole function (the signature, the docstring "
    "and a working body) as plain Python, with no tests and no example calls:\n\n{prompt}"
)


async def humaneval_problem(llm: LLMConfig, problem: dict[str, Any], workdir: str) -> Sample:
    path = os.path.join(workdir, problem["task_id"].replace("/", "_") + ".py")
    interpreter = _interpreter(path, workdir)
    task = HUMANEVAL_TASK.format(prompt=problem["prompt"])
    timed = _Timed(open_stream(llm, generation_messages(task, before="", after="", path=path)))
    sample = Sample(False)
    try:
        report = await _run_timed(interpreter, timed, sample)
        if report is None:
            return sample
        if report.failed is not None or report.syntax_error is not None:
            sample.detail = "the generated code failed"
            return sample
        first = timed.text.count("\n") + 2
        check = f"{problem['entry_point']}"
        worker = await interpreter.executor()
        results = await asyncio.wait_for(
            worker.execute(
                [
                    {
                        "id": -3,
                        "image_dir": "",  # no images wanted
                        "code": problem["test"] + f"\ncheck({check})\n",
                        "path": path,
                        "first_line": first,
                        "names": [],
                        "trailing_expr": False,
                    }
                ],
                stop_on_error=True,
            ),
            CHECK_TIMEOUT_S,
        )
        sample.ok = bool(results) and all(r.get("ok") for r in results)
        sample.detail = "passed" if sample.ok else "tests failed"
        return sample
    except asyncio.TimeoutError:
        sample.detail = "tests timed out"
        return sample
    except (ProviderError, OSError) as exc:
        sample.detail = f"error: {exc}"
        return sample
    finally:
        await interpreter.close()


def humaneval_problems(n: int) -> list[dict[str, Any]]:
    from eager_lsp.bench.catalog import _humaneval_problems

    problems = _humaneval_problems()
    ordered = sorted(problems.values(), key=lambda p: int(p["task_id"].split("/")[1]))
    return ordered[:n]


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 2) if got else None


def summarize(samples: list[Sample]) -> dict[str, Any]:
    rates = [
        s.tokens / s.wall_s
        for s in samples
        if s.tokens is not None and s.wall_s is not None and s.wall_s > 0
    ]
    return {
        "passed": sum(s.ok for s in samples),
        "total": len(samples),
        "median_decode_tok_s": _median([s.decode_tok_s for s in samples]),
        "median_wall_tok_s": _median(list(rates)),
        "median_tokens": _median([float(s.tokens) for s in samples if s.tokens is not None]),
        "median_wall_s": _median([s.wall_s for s in samples]),
        "median_first_piece_s": _median([s.first_piece_s for s in samples]),
        "median_prompt_eval_s": _median([s.prompt_eval_s for s in samples]),
        "median_prompt_tokens_evaluated": _median(
            [
                float(s.prompt_tokens_evaluated)
                for s in samples
                if s.prompt_tokens_evaluated is not None
            ]
        ),
    }


async def ai_loop_main(
    *,
    models: list[str],
    repair_styles: list[str],
    humaneval: int,
    out: Path,
    threads: int | None,
    log: Any = print,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "threads": threads,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "models": {},
    }
    out.mkdir(parents=True, exist_ok=True)
    cases = load_cases()
    for model in models:
        llm = resolve(
            LLMConfig(
                provider="local",
                local_model=model,
                local_threads=threads,
                max_tokens=512,
                timeout_s=STALL_TIMEOUT_S,
            )
        )
        entry: dict[str, Any] = {"repair": {}, "humaneval": None}
        results["models"][model] = entry
        with tempfile.TemporaryDirectory(prefix="eager-ai-loop-") as workdir:
            for style in repair_styles:
                samples = []
                for case in cases:
                    sample = await repair_case(llm, case, style, workdir)
                    log(f"{model} repair[{style}] {case.name}: {sample.detail}")
                    samples.append(sample)
                    entry["repair"][style] = {"partial": True, **summarize(samples)}
                    _save(out, results)
                entry["repair"][style] = {
                    **summarize(samples),
                    "cases": {c.name: asdict(s) for c, s in zip(cases, samples, strict=True)},
                }
                _save(out, results)
            if humaneval:
                samples = []
                for problem in humaneval_problems(humaneval):
                    sample = await humaneval_problem(llm, problem, workdir)
                    log(f"{model} {problem['task_id']}: {sample.detail}")
                    samples.append(sample)
                    entry["humaneval"] = {
                        "partial": True,
                        **summarize(samples),
                        "problems": [asdict(s) for s in samples],
                    }
                    _save(out, results)
                entry["humaneval"] = {
                    **summarize(samples),
                    "problems": [asdict(s) for s in samples],
                }
                _save(out, results)
        from eager_lsp.providers.local_model import stop_local_server

        stop_local_server()
    log(format_table(results))
    return results


def _save(out: Path, results: dict[str, Any]) -> None:
    (out / "ai-loop.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


def format_table(results: dict[str, Any]) -> str:
    rows = [
        "model | measure | passed | median decode tok/s | median wall tok/s | "
        "median first piece s | median prompt tokens evaluated"
    ]

    def row(model: str, measure: str, r: dict[str, Any]) -> str:
        return (
            f"{model} | {measure} | {r['passed']}/{r['total']} | {r['median_decode_tok_s']} | "
            f"{r['median_wall_tok_s']} | {r.get('median_first_piece_s')} | "
            f"{r.get('median_prompt_tokens_evaluated')}"
        )

    for model, entry in results["models"].items():
        for style, r in entry["repair"].items():
            rows.append(row(model, f"fix rate ({style})", r))
        h = entry.get("humaneval")
        if h:
            rows.append(row(model, f"HumanEval first {h['total']}", h))
    return "\n".join(rows)
