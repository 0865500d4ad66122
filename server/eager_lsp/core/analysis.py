"""What one released chunk does, as far as its source can tell.

The gate needs to know which names a chunk binds and reads, which modules it imports and
which functions it calls, before it runs. libcst's scope analysis does the hard part
(function locals, comprehensions, class scopes, use before assignment); this module only
shapes its answer into `ChunkFacts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    Assignment,
    BuiltinAssignment,
    CodePosition,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)


@dataclass(frozen=True)
class ChunkFacts:
    kind: str  # "def" | "class" | "import" | "compound" | "simple"
    binds: tuple[str, ...]
    reads: tuple[str, ...]
    modules: tuple[str, ...]
    calls: tuple[str, ...]
    trailing_expr: bool


class _ScopeProvider(ScopeProvider):
    """ScopeProvider that lists its visitor methods once per class, not once per chunk.

    libcst finds them with `inspect.getmembers` over a class with hundreds of attributes on
    every resolve: that alone cost about as much as the analysis of a typical chunk.
    """

    _visitor_names: tuple[str, ...] | None = None

    def get_visitors(self) -> Mapping[str, Callable[[cst.CSTNode], None]]:
        cls = type(self)
        if cls._visitor_names is None:
            cls._visitor_names = tuple(super().get_visitors())
        return {name: getattr(self, name) for name in cls._visitor_names}


_CONSTANTS = frozenset({"None", "True", "False", "__debug__"})
_COMPOUND = (cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.With, cst.Match)


def analyze(code: str) -> ChunkFacts:
    """Facts about one complete top-level statement (raises `ParserSyntaxError` if invalid)."""
    return analyze_module(cst.parse_module(code))


def analyze_module(module: cst.Module) -> ChunkFacts:
    """Like `analyze` for an already parsed chunk, so the detector parses only once."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    # One batched pass for both: libcst's per-pass setup costs more than the analysis itself.
    metadata = wrapper.resolve_many([_ScopeProvider, PositionProvider])
    scopes = metadata[_ScopeProvider]
    positions = metadata[PositionProvider]
    collector = _Collector()
    wrapper.module.visit(collector)
    glob = _global_scope(scopes.values())
    return ChunkFacts(
        kind=_kind(module.body),
        binds=_binds(glob),
        reads=_reads(scopes.values(), positions, collector.aug_targets, glob),
        modules=tuple(_unique(collector.modules)),
        calls=tuple(_unique(_resolved_calls(collector.calls, collector.aliases))),
        trailing_expr=_trailing_expr(module.body),
    )


def _kind(body: Sequence[cst.BaseStatement]) -> str:
    first = body[0] if body else None
    if isinstance(first, cst.FunctionDef):
        return "def"
    if isinstance(first, cst.ClassDef):
        return "class"
    if isinstance(first, _COMPOUND):
        return "compound"
    if isinstance(first, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in first.body
    ):
        return "import"
    return "simple"


def _trailing_expr(body: Sequence[cst.BaseStatement]) -> bool:
    """True when the statement line ends in a bare expression (`a = 1; a` counts, like a REPL)."""
    last = body[-1] if body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Expr)


def _global_scope(scopes: Iterable[object]) -> GlobalScope | None:
    for scope in scopes:
        if isinstance(scope, GlobalScope):
            return scope
    return None


def _binds(glob: GlobalScope | None) -> tuple[str, ...]:
    """Module-level names; `import a.b` binds `a` (libcst also reports the dotted name)."""
    if glob is None:
        return ()
    ordered = sorted(glob.assignments, key=_assignment_order)
    return tuple(_unique(a.name.split(".")[0] for a in ordered if isinstance(a, Assignment)))


def _assignment_order(assignment: object) -> int:
    return getattr(assignment, "_index", 0)


def _reads(
    scopes: Iterable[object],
    positions: object,
    aug_targets: list[cst.Name],
    glob: GlobalScope | None,
) -> tuple[str, ...]:
    """Names loaded before (or without) any binding in the chunk, in source order."""
    found: list[tuple[CodePosition, str]] = []
    seen_accesses = set()
    for scope in set(scopes):
        if scope is None:
            continue
        for access in scope.accesses:  # type: ignore[attr-defined]
            if id(access) in seen_accesses:
                continue
            seen_accesses.add(id(access))
            if all(isinstance(r, BuiltinAssignment) for r in access.referents):
                found.append((_start(positions, access.node), _access_name(access)))
    for target in aug_targets:
        if not _bound_before(glob, target, positions):
            found.append((_start(positions, target), target.value))
    found.sort(key=lambda item: (item[0].line, item[0].column))
    return tuple(_unique(name for _, name in found))


def _access_name(access: object) -> str:
    """The loaded name; "" for the constants libcst parses as names and for string annotations."""
    node = access.node  # type: ignore[attr-defined]
    if not isinstance(node, cst.Name) or node.value in _CONSTANTS:
        return ""
    return node.value


def _start(positions: object, node: cst.CSTNode) -> CodePosition:
    try:
        return positions[node].start  # type: ignore[index]
    except KeyError:
        return CodePosition(0, 0)


def _bound_before(glob: GlobalScope | None, target: cst.Name, positions: object) -> bool:
    """`x += 1` reads x unless the chunk bound x in an earlier position."""
    if glob is None or target.value not in glob:
        return False
    here = _start(positions, target)
    for assignment in glob[target.value]:
        node = getattr(assignment, "node", None)
        if node is None or node is target:
            continue
        there = _start(positions, node)
        if (there.line, there.column) < (here.line, here.column):
            return True
    return False


def _resolved_calls(calls: list[str], aliases: dict[str, str]) -> Iterable[str]:
    """Each call as written, then resolved through the chunk's import aliases if that differs."""
    for name in calls:
        yield name
        head, _, rest = name.partition(".")
        target = aliases.get(head)
        if target is not None:
            resolved = f"{target}.{rest}" if rest else target
            if resolved != name:
                yield resolved


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names and attributes; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _module_name(node: cst.BaseExpression) -> str | None:
    return _dotted(node)


class _Collector(cst.CSTVisitor):
    """Calls, imports (with their aliases) and augmented-assignment targets anywhere."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.modules: list[str] = []
        self.aliases: dict[str, str] = {}
        self.aug_targets: list[cst.Name] = []
        self._depth = 0  # function nesting; aug targets inside functions are locals

    def visit_Call(self, node: cst.Call) -> None:
        name = _dotted(node.func)
        if name:
            self.calls.append(name)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _module_name(alias.name)
            if not full:
                continue
            self.modules.append(full.split(".")[0])
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = full

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        base = _module_name(node.module)
        if not base:
            return
        self.modules.append(base.split(".")[0])
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name)
            if not name:
                continue
            bound = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            self.aliases[bound] = f"{base}.{name}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._depth == 0 and isinstance(node.target, cst.Name):
            self.aug_targets.append(node.target)
