"""A benchmark of the bundled models, one model after another: each model's report printed as
soon as it is measured (a run takes minutes per model), all of them written to one JSON file."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


async def run_per_model(
    models: list[str],
    measure: Callable[[str], Awaitable[dict[str, Any]]],
    format_table: Callable[[dict[str, Any]], str],
    out: Path,
    file_name: str,
) -> int:
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for model in models:
        report = await measure(model)
        reports.append(report)
        print(format_table(report), flush=True)
    path = out / file_name
    path.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0
