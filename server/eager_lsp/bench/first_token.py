"""Time to first token of the bundled model, cold and warm, through the product's providers.

The language server keeps the local model's server (and the loaded model) for the life of the
process, and llama.cpp reuses the longest prefix it already evaluated (its prompt cache). So
a warm generation evaluates only what differs from the previous prompt: how much that is
depends on where the variable part (the task, the document) sits in the prompt. This measures,
in one process, as a user meets them:

- cold: the first generation (the model server starts and loads the model);
- warm, new task: each of the other tasks once, one after another (what every new request in
  an editor is);
- warm, same task: the last task again (everything but the answer is cached);
- cold, prepared: a first generation again (the model server stopped), after
  `eager.prepareModel` was sent when the prompt box opened and the prompt took
  TYPING_S seconds to type (`prepare_local`); its first token is timed from Enter.

Each request is the generate path's own prompt (`generation_messages`, an empty file) through
`open_raw_stream`: the first token is the first piece of text the model sends (what the
issue's goal counts; `open_stream`'s first piece waits further for the first whole line).
llama.cpp's own `timings` give the prompt tokens it evaluated and how long that took.

    eager-lsp bench --first-token [--models qwen2.5-coder-1.5b] [--threads N] --out DIR
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from eager_lsp.bench.model_timings import model_timings
from eager_lsp.bench.per_model import run_per_model
from eager_lsp.providers import open_raw_stream, prepare_local
from eager_lsp.providers.config import LLMConfig, resolve
from eager_lsp.providers.prompts import generation_messages

TASKS = (
    "Print the squares of the numbers 1 to 10.",
    "Compute the mean and standard deviation of 20 random numbers and print them.",
    "Count the words in a short sentence and print the three most common.",
    "Print the prime numbers below 50.",
    "Build a dict of five fruits and their prices and print the cheapest.",
    "Print today's date and the weekday.",
    "Reverse each word of a sentence and print the result.",
    "Print the first 15 Fibonacci numbers.",
)
MAX_TOKENS = 256  # answers are short programs; the first token is what is timed
TYPING_S = (5.0, 15.0)  # how long a prompt takes to type: a short one, a sentence


async def _one(llm: LLMConfig, task: str) -> dict[str, Any]:
    stream = open_raw_stream(llm, generation_messages(task, before="", after="", path=None))
    opened = time.monotonic()
    first: float | None = None
    try:
        async for _piece in stream:
            if first is None:
                first = time.monotonic() - opened
    finally:
        await stream.aclose()
    timings = model_timings(stream)
    return {
        "task": task,
        "first_token_s": None if first is None else round(first, 3),
        "prompt_tokens_evaluated": timings.prompt_tokens_evaluated,
        "prompt_eval_s": timings.prompt_eval_s,
        "prompt_tok_s": timings.prompt_tok_s,
        "decode_tok_s": timings.decode_tok_s,
    }


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    got = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(got), 3) if got else None


async def measure(
    model: str,
    threads: int | None,
    tasks: tuple[str, ...] = TASKS,
    typing: tuple[float, ...] = TYPING_S,
) -> dict[str, Any]:
    """The first task cold, the others warm, then the last one again (at least two tasks),
    then the first task cold again once for each `typing` time after a preparation."""
    from eager_lsp.providers.local_model import stop_local_server

    llm = resolve(
        LLMConfig(provider="local", local_model=model, local_threads=threads, max_tokens=MAX_TOKENS)
    )
    try:
        cold = await _one(llm, tasks[0])
        new = [await _one(llm, task) for task in tasks[1:]]
        same = [await _one(llm, tasks[-1])]
        prepared: dict[str, list[dict[str, Any]]] = {}
        for typing_s in typing:
            stop_local_server()
            prepare_local(llm, generation_messages("", before="", after="", path=None))
            await asyncio.sleep(typing_s)
            prepared[f"cold, prepared {typing_s:g} s before"] = [await _one(llm, tasks[0])]
    finally:
        stop_local_server()
    groups = {"cold": [cold], "warm, new task": new, "warm, same task": same, **prepared}
    return {
        "model": model,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "groups": {
            name: {
                "n": len(rows),
                "median_first_token_s": _median(rows, "first_token_s"),
                "max_first_token_s": max((r["first_token_s"] or 0.0) for r in rows),
                "median_prompt_tokens_evaluated": _median(rows, "prompt_tokens_evaluated"),
                "median_prompt_tok_s": _median(rows, "prompt_tok_s"),
                "requests": rows,
            }
            for name, rows in groups.items()
        },
    }


def format_table(report: dict[str, Any]) -> str:
    lines = [
        f"{report['model']} ({report['cores']} cores): time to first token through the providers",
        f"{'':<28} {'n':>3} {'median s':>9} {'max s':>7} {'prompt tokens evaluated':>24} "
        f"{'prompt tok/s':>13}",
    ]
    for name, g in report["groups"].items():
        lines.append(
            f"{name:<28} {g['n']:>3} {g['median_first_token_s']!s:>9} "
            f"{g['max_first_token_s']:>7.3f} {g['median_prompt_tokens_evaluated']!s:>24} "
            f"{g['median_prompt_tok_s']!s:>13}"
        )
    return "\n".join(lines)


async def main(models: list[str], threads: int | None, out: Path) -> int:
    return await run_per_model(
        models, lambda model: measure(model, threads), format_table, out, "first-token.json"
    )
