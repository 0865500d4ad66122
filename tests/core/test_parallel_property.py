"""The parallel gate gives the results of a sequential run (real worker, both gates).

Over the bench workloads, and over random mixes of independent and dependent statements
(names read and rebound, lists changed through aliases, a function that changes a global,
seeded `random`, prints, trailing expressions). Seeds are fixed, so a failure names its
program. Per statement: success, error type, values, shown value and output must match.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig
from eager_lsp.core.types import ChunkResult
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import ReplayStream

pytestmark = pytest.mark.slow

WORKLOADS = Path(__file__).parents[2] / "server" / "eager_lsp" / "bench" / "workloads"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def outcome(r: ChunkResult) -> tuple[Any, ...]:
    values = tuple((v.name, _ADDRESS.sub("", v.repr)) for v in r.values)
    expr = None if r.expr is None else _ADDRESS.sub("", r.expr.repr)
    error = None if r.error is None else r.error.type
    return (r.chunk.start_line, r.ok, r.skipped, error, values, expr, r.stdout, len(r.images))


def comparable(report: Any) -> list[tuple[Any, ...]]:
    """Every statement up to the first failure (later independent statements may have run
    in parallel where a sequential run skipped them: that is the point of the gate)."""
    out = []
    for r in report.results:
        out.append(outcome(r))
        if not r.ok:
            break
    return out


@pytest.fixture
async def sessions(tmp_path: Any) -> AsyncIterator[dict[str, Interpreter]]:
    made = {}
    for gate in ("eager", "parallel"):
        config = InterpreterConfig(
            path=str(tmp_path / "doc.py"),
            cwd=str(tmp_path),
            debug=False,
            gate=GatePolicy.from_settings(gate),
        )
        made[gate] = open_interpreter(config, spares=0)
    yield made
    for s in made.values():
        await s.close()


async def both(sessions: dict[str, Interpreter], code: str) -> tuple[Any, Any]:
    reports = []
    for gate in ("eager", "parallel"):
        session = sessions[gate]
        await session.reset()
        reports.append(await session.run_stream(ReplayStream(code, rate=None)))
    return reports[0], reports[1]


def workloads() -> list[str]:
    manifest = json.loads((WORKLOADS / "manifest.json").read_text())
    names = []
    for w in manifest["workloads"]:
        if "file" in w and all(find_spec(m) is not None for m in w["requires"]):
            names.append(w["file"])
    return names


@pytest.mark.parametrize("name", workloads())
async def test_bench_workloads_give_sequential_results(
    sessions: dict[str, Interpreter], name: str
) -> None:
    code = (WORKLOADS / name).read_text()
    eager, parallel = await both(sessions, code)
    assert comparable(parallel) == comparable(eager)


def random_program(rng: random.Random) -> str:
    lines = [
        "import random",
        "import time",
        "random.seed(7)",
        "def work(v, delay):\n    time.sleep(delay)\n    return v * 3 + 1",
        "count = 0",
        "def bump(n):\n    global count\n    count += n\n    return count",
        "L = []",
        "D = {}",
        "class Box:\n    def __init__(self):\n        self.items = []\n"
        "    def put(self, v):\n        self.items.append(v)\n        return len(self.items)",
        "box = Box()",
    ]
    names = ["count"]  # names holding ints
    has_alias = False
    for i in range(4):
        lines.append(f"v{i} = {i + 1}")
        names.append(f"v{i}")
    for _ in range(rng.randint(8, 22)):
        pick = rng.randrange(16)
        a, b = rng.choice(names), rng.choice(names)
        new = f"v{rng.randrange(8)}"
        delay = rng.choice([0, 0, 0.005, 0.02])
        if pick == 0:
            lines.append(f"{new} = work({a}, {delay})")
        elif pick == 1:
            lines.append(f"{new} = {a} + {b}")
        elif pick == 2:
            lines.append(f"L.append({a})")
        elif pick == 3:
            lines.append("B = L")
            has_alias = True
        elif pick == 4 and has_alias:
            lines.append("B.append(len(L))\nprint('B', B[-3:])")
        elif pick == 5:
            lines.append(f"D['k{rng.randrange(3)}'] = {'B' if has_alias and delay else a}")
        elif pick == 6:
            lines.append(f"{new} = bump({a} % 5)")
        elif pick == 7:
            lines.append(f"random.seed({rng.randrange(3)})")
        elif pick == 8:
            lines.append(f"{new} = random.randrange(1000)")
        elif pick == 9:
            lines.append(f"print('{a}', {a})")
        elif pick == 10:
            lines.append(f"{a} += 1" if a != "count" else "print(count)")
        elif pick == 11:
            lines.append(f"for x in range(3):\n    L.append(x * {a})\n    time.sleep({delay})")
        elif pick == 12:
            lines.append(f"{a} * 2")
        elif pick == 13:
            lines.append(f"{new} = box.put({a})")
        elif pick == 14:
            lines.append("print('box', box.items[-2:])")
        else:
            lines.append(f"total = sum(L) + len(D) + {a}")
            names.append("total")
        if new not in names and any(line.startswith(new + " =") for line in lines[-1:]):
            names.append(new)
    lines.append(
        "print(sorted((k, repr(v)) for k, v in dict(globals()).items()"
        " if k[:1] in 'vLDBct' and k not in ('time',)), box.items)"
    )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(25))
async def test_random_mixes_give_sequential_results(
    sessions: dict[str, Interpreter], seed: int
) -> None:
    code = random_program(random.Random(seed))
    eager, parallel = await both(sessions, code)
    assert all(r.ok for r in eager.results), code
    assert comparable(parallel) == comparable(eager), code
