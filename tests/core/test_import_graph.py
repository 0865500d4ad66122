"""No import cycles in `server/eager_lsp`: the modules form layers, each understood without
the ones above it.

How the graph is read (with `ast`, nothing is imported):
- every `import` and `from … import` counts, wherever it stands: at the top, inside a
  function (a lazy import), or under `if TYPE_CHECKING:`. A cycle through a lazy or
  type-only import is still a cycle of design: neither module can be read, tested or moved
  without the other. Only its cost at start-up differs.
- `from pkg import name` is an edge to the module `pkg.name` when that is a module, else to
  `pkg` (its `__init__.py`). Importing `a.b.c` is not counted as importing the packages
  `a` and `a.b` as well: a package's `__init__` is an edge only when it is named.
- relative imports (the worker's `from .capture import …`) are resolved; imports of
  anything outside eager_lsp are ignored. `bench/workloads/` is data, not modules.

A failure names each cycle as a chain of modules with the line of every import in it. Fix
it by moving the shared piece down a layer (a small module both can import), by handing the
lower module what it needs (a callback, a Protocol), or by moving code to where it is used.
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "server" / "eager_lsp"

# Cycles that are known and owned by an open piece of work, as their exact sets of modules.
# Each entry must still be a cycle (test_known_cycles_still_exist): remove it when it is gone.
KNOWN_CYCLES: dict[frozenset[str], str] = {}  # none (cli ↔ console ↔ generate went with app/)

Edge = tuple[str, str]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("bench/workloads/"):
            continue
        found[module_name(path, root)] = path
    return found


def _resolve_from(node: ast.ImportFrom, importer: str, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, dict[str, int]]:
    """importer → {imported module: line of the first such import}, within the package."""
    known = modules(root)
    graph: dict[str, dict[str, int]] = {name: {} for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    while parts and ".".join(parts) not in known:
                        parts.pop()
                    if parts:
                        targets.append(".".join(parts))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(node, name, is_package)
                if base is None:
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in known:
                        targets.append(sub)
                    elif base in known:
                        targets.append(base)
            for target in targets:
                if target != name:
                    line = graph[name].get(target, node.lineno)
                    graph[name][target] = min(line, node.lineno)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The groups of modules that import each other (Tarjan), only those of 2 or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []
    counter = 0

    for start in sorted(graph):
        if start in index:
            continue
        # iterative DFS: (node, iterator over its successors)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(frozenset(group))
    return groups


def shortest_cycle(graph: dict[str, dict[str, int]], group: frozenset[str]) -> list[str]:
    """One shortest loop through the group's first module (by name), as a list of modules
    that starts and ends with it."""
    start = min(group)
    parents: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt not in group:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if nxt not in seen:
                seen.add(nxt)
                parents[nxt] = node
                queue.append(nxt)
    return [start, start]  # not reached for a strongly connected group


def describe(graph: dict[str, dict[str, int]], group: frozenset[str]) -> str:
    loop = shortest_cycle(graph, group)
    hops = [f"  {a} (line {graph[a][b]}) -> {b}" for a, b in itertools.pairwise(loop)]
    return f"cycle of {len(group)} modules ({', '.join(sorted(group))}), e.g.:\n" + "\n".join(hops)


def test_no_import_cycles() -> None:
    graph = import_graph()
    new = [g for g in strongly_connected(graph) if g not in KNOWN_CYCLES]
    assert not new, "import cycles in server/eager_lsp:\n" + "\n".join(
        describe(graph, g) for g in new
    )


def test_known_cycles_still_exist() -> None:
    """An exception that no longer applies must be removed from KNOWN_CYCLES."""
    groups = set(strongly_connected(import_graph()))
    gone = [sorted(k) for k in KNOWN_CYCLES if k not in groups]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def test_the_graph_is_read_from_every_kind_of_import(tmp_path: Path) -> None:
    """The reader sees lazy, type-only and relative imports, and finds the loops they make
    (so a green test_no_import_cycles means something)."""
    pkg = tmp_path / "eager_lsp"
    (pkg / "core").mkdir(parents=True)
    (pkg / "lsp").mkdir()
    (pkg / "worker").mkdir()
    for init in ("", "core/", "lsp/", "worker/"):
        (pkg / f"{init}__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("def f():\n    from eager_lsp.core import b\n")
    (pkg / "core" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import eager_lsp.core.a\n"
    )
    (pkg / "lsp" / "server.py").write_text("from eager_lsp.lsp.handlers import register\n")
    (pkg / "lsp" / "handlers.py").write_text("from eager_lsp.lsp import server\n")
    (pkg / "worker" / "x.py").write_text("from .y import z\n")
    (pkg / "worker" / "y.py").write_text("from . import x\nimport os\n")
    (pkg / "worker" / "alone.py").write_text("from .x import q\n")
    graph = import_graph(pkg)
    assert graph["eager_lsp.core.a"] == {"eager_lsp.core.b": 2}
    assert graph["eager_lsp.worker.y"] == {"eager_lsp.worker.x": 1}
    groups = set(strongly_connected(graph))
    assert groups == {
        frozenset({"eager_lsp.core.a", "eager_lsp.core.b"}),
        frozenset({"eager_lsp.lsp.server", "eager_lsp.lsp.handlers"}),
        frozenset({"eager_lsp.worker.x", "eager_lsp.worker.y"}),
    }
    text = describe(graph, frozenset({"eager_lsp.lsp.server", "eager_lsp.lsp.handlers"}))
    assert "eager_lsp.lsp.handlers (line 1) -> eager_lsp.lsp.server" in text
