"""Generation into a file with the bundled model: does the answer restate the file?

Asked for code at a point in a file, small models often write the file's own code again
before (and sometimes after) their answer. The product drops that echo before it is written or
run (app/echo.py); this measures how often the model does it and what is left, on insertion
cases: a few lines of a file, a task, the point at the end of the file or in the middle. Each
answer goes through the generate path's own prompt (`generation_messages`), stream
(`open_stream`) and filter (`without_echo`, as `Attempt.generation` composes them), and is
read twice: as the model wrote
it and as the product keeps it. For both, the file with the answer inserted is run with the
benchmark's Python (a person's `python file.py`): "runs" is its exit status 0.

    eager-lsp bench --insert [--models qwen2.5-coder-1.5b] [--threads N] --out DIR
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eager_lsp.app.echo import without_echo
from eager_lsp.app.repair import repeated_statements
from eager_lsp.bench.per_model import run_per_model
from eager_lsp.providers import open_stream
from eager_lsp.providers.base import TextStream
from eager_lsp.providers.config import LLMConfig, resolve
from eager_lsp.providers.prompts import generation_messages

MAX_TOKENS = 300
RUN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Case:
    above: str
    below: str
    task: str


CASES = (
    Case(
        "rows = [{'name': 'ann', 'age': 31}, {'name': 'bob', 'age': 25}, {'name': 'cy', 'age': 40}]\n",
        "",
        "Print the average age and the oldest person's name.",
    ),
    Case(
        "import math\n\ndef area(r):\n    return math.pi * r * r\n\n",
        "",
        "Print the area for radii 1 to 5, one per line.",
    ),
    Case(
        "words = 'the quick brown fox jumps over the lazy dog the end'.split()\n",
        "print('done')\n",
        "Count how often each word occurs and print the counts sorted by frequency.",
    ),
    Case(
        "import random\nrandom.seed(1)\nscores = [random.randint(0, 100) for _ in range(30)]\n",
        "",
        "Print how many scores are at least 50 and the highest score.",
    ),
    Case(
        "from dataclasses import dataclass\n\n@dataclass\nclass Item:\n    name: str\n"
        "    price: float\n\nitems = [Item('pen', 1.5), Item('book', 12.0), Item('bag', 30.0)]\n",
        "",
        "Print the total price and the names of items under 10.",
    ),
    Case(
        "text = '''alpha,1\nbeta,2\ngamma,3\n'''\n", "", "Parse the text into a dict and print it."
    ),
    Case(
        "import statistics\ndata = [4, 8, 15, 16, 23, 42]\n",
        "print('report done')\n",
        "Print the mean and the median of data.",
    ),
    Case(
        "prices = {'apple': 1.2, 'pear': 0.8}\n",
        "total = sum(prices.values())\nprint(total)\n",
        "Add a price for plums, 2.5.",
    ),
)


@dataclass
class Reading:
    echoed: int  # statements of the file the text repeats (above or below)
    runs: bool


def _runs(python: str, text: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "insert.py")
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                [python, "-I", str(path)], capture_output=True, timeout=RUN_TIMEOUT_S, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0


def _read(case: Case, answer: str, python: str) -> Reading:
    body = answer if not answer or answer.endswith("\n") else answer + "\n"
    echoed = repeated_statements(body, case.above + "\n" + case.below)
    return Reading(echoed=echoed, runs=_runs(python, case.above + body + case.below))


class _Tap:
    """The model's stream as it came, kept while the echo filter reads it."""

    def __init__(self, inner: TextStream) -> None:
        self.inner = inner
        self.text = ""

    @property
    def usage(self) -> dict[str, Any] | None:
        return self.inner.usage

    def __aiter__(self) -> Any:
        return self._iter()

    async def _iter(self) -> Any:
        async for piece in self.inner:
            self.text += piece
            yield piece

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _one(llm: LLMConfig, case: Case, python: str) -> dict[str, Any]:
    messages = generation_messages(case.task, case.above, case.below, "insert.py")
    tap = _Tap(open_stream(llm, messages))
    stream, stats = without_echo(tap, case.above, case.below)  # as Attempt.generation does
    began = time.monotonic()
    kept = ""
    try:
        async for piece in stream:
            kept += piece
    finally:
        await stream.aclose()
    return {
        "task": case.task,
        "seconds": round(time.monotonic() - began, 1),
        "dropped": len(stats.dropped),
        "model": asdict(_read(case, tap.text, python)),
        "kept": asdict(_read(case, kept, python)),
        "model_text": tap.text,
        "kept_text": kept,
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {
        "cases": n,
        "model_with_an_echo": sum(1 for r in rows if r["model"]["echoed"]),
        "model_runs": sum(1 for r in rows if r["model"]["runs"]),
        "statements_dropped": sum(r["dropped"] for r in rows),
        "kept_with_an_echo": sum(1 for r in rows if r["kept"]["echoed"]),
        "kept_runs": sum(1 for r in rows if r["kept"]["runs"]),
    }


async def measure(
    model: str,
    threads: int | None,
    cases: tuple[Case, ...] = CASES,
    llm: LLMConfig | None = None,
) -> dict[str, Any]:
    """`cases` through the bundled `model`, or through `llm` when given (an endpoint)."""
    from eager_lsp.providers.local_model import stop_local_server

    llm = resolve(
        llm
        or LLMConfig(
            provider="local", local_model=model, local_threads=threads, max_tokens=MAX_TOKENS
        )
    )
    try:
        rows = [await _one(llm, case, sys.executable) for case in cases]
    finally:
        stop_local_server()
    return {"model": model, "summary": summarize(rows), "requests": rows}


def format_table(report: dict[str, Any]) -> str:
    s = report["summary"]
    return (
        f"{report['model']}: generation into a file, {s['cases']} cases\n"
        f"{'':<34}{'repeats the file':>18}{'the file runs':>15}\n"
        f"{'as the model wrote it':<34}{s['model_with_an_echo']:>18}{s['model_runs']:>15}\n"
        f"{'as the product keeps it':<34}{s['kept_with_an_echo']:>18}{s['kept_runs']:>15}\n"
        f"  ({s['statements_dropped']} statements dropped before they were written or run)"
    )


async def main(models: list[str], threads: int | None, out: Path) -> int:
    return await run_per_model(
        models, lambda model: measure(model, threads), format_table, out, "insert-echo.json"
    )
