"""`eager-lsp bench --rerun-edits`: edit-aware re-execution against a full rebuild.

The script: a load step that takes `load_s` seconds (2 s by default, a stand-in for reading
data, training a model, calling an API) and 15 cheap statements, some of which use the
loaded data. Measured through the product's own path (`core/rerun.py` on a real worker):
- a full rebuild: a fresh namespace and every statement (what follow mode did before);
- an edit to a late statement that does not use the data: the goal is a re-run in at most
  5 % of the full rebuild's time;
- an edit to the load step: it and the statements that use the data re-run, the others not.
Wall-clock seconds from the call to the last result, median of `reps`. The numbers are
printed and written to OUT/rerun_edits.json; docs/benchmarks.md reports them. No goal is
asserted anywhere: the machine decides the numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from eager_lsp.core.config import InterpreterConfig
from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.rerun import rerun
from eager_lsp.executors import open_interpreter

GOAL = 0.05  # an edit to a late statement: at most 5 % of a full rebuild


def script(load_s: float, n: int = 1000, last: str = "done") -> str:
    """The load step, then 15 cheap statements (7 use the data, 8 do not)."""
    return (
        "import time\n"
        "def load(n):\n"
        f"    time.sleep({load_s})  # reading data, training a model, calling an API\n"
        "    return list(range(n))\n"
        f"data = load({n})\n"
        "total = sum(data)\n"
        "biggest = max(data)\n"
        "smallest = min(data)\n"
        "mean = total / len(data)\n"
        "evens = [x for x in data if x % 2 == 0]\n"
        "share = len(evens) / len(data)\n"
        "summary = f'{mean:.1f} {share:.2f}'\n"
        "rate = 0.07\n"
        "years = 10\n"
        "growth = (1 + rate) ** years\n"
        "names = ['a', 'b', 'c']\n"
        "upper = [s.upper() for s in names]\n"
        "joined = '-'.join(upper)\n"
        "width = 80\n"
        f"last = {last!r}\n"
    )


async def measure(load_s: float = 2.0, reps: int = 3, log: Any = print) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="eager-rerun-bench-")
    path = os.path.join(tmp, "job.py")
    config = InterpreterConfig(
        path=path, cwd=tmp, debug=False, gate=GatePolicy.from_settings("eager")
    )
    session = open_interpreter(config, spares=0)
    await session.start()
    full: list[float] = []
    late: list[float] = []
    load_edit: list[float] = []
    record: dict[str, Any] = {"load_s": load_s, "reps": reps}
    try:
        base = script(load_s)
        for rep in range(reps):
            r = await rerun(session, base, force_full="benchmark: the full rebuild")
            full.append(r.elapsed)
            statements = r.plan.total
            # a late statement, no data involved
            r = await rerun(session, script(load_s, last=f"done {rep}"))
            late.append(r.elapsed)
            record["late_ran"] = [res.chunk.start_line for res in r.results]
            record["late_status"] = r.status()
            # the load step itself
            r = await rerun(session, script(load_s, n=2000 + rep, last=f"done {rep}"))
            load_edit.append(r.elapsed)
            record["load_ran"] = [res.chunk.start_line for res in r.results]
            record["load_why"] = {str(k): v for k, v in r.plan.why.items()}
            record["load_status"] = r.status()
    finally:
        await session.close()
    record.update(
        statements=statements,
        full_s=statistics.median(full),
        late_edit_s=statistics.median(late),
        load_edit_s=statistics.median(load_edit),
        full_samples=full,
        late_samples=late,
        load_samples=load_edit,
    )
    record["late_fraction"] = record["late_edit_s"] / record["full_s"]
    record["goal_met"] = record["late_fraction"] <= GOAL
    log(
        f"rerun-edits: {statements} statements, load step {load_s:.1f} s, median of {reps}\n"
        f"  full rebuild           {record['full_s']:.3f} s\n"
        f"  edit a late statement  {record['late_edit_s']:.3f} s "
        f"({100 * record['late_fraction']:.2f} % of a full rebuild; goal ≤ {100 * GOAL:.0f} %: "
        f"{'met' if record['goal_met'] else 'NOT met'}); re-ran lines {record['late_ran']}\n"
        f"    {record['late_status']}\n"
        f"  edit the load step     {record['load_edit_s']:.3f} s; re-ran lines "
        f"{record['load_ran']}\n"
        f"    {record['load_status']}"
    )
    return record


def main(out: Path, *, load_s: float = 2.0, reps: int = 3) -> int:
    record = asyncio.run(measure(load_s=load_s, reps=reps))
    out.mkdir(parents=True, exist_ok=True)
    (out / "rerun_edits.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"wrote {out / 'rerun_edits.json'}")
    return 0
