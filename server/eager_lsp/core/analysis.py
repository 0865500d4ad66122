"""What one released chunk does, as far as its source can tell.

The gate needs to know which names a chunk binds and reads, which modules it imports and
which functions it calls, before it runs. The facts come from the running interpreter's own
`ast`, which the detector has already built to validate the chunk, so they cost one walk of
a tree that exists anyway (libcst's scope analysis cost about 1.6 ms per statement, 180 times
a one-line `ast.parse`, and accepted code CPython rejects).

Scope rules, kept small on purpose:
- module and class bodies, and comprehensions, run at once, so a load there reads a name
  unless the chunk bound it *earlier in evaluation order* (`x = x + 1` reads x);
- function and lambda bodies run later, so a load there reads a name unless the chunk binds
  it anywhere in an enclosing function or at module level; class scopes are skipped from
  nested scopes, as in Python;
- the walk is iterative: a 2,000-term expression has a 2,000-deep tree.
"""

from __future__ import annotations

import ast
import operator
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChunkFacts:
    kind: str  # "def" | "class" | "import" | "compound" | "simple"
    binds: tuple[str, ...]
    reads: tuple[str, ...]
    modules: tuple[str, ...]
    calls: tuple[str, ...]
    trailing_expr: bool
    # For the gate's call-level rules (compare=False: they refine, they do not identify):
    # every call site, every dotted name loaded, and what the chunk's imports bind.
    call_sites: tuple[CallSite, ...] = field(default=(), compare=False)
    refs: tuple[str, ...] = field(default=(), compare=False)  # `os.remove`, `eval`, `x`
    aliases: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # ("np", "numpy")
    star_modules: tuple[str, ...] = field(default=(), compare=False)  # `from m import *`
    # Only constructs the compiler cannot reject once the parser accepted them (`_PLAIN`):
    # the detector then skips compiling the chunk to bytecode (core/detector.py).
    plain: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class CallSite:
    """One call: its dotted name as written ("" when the callee is not a dotted name), the
    attribute called when it is a method call (`Path(p).unlink()` → "unlink"), and its
    arguments: constants as themselves, f-strings as `FSTRING`, anything else as `UNKNOWN`."""

    name: str
    method: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]

    def arg(self, index: int, keyword: str, default: Any = None) -> Any:
        for key, value in self.kwargs:
            if key == keyword:
                return value
        return self.args[index] if index < len(self.args) else default


_CONSTANTS = frozenset({"None", "True", "False", "__debug__"})
_TRY_STAR: tuple[type, ...] = (ast.TryStar,) if sys.version_info >= (3, 11) else ()
_COMPOUND: tuple[type, ...] = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.With,
    ast.AsyncWith,
    ast.Match,
    *_TRY_STAR,
)
_TYPE_ALIAS: tuple[type, ...] = (ast.TypeAlias,) if sys.version_info >= (3, 12) else ()  # type: ignore[attr-defined]

_MODULE, _FUNCTION, _CLASS, _COMP = range(4)


def parse(code: str, flags: int = 0) -> ast.Module:
    """The chunk's tree by the running interpreter's grammar (raises SyntaxError)."""
    tree = compile(code, "<chunk>", "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree


def analyze(code: str) -> ChunkFacts:
    """Facts about one complete top-level statement (raises `SyntaxError` if invalid)."""
    return analyze_tree(parse(code))


def analyze_tree(tree: ast.Module) -> ChunkFacts:
    """Like `analyze` for an already parsed chunk, so the detector parses only once."""
    walker = _Walker()
    walker.run(tree)
    calls = [name for _, name in sorted(walker.calls, key=_AT)]
    return ChunkFacts(
        kind=kind_of(tree.body),
        binds=_unique(walker.binds),
        reads=_unique([name for _, name in sorted(walker.reads, key=_AT)]),
        modules=_unique([m for _, m in sorted(walker.modules, key=_AT)]) if walker.modules else (),
        calls=_unique(_resolved_calls(calls, walker.aliases) if walker.aliases else calls),
        trailing_expr=bool(tree.body) and isinstance(tree.body[-1], ast.Expr),
        call_sites=tuple(walker.call_sites),
        refs=_unique(walker.refs),
        aliases=tuple(walker.aliases.items()),
        star_modules=tuple(walker.star_modules),
        plain=walker.plain,
    )


def kind_of(body: list[ast.stmt]) -> str:
    first = body[0] if body else None
    if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def"
    if isinstance(first, ast.ClassDef):
        return "class"
    if isinstance(first, _COMPOUND):
        return "compound"
    if isinstance(first, (ast.Import, ast.ImportFrom)):
        # "import" only when the whole first logical line is imports (`import os; x = 1`
        # is simple): statements after `;` start on the line where the previous one ends.
        end = first.end_lineno
        for stmt in body[1:]:
            if stmt.lineno != end:
                break
            if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
                return "simple"
            end = stmt.end_lineno
        return "import"
    return "simple"


class _Scope:
    __slots__ = ("bound", "declared_global", "deferred", "kind", "parent")

    def __init__(self, kind: int, parent: _Scope | None, deferred: bool) -> None:
        self.kind = kind
        self.parent = parent
        self.deferred = deferred  # runs later than the chunk (inside a function or lambda)
        self.bound: set[str] = set()  # bound so far (final once the walk is over)
        self.declared_global: set[str] = set()


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names and attributes; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _pos(node: Any) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


_VISIT, _BIND, _LOAD, _ENTER = range(4)
_AT = operator.itemgetter(0)  # sort (position, name) pairs by position only


class _Walker:
    """One iterative walk in evaluation order over a chunk (see the module docstring)."""

    def __init__(self) -> None:
        self.root = _Scope(_MODULE, None, False)
        self.binds: list[str] = []  # module-level bindings, in evaluation order
        self.reads: list[tuple[tuple[int, int], str]] = []
        self.pending: list[tuple[str, Any, _Scope]] = []  # loads resolved after the walk
        self.modules: list[tuple[tuple[int, int], str]] = []
        self.aliases: dict[str, str] = {}
        self.calls: list[tuple[tuple[int, int], str]] = []
        self.call_sites: list[CallSite] = []
        self.refs: list[str] = []
        self.star_modules: list[str] = []
        self.stack: list[tuple[int, Any, _Scope]] = []
        self.deferred: list[tuple[list[Any], _Scope]] = []
        self.plain = True  # every node visited is in _PLAIN (and the checks below passed)

    # -- driving ------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        self._push_all(tree.body, self.root)
        self._drain()
        while self.deferred:
            nodes, scope = self.deferred.pop(0)
            self._push_all(nodes, scope)
            self._drain()
        for name, node, scope in self.pending:
            if not self._resolved(name, scope):
                self.reads.append((_pos(node), name))

    def _push_all(self, nodes: Iterable[Any], scope: _Scope) -> None:
        self.stack.extend((_VISIT, n, scope) for n in reversed(list(nodes)) if n is not None)

    def _drain(self) -> None:
        stack = self.stack
        handlers = _HANDLERS
        plain = _PLAIN
        while stack:
            op, node, scope = stack.pop()
            if op == _VISIT:
                kind = type(node)
                if kind not in plain:
                    self.plain = False
                handler = handlers.get(kind)
                if handler is not None:
                    handler(self, node, scope)
                else:
                    stack.extend(
                        (_VISIT, child, scope)
                        for child in reversed(list(ast.iter_child_nodes(node)))
                    )
            elif op == _BIND:
                self._bind(node, scope)
            elif op == _LOAD:
                self._load(node.id, node, scope)

    # -- names ---------------------------------------------------------------------------
    def _bind(self, name: str, scope: _Scope) -> None:
        deferred = scope.deferred  # a function's `global x; x = 1` is not a chunk binding
        if scope.kind != _MODULE and name in scope.declared_global:
            scope = self.root
        scope.bound.add(name)
        if scope is self.root and not deferred:
            self.binds.append(name)

    def _load(self, name: str, node: Any, scope: _Scope) -> None:
        if name in _CONSTANTS:
            return
        if scope.deferred:
            self.pending.append((name, node, scope))
        elif not self._resolved(name, scope):
            self.reads.append((_pos(node), name))

    def _resolved(self, name: str, scope: _Scope) -> bool:
        """True when the chunk binds `name` where this load would find it."""
        s: _Scope | None = scope
        first = True
        while s is not None:
            if s.kind == _MODULE:
                return name in s.bound
            if name in s.declared_global:
                s, first = self.root, False
                continue
            if (s.kind != _CLASS or first) and name in s.bound:
                return True
            s, first = s.parent, False
        return False

    def _store_target(self, target: Any, scope: _Scope) -> None:
        """Push the evaluation of an assignment target (names bound, subscripts read)."""
        self.stack.append((_VISIT, target, scope))

    # -- handlers ------------------------------------------------------------------------
    def name(self, node: ast.Name, scope: _Scope) -> None:
        if isinstance(node.ctx, ast.Load):
            self.refs.append(node.id)
            self._load(node.id, node, scope)
        elif isinstance(node.ctx, ast.Store):
            self._bind(node.id, scope)
        elif scope.kind != _MODULE:  # `del x` in a function makes x local
            scope.bound.add(node.id)

    def assign(self, node: ast.Assign, scope: _Scope) -> None:
        for target in reversed(node.targets):
            self._store_target(target, scope)
        self.stack.append((_VISIT, node.value, scope))

    def aug_assign(self, node: ast.AugAssign, scope: _Scope) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            self.stack.append((_BIND, target.id, scope))
            self.stack.append((_VISIT, node.value, scope))
            self.stack.append((_LOAD, target, scope))
        else:
            self.stack.append((_VISIT, node.value, scope))
            self.stack.append((_VISIT, target, scope))

    def ann_assign(self, node: ast.AnnAssign, scope: _Scope) -> None:
        self._store_target(node.target, scope)
        if node.value is not None:
            self.stack.append((_VISIT, node.value, scope))
        self.stack.append((_VISIT, node.annotation, scope))

    def named_expr(self, node: ast.NamedExpr, scope: _Scope) -> None:
        target = scope
        while target.kind == _COMP and target.parent is not None:
            target = target.parent  # `:=` in a comprehension binds in the enclosing scope
        self.stack.append((_BIND, node.target.id, target))
        self.stack.append((_VISIT, node.value, scope))

    def for_(self, node: ast.For | ast.AsyncFor, scope: _Scope) -> None:
        self._push_all(node.orelse, scope)
        self._push_all(node.body, scope)
        self._store_target(node.target, scope)
        self.stack.append((_VISIT, node.iter, scope))

    def with_(self, node: ast.With | ast.AsyncWith, scope: _Scope) -> None:
        self._push_all(node.body, scope)
        for item in reversed(node.items):
            if item.optional_vars is not None:
                self._store_target(item.optional_vars, scope)
            self.stack.append((_VISIT, item.context_expr, scope))

    def handler(self, node: ast.ExceptHandler, scope: _Scope) -> None:
        self._push_all(node.body, scope)
        if node.name:
            self.stack.append((_BIND, node.name, scope))
        if node.type is not None:
            self.stack.append((_VISIT, node.type, scope))

    def function(self, node: Any, scope: _Scope) -> None:
        """Decorators, defaults and annotations now; the body when the chunk is done."""
        if isinstance(node, ast.Lambda):
            body: list[Any] = [node.body]
        else:
            body = list(node.body)
            self.stack.append((_BIND, node.name, scope))
        inner = _Scope(_FUNCTION, scope, True)
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                inner.bound.add(arg.arg)
        for param in getattr(node, "type_params", ()) or ():
            inner.bound.add(getattr(param, "name", ""))
        self.deferred.append((body, inner))
        evaluated: list[Any] = []
        if not isinstance(node, ast.Lambda):
            evaluated.extend(node.decorator_list)
        evaluated.extend(d for d in [*args.defaults, *args.kw_defaults] if d is not None)
        if not isinstance(node, ast.Lambda):
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    evaluated.append(arg.annotation)
            if node.returns is not None:
                evaluated.append(node.returns)
        self._push_all(evaluated, scope)

    def class_(self, node: ast.ClassDef, scope: _Scope) -> None:
        self.stack.append((_BIND, node.name, scope))
        inner = _Scope(_CLASS, scope, scope.deferred)
        self._push_all(node.body, inner)
        self._push_all([*node.decorator_list, *node.bases, *node.keywords], scope)

    def comprehension(self, node: Any, scope: _Scope) -> None:
        inner = _Scope(_COMP, scope, scope.deferred)
        if isinstance(node, ast.DictComp):
            tail: list[Any] = [node.key, node.value]
        else:
            tail = [node.elt]
        self._push_all(tail, inner)
        for i in range(len(node.generators) - 1, -1, -1):
            gen = node.generators[i]
            self._push_all(gen.ifs, inner)
            self._store_target(gen.target, inner)
            if i > 0:  # the first iterable is evaluated in the enclosing scope
                self.stack.append((_VISIT, gen.iter, inner))
        self.stack.append((_VISIT, node.generators[0].iter, scope))

    def import_(self, node: ast.Import, scope: _Scope) -> None:
        for alias in node.names:
            self.modules.append((_pos(node), alias.name.split(".")[0]))
            if alias.asname:
                self.aliases[alias.asname] = alias.name
                self._bind(alias.asname, scope)
            else:
                head = alias.name.split(".")[0]
                self.aliases.setdefault(head, head)
                self._bind(head, scope)

    def import_from(self, node: ast.ImportFrom, scope: _Scope) -> None:
        if node.module == "__future__":
            self.plain = False  # unknown features, and features after other statements
        if node.level or not node.module:
            for alias in node.names:
                if alias.name != "*":
                    self._bind(alias.asname or alias.name, scope)
            return
        self.modules.append((_pos(node), node.module.split(".")[0]))
        for alias in node.names:
            if alias.name == "*":
                self.star_modules.append(node.module)
                continue
            bound = alias.asname or alias.name
            self.aliases[bound] = f"{node.module}.{alias.name}"
            self._bind(bound, scope)

    def global_(self, node: ast.Global | ast.Nonlocal, scope: _Scope) -> None:
        if scope.kind == _MODULE:
            return
        if isinstance(node, ast.Global):
            scope.declared_global.update(node.names)

    def call(self, node: ast.Call, scope: _Scope) -> None:
        # The hottest handler (most statements are calls): lists, not generators.
        func = node.func
        args, keywords = node.args, node.keywords
        name = dotted_name(func) or ""
        if name:
            self.calls.append(((node.lineno, node.col_offset), name))
        method = func.attr if isinstance(func, ast.Attribute) else ""
        self.call_sites.append(
            CallSite(
                name,
                method,
                tuple([_arg_value(a) for a in args]) if args else (),
                tuple([(k.arg or "**", _arg_value(k.value)) for k in keywords]) if keywords else (),
            )
        )
        if len(keywords) > 1:
            named = [k.arg for k in keywords if k.arg]
            if len(set(named)) != len(named):
                self.plain = False  # `f(a=1, a=2)`: the compiler rejects it, not the parser
        stack = self.stack
        for kw in reversed(keywords):
            stack.append((_VISIT, kw, scope))
        for arg in reversed(args):
            stack.append((_VISIT, arg, scope))
        # The callee: its names are read, but it is a call site, not a reference (`refs`).
        base: Any = func
        while isinstance(base, ast.Attribute):
            base = base.value
        if name and isinstance(base, ast.Name):
            stack.append((_LOAD, base, scope))
        else:
            stack.append((_VISIT, func, scope))

    def attribute(self, node: ast.Attribute, scope: _Scope) -> None:
        dotted = dotted_name(node) if isinstance(node.ctx, ast.Load) else None
        if dotted is None:
            self.stack.extend(
                (_VISIT, child, scope) for child in reversed(list(ast.iter_child_nodes(node)))
            )
            return
        self.refs.append(dotted)
        base: Any = node.value
        while isinstance(base, ast.Attribute):
            base = base.value
        self._load(base.id, base, scope)

    def match_capture(self, node: Any, scope: _Scope) -> None:
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            self.stack.append((_BIND, name, scope))
        self.stack.extend(
            (_VISIT, child, scope) for child in reversed(list(ast.iter_child_nodes(node)))
        )

    def type_alias(self, node: Any, scope: _Scope) -> None:
        self._bind(node.name.id, scope)


class _Marker:
    """A call argument that is not a constant: an f-string, or anything else."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNKNOWN = _Marker("<unknown>")
FSTRING = _Marker("<f-string>")


def _arg_value(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return FSTRING
    return UNKNOWN


_HANDLERS: dict[type, Any] = {
    ast.Name: _Walker.name,
    ast.Assign: _Walker.assign,
    ast.AugAssign: _Walker.aug_assign,
    ast.AnnAssign: _Walker.ann_assign,
    ast.NamedExpr: _Walker.named_expr,
    ast.For: _Walker.for_,
    ast.AsyncFor: _Walker.for_,
    ast.With: _Walker.with_,
    ast.AsyncWith: _Walker.with_,
    ast.ExceptHandler: _Walker.handler,
    ast.FunctionDef: _Walker.function,
    ast.AsyncFunctionDef: _Walker.function,
    ast.Lambda: _Walker.function,
    ast.ClassDef: _Walker.class_,
    ast.ListComp: _Walker.comprehension,
    ast.SetComp: _Walker.comprehension,
    ast.GeneratorExp: _Walker.comprehension,
    ast.DictComp: _Walker.comprehension,
    ast.Import: _Walker.import_,
    ast.ImportFrom: _Walker.import_from,
    ast.Global: _Walker.global_,
    ast.Nonlocal: _Walker.global_,
    ast.Call: _Walker.call,
    ast.Attribute: _Walker.attribute,
    ast.MatchAs: _Walker.match_capture,
    ast.MatchStar: _Walker.match_capture,
    ast.MatchMapping: _Walker.match_capture,
    # Constants and string annotations read nothing; nor do operators (`+`, `==`, `not`).
    ast.Constant: lambda self, node, scope: None,
}
_OPERATORS = tuple(
    t
    for t in vars(ast).values()
    if isinstance(t, type) and issubclass(t, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop))
)  # `+`, `not`, `==`, `and`: the concrete classes
for _t in _OPERATORS:
    _HANDLERS[_t] = _HANDLERS[ast.Constant]
for _t in _TYPE_ALIAS:
    _HANDLERS[_t] = _Walker.type_alias

# Nodes the compiler accepts whenever the parser built them, in a short ASCII chunk without
# the name `__debug__` (the detector checks the text: `_plain_text`): simple statements
# and expressions. Left out because CPython's compiler, not its parser, rejects some uses:
# `global` (after a use of the name), functions, lambdas and classes (repeated parameters,
# `nonlocal`), `return`, `yield`, `await`, `break`, `continue`, compound statements (`except:`
# not last, patterns), comprehensions (`:=` rebinding, async ones), `*` (`*a, *b = c`), `:=`;
# `from __future__` is checked in `import_from`, a repeated keyword in `call`. A type missing
# here costs a compile; a type listed wrongly would let the worker's compile, not the
# detector, report the error (as that statement's failure). Tests: tests/core/test_detector.py.
_PLAIN: frozenset[type] = frozenset(
    {
        ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Pass,
        ast.Import, ast.ImportFrom, ast.Raise, ast.Assert,
        ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Call, ast.keyword, ast.Constant,
        ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.IfExp,
        ast.Dict, ast.Set, ast.List, ast.Tuple, ast.JoinedStr, ast.FormattedValue,
        ast.Load, ast.Store, ast.Del, *_OPERATORS,
    }
)  # fmt: skip


def _resolved_calls(calls: list[str], aliases: dict[str, str]) -> Iterable[str]:
    """Each call as written, then resolved through the chunk's import aliases if that differs."""
    for name in calls:
        yield name
        resolved = resolve_alias(name, aliases)
        if resolved != name:
            yield resolved


def resolve_alias(name: str, aliases: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    target = aliases.get(head)
    if target is None:
        return name
    return f"{target}.{rest}" if rest else target


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """In first-seen order, without empty names."""
    seen = dict.fromkeys(items)
    seen.pop("", None)
    return tuple(seen)
