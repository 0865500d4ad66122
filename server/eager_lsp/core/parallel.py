"""The `parallel` gate's admission rule: which earlier statements a statement must wait for.

Every statement gets the set of earlier statements of its run it must wait for (`after`)
and whether it is *speculative*; the worker (executors/worker/parallel.py) starts a
speculative statement on a thread as soon as those have finished, and any other statement
only once every statement before it has finished (successfully, with stop on error). Results
are committed in document order; a failure rolls back the speculative statements after it
and skips the rest, so the results are those of an in-order run. It is decided from the
source alone, before anything runs, and it errs on the side of waiting: a wrong
"independent" changes results, a wrong "dependent" only costs time.

Speculative: the statement only binds its own names (and prints to stdout, which is held
with its result): no object changed, no ordered effect, no barrier, no name written but its
own binds. Those are the statements the worker can undo.

Nothing runs ahead of a statement that may not terminate: a `while` loop (in the statement
or in a function it calls), an endless iterator (`itertools.count`/`cycle`, `repeat(x)`,
`iter(f, sentinel)`); recursion is a barrier already (the function is not known yet where
it calls itself).

Statement B waits for an earlier statement A when
- B reads a name A writes (B needs A's value, as on a future), or B writes a name A reads
  or writes (A must see the old value; the last write wins in document order);
- both have *ordered effects* (they keep document order among themselves);
- either one is a *barrier* (it waits for everything before it; everything after waits).

What a statement writes: the names it binds; the root name of every object it may change
(`x.append(1)`, `x[k] = v`, `x.a = v`, `del x[k]`, a method called on `x` that is not known
to only read); the names passed to a call that may change its arguments (anything but known
read-only builtins and allow-listed library functions); in-place numpy (`np.copyto`,
`np.fill_diagonal`, `np.put*`, `ufunc.at`, an `out=` argument of any call, a positional
`out` of a numpy function: the second argument of a one-operand ufunc, from the third on
otherwise); an iterator it may advance (a name iterated by `for` or a comprehension, passed
to `next`/`list`/`sum`/... or to `itertools.*`, also when wrapped: `list(islice(it, 3))`),
unless the name was last bound to a list, dict, str, number, ... literal or comprehension;
a module whose attribute it sets (`math.x = 1`: readers of `math` wait); the names its
called functions declare `global` or change; `_` when it shows a trailing expression's
value. A class body and its methods' decorators run when the class statement runs; a
generator function's body runs when the generator is advanced, so the names bound to one
carry its effects to every statement that reads them. Mutation is tracked through aliases:
`b = a`, `a.append(b)`, `obj.s = s`, `d[k] = s` and a call that may change its arguments put
the names in one class, and changing one writes every name of the class.

Ordered effects (document order among themselves): calls of library functions not on the
read-only allow list (`random.*`, `os.*`, file writes, `np.random.seed`, ...), `open()`,
`input()`, `print(..., file=...)`, imports (they run module code), and method calls on a
value that is not a plain name. `print` to stdout is *not* ordered: each
statement's output is captured on its own and shown with that statement, so the order of
prints across statements cannot show.

Barriers: `exec`, `eval`, `compile`, `globals`, `locals`, `vars`, `setattr`, `delattr`,
`__import__`, `importlib.*`, `from m import *`, calls that end or replace the process or reach
into the interpreter (`os._exit`, `os.kill`, `sys.exit`, `signal.*`, `threading.*`, ...), anything using matplotlib (pyplot is not
thread-safe and its open figures are collected per statement), a call of a callable the
analysis cannot see (a name from another run, a function held in a variable or parameter:
its effects are unknown), a chunk the server could not compile or analyse, and
`global`/`nonlocal` at top level.

Functions and classes defined in the same run are summarised when defined (the globals they
read, write and change, whether they change their parameters, what they call) and a call
applies the summary, transitively. A method call on an object applies the summaries of all
classes of the run (its type is unknown). Known limits, documented in
docs/configuration.md ("The parallel gate"): operators and properties of user classes
(implicit dunder calls) are assumed to change nothing outside their operands, and an
iterator stored inside another object is tracked only through that object's name.

`writes_in_place` / `Planner.writes`: the same analysis as the in-place writes of a
statement, for core/dependencies.py (which statements an edit affects): one implementation.
"""

from __future__ import annotations

import ast
import builtins
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from eager_lsp.core.analysis import dotted_name, resolve_alias
from eager_lsp.core.types import Chunk

#: Builtins that neither change their arguments nor act outside the interpreter.
READ_ONLY_BUILTINS = frozenset(
    {
        "abs", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "divmod",
        "float", "format", "getattr", "hasattr", "hash", "hex", "id", "int", "isinstance",
        "issubclass", "len", "oct", "ord", "pow", "range", "repr", "round", "slice", "str",
        "type", "print", "object", "property", "staticmethod", "classmethod", "super",
        "ValueError", "TypeError", "KeyError", "IndexError", "RuntimeError", "Exception",
        "ZeroDivisionError", "AssertionError", "NotImplementedError", "StopIteration",
    }
)  # fmt: skip
#: Builtins that only read, but may consume an iterator passed to them: their name
#: arguments count as written.
CONSUMING_BUILTINS = frozenset(
    {
        "all", "any", "dict", "enumerate", "filter", "frozenset", "iter", "list", "map",
        "max", "min", "next", "reversed", "set", "sorted", "sum", "tuple", "zip", "bytearray",
    }
)  # fmt: skip
BARRIER_BUILTINS = frozenset(
    {"exec", "eval", "compile", "globals", "locals", "vars", "setattr", "delattr", "__import__"}
)
ORDERED_BUILTINS = frozenset({"open", "input", "breakpoint", "exit", "quit", "help"})
#: Library functions (resolved through the run's imports) that only read their arguments
#: and change no shared state: they may run side by side. Shell patterns.
READ_ONLY_CALLS: tuple[str, ...] = (
    "time.sleep", "time.time", "time.perf_counter", "time.monotonic", "time.process_time",
    "math.*", "cmath.*", "statistics.*", "operator.*", "string.*", "textwrap.*",
    "json.dumps", "json.loads", "re.compile", "re.match", "re.search", "re.fullmatch",
    "re.findall", "re.finditer", "re.sub", "re.split", "re.escape", "hashlib.*",
    "base64.*", "binascii.*", "zlib.compress", "zlib.decompress", "zlib.crc32",
    "datetime.*", "decimal.Decimal", "fractions.Fraction", "copy.copy", "copy.deepcopy",
    "collections.*", "itertools.*", "functools.reduce", "functools.partial", "heapq.nlargest",
    "heapq.nsmallest", "bisect.bisect*", "dataclasses.field", "dataclasses.dataclass",
    "typing.*", "asyncio.run", "asyncio.sleep", "asyncio.gather", "urllib.parse.*",
    "urllib.request.urlopen", "requests.get", "httpx.get", "numpy.*", "pandas.DataFrame",
    "pandas.Series", "pandas.concat", "pandas.merge", "pandas.to_datetime", "pandas.date_range",
    "pandas.isna", "pandas.notna",
)  # fmt: skip
#: Exceptions to READ_ONLY_CALLS: global state or files.
NOT_READ_ONLY_CALLS: tuple[str, ...] = (
    "numpy.random.*", "numpy.save*", "numpy.seterr", "numpy.set_printoptions",
    "numpy.load*", "numpy.fromfile", "numpy.savetxt", "numpy.loadtxt", "numpy.genfromtxt",
    # in place: they change an argument
    "numpy.copyto", "numpy.fill_diagonal", "numpy.put", "numpy.put_along_axis", "numpy.place",
    "numpy.putmask", "numpy.*.at", "numpy.ndarray.*", "numpy.lib.stride_tricks.*",
)  # fmt: skip
#: Library calls that only read, but may advance an iterator passed to them (itertools'
#: wrappers, consumed at once or later): their arguments count as changed, not ordered.
CONSUMING_CALLS: tuple[str, ...] = ("itertools.*",)
#: Library functions that only compute in Python or in C holding the GIL: a statement that
#: calls nothing else gains nothing from a thread (`Effects.waits`). Everything else
#: (sleeps, files, sockets, subprocesses, numpy, hashlib, an unknown library) may wait with
#: the GIL released. A wrong entry costs overlap, never a result.
CPU_ONLY_CALLS: tuple[str, ...] = (
    "math.*", "cmath.*", "statistics.*", "operator.*", "string.*", "textwrap.*", "json.*",
    "re.*", "random.*", "itertools.*", "functools.*", "collections.*", "heapq.*", "bisect.*",
    "copy.*", "dataclasses.*", "typing.*", "fractions.*", "decimal.*", "datetime.*", "enum.*",
    "base64.*", "unicodedata.*", "struct.*", "array.*", "types.*", "keyword.*",
    "pprint.pformat", "time.time", "time.time_ns", "time.perf_counter",
    "time.perf_counter_ns", "time.monotonic", "time.monotonic_ns", "time.process_time",
)  # fmt: skip
#: Methods of lists, dicts, sets, strings, numbers, deques and counters that only compute
#: (a method called on an object of unknown type may be a client's request: it may wait).
CPU_ONLY_METHODS = frozenset(
    {
        "append", "extend", "insert", "pop", "popleft", "appendleft", "remove", "sort",
        "reverse", "add", "discard", "clear", "copy", "keys", "values", "items", "setdefault",
        "count", "index", "join", "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip",
        "lower", "upper", "title", "capitalize", "replace", "format", "startswith", "endswith",
        "find", "rfind", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower",
        "encode", "decode", "zfill", "center", "ljust", "rjust", "partition", "rpartition",
        "casefold", "bit_length", "union", "intersection", "difference",
        "symmetric_difference", "issubset", "issuperset", "isdisjoint", "most_common", "hex",
        "is_integer", "as_integer_ratio", "conjugate", "group", "groups",
    }
)  # fmt: skip
#: Iterators that never end: a statement iterating one may not terminate.
ENDLESS_CALLS: tuple[str, ...] = ("itertools.count", "itertools.cycle")
#: numpy ufuncs of one operand: a second positional argument is `out`, written in place
#: (for the others the third is; numpy functions count positional arguments from the third
#: on as changed).
NUMPY_UNARY = frozenset(
    {
        "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "abs", "absolute",
        "fabs", "negative", "positive", "sign", "square", "cbrt", "reciprocal", "floor",
        "ceil", "rint", "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
        "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "degrees", "radians", "deg2rad",
        "rad2deg", "invert", "logical_not", "isnan", "isinf", "isfinite", "conjugate", "conj",
        "spacing", "signbit", "frexp", "modf",
    }
)  # fmt: skip
#: Methods that only read their object (on any type): the receiver is not written.
READ_ONLY_METHODS = frozenset(
    {
        "get", "keys", "values", "items", "copy", "count", "index", "format", "join",
        "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "startswith",
        "endswith", "lower", "upper", "title", "capitalize", "replace", "find", "rfind",
        "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "encode",
        "decode", "hex", "tolist", "to_dict", "to_list", "head", "tail", "describe",
        "mean", "median", "std", "var", "sum", "prod", "min", "max", "argmin", "argmax",
        "round", "astype", "reshape", "ravel", "flatten", "transpose", "dot", "cumsum",
        "nunique", "unique", "value_counts", "isna", "notna", "all", "any", "zfill",
        "center", "ljust", "rjust", "partition", "rpartition", "casefold", "bit_length",
        "is_integer", "as_integer_ratio", "conjugate", "issubset", "issuperset",
        "isdisjoint", "union", "intersection", "difference", "symmetric_difference",
        "groupby", "agg", "aggregate", "sort_values", "sort_index", "pivot_table", "most_common",
    }
)  # fmt: skip
BARRIER_MODULES = ("matplotlib", "seaborn", "importlib", "pylab")
#: Calls that end or replace the process, or reach into the interpreter: everything before
#: them finishes first, as it would have in order.
BARRIER_CALLS: tuple[str, ...] = (
    "os._exit", "os.abort", "os.kill", "os.killpg", "os.fork", "os.exec*", "os.chdir",
    "signal.*", "sys.exit", "sys.setrecursionlimit", "sys.settrace", "sys.setprofile",
    "ctypes.*", "faulthandler.*", "gc.*", "threading.*", "_thread.*",
)  # fmt: skip
_BUILTIN_NAMES = frozenset(dir(builtins))


def _matcher(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or r"(?!)")


_READ_ONLY = _matcher(READ_ONLY_CALLS)
_BARRIER_CALLS = _matcher(BARRIER_CALLS)
_NOT_READ_ONLY = _matcher(NOT_READ_ONLY_CALLS)
_CONSUMING = _matcher(CONSUMING_CALLS)
_ENDLESS = _matcher(ENDLESS_CALLS)
_CPU_ONLY = _matcher(CPU_ONLY_CALLS)


def read_only_call(resolved: str) -> bool:
    return _READ_ONLY.match(resolved) is not None and _NOT_READ_ONLY.match(resolved) is None


@dataclass
class Effects:
    """What one statement (or one function's body, per call) touches."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)  # names whose object may change
    ordered: bool = False
    barrier: bool = False
    changes_params: bool = False  # functions only: it may change an argument's object
    calls: set[str] = field(default_factory=set)  # user functions and classes it calls
    method_calls: bool = False  # calls a method on some object (class summaries apply)
    loops: bool = False  # may not terminate: a `while`, an endless iterator
    generator: bool = False  # functions only: a generator (its body runs when advanced)
    # may wait with the GIL released (a sleep, I/O, a library call not known to only
    # compute): only such a statement gains from a thread (see `Plan.waits`)
    waits: bool = False

    def merge(self, other: Effects) -> None:
        self.reads |= other.reads
        self.writes |= other.writes
        self.changed |= other.changed
        self.ordered |= other.ordered
        self.barrier |= other.barrier
        self.loops |= other.loops
        self.waits |= other.waits

    @property
    def acts(self) -> bool:
        """It does something besides reading and binding names (a generator's body)."""
        return bool(self.writes or self.changed or self.ordered or self.barrier or self.loops)


@dataclass(frozen=True)
class Plan:
    """What the worker needs: the earlier statements to wait for; `exclusive`: a barrier
    (nothing else runs while it does; open pyplot figures are collected after it);
    `speculative`: it only binds its own names (and prints), so it may start before the
    statements before it are known to succeed (the worker rolls its names back when one
    fails); any other statement starts only once every statement before it has finished
    (successfully, with stop on error)."""

    after: tuple[int, ...]
    exclusive: bool
    effects: Effects = field(compare=False, repr=False, default_factory=Effects)
    speculative: bool = False

    @property
    def waits(self) -> bool:
        """It may wait with the GIL released, so running it on a thread can overlap it with
        other statements. One that only computes in Python holds the GIL: on a thread it
        would overlap nothing and pay the hand-offs (core/run.py runs it in order)."""
        return self.effects.waits


class Planner:
    """Per run: call `plan(chunk)` for each released chunk, in release order."""

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}  # name → module path (the run's imports)
        self._functions: dict[str, Effects] = {}  # user functions and classes → summary
        self._classes: set[str] = set()
        self._parent: dict[str, str] = {}  # alias classes (union-find)
        self._members: dict[str, set[str]] = {}  # root → the names of its class
        # What later statements may have to wait for (since the last barrier), so a plan
        # costs the size of its own reads and writes, not the length of the run. Waiting
        # for the last writer is enough: it waited for the writers and readers before it.
        self._last_write: dict[str, int] = {}
        self._readers: dict[str, list[int]] = {}  # readers since the name's last write
        self._shown: list[int] = []  # writers of `_` (exempt from write-after-write)
        self._last_ordered: int | None = None
        self._barrier: int | None = None
        self._since_barrier: list[int] = []
        self._hang: int | None = None  # the last statement that may not terminate
        # names bound to a generator whose body acts → what advancing it does
        self._carriers: dict[str, Effects] = {}
        # names last bound to a list, dict, set, tuple, string or number (not an iterator):
        # iterating them at top level advances nothing
        self._collections: set[str] = set()

    # -- alias classes -------------------------------------------------------------------
    def _find(self, name: str) -> str:
        root = name
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while name != root:
            parent = self._parent[name]
            self._parent[name] = root
            name = parent
        return root

    def _union(self, names: Iterable[str]) -> None:
        roots = list(dict.fromkeys(self._find(n) for n in names))
        if len(roots) < 2:
            return
        groups = [self._members.pop(r, {r}) for r in roots]
        keep = max(range(len(roots)), key=lambda i: len(groups[i]))
        merged = groups[keep]
        for i, root in enumerate(roots):
            if i != keep:
                self._parent[root] = roots[keep]
                merged |= groups[i]
        self._members[roots[keep]] = merged

    def _class_of(self, name: str) -> set[str]:
        return self._members.get(self._find(name), set()) | {name}

    # -- planning ------------------------------------------------------------------------
    def plan(self, chunk: Chunk, tree: ast.Module | None = None) -> Plan:
        """`tree`: the chunk's code already parsed (the detector's; only read here)."""
        effects = self.effects(chunk, tree)
        index = chunk.index
        after: set[int] = set()
        if self._barrier is not None:
            after.add(self._barrier)
        if self._hang is not None:  # nothing runs ahead of a statement that may not end
            after.add(self._hang)
        if effects.barrier:
            after.update(self._since_barrier)
        if effects.ordered and self._last_ordered is not None:
            after.add(self._last_ordered)
        for name in effects.reads:
            if name in self._last_write:
                after.add(self._last_write[name])
            if name == "_":
                after.update(self._shown)
        for name in effects.writes:
            after.update(self._readers.get(name, ()))
            if name in self._last_write and name != "_":
                after.add(self._last_write[name])
        after.discard(index)
        # What this statement leaves for later ones.
        if effects.barrier:
            self._last_write, self._readers, self._shown = {}, {}, []
            self._last_ordered, self._barrier, self._since_barrier = None, index, []
            self._hang = None
        else:
            if effects.loops:
                self._hang = index
            for name in effects.reads:
                self._readers.setdefault(name, []).append(index)
            for name in effects.writes:
                if name == "_":
                    self._shown.append(index)
                else:
                    self._last_write[name] = index
                    self._readers[name] = []
            if effects.ordered:
                self._last_ordered = index
            self._since_barrier.append(index)
        own = set(chunk.binds) | {"_"}
        speculative = not (
            effects.barrier or effects.ordered or effects.changed or effects.writes - own
        )
        return Plan(tuple(sorted(after)), effects.barrier, effects, speculative)

    def effects(self, chunk: Chunk, tree: ast.Module | None = None) -> Effects:
        facts = chunk.facts
        if tree is None:
            try:
                tree = ast.parse(chunk.code)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
        if tree is None or facts is None or not chunk.checked:
            return Effects(reads=set(chunk.reads), writes=set(chunk.binds), barrier=True)
        self._aliases.update(facts.aliases)
        effects = Effects(reads=set(facts.reads), writes=set(facts.binds))
        if facts.star_modules:
            effects.barrier = True
        if chunk.trailing_expr and not _prints(tree):
            effects.writes.add("_")  # the worker binds a shown value to `_`
        self._walk(list(tree.body), effects, set(), params=frozenset(), in_function=False)
        generators = self._apply_calls(effects) if self._functions else []
        # A generator's body runs when it is advanced, by whatever statement reads it: the
        # names bound here carry its effects to the statements that read them.
        if generators or self._carriers:
            carried = Effects()
            for name in generators:
                carried.merge(self._functions[name])
            for name in list(effects.reads):
                for member in self._class_of(name):
                    if member in self._carriers:
                        carried.merge(self._carriers[member])
            if carried.acts:
                effects.merge(carried)
                for name in facts.binds:
                    self._carriers[name] = carried

        # Aliases: every name bound here may now share objects with the names it read.
        functions, aliases = self._functions, self._aliases

        def plain(names: Iterable[str]) -> list[str]:
            return [
                n
                for n in names
                if n not in functions and n not in aliases and n not in _BUILTIN_NAMES
            ]

        bound = plain(facts.binds)
        if bound:
            self._union(bound + plain(facts.reads))
        rebound = set(effects.writes)  # bound here or by a function it calls (`global`)
        for name in effects.changed:  # every name that may share the changed object
            effects.writes |= self._class_of(name) if name not in self._functions else {name}
        if aliases and any(self._module_of(n).startswith(BARRIER_MODULES) for n in effects.reads):
            effects.barrier = True
        self._collections -= rebound  # changing a list in place leaves it a list
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and _collection(stmt.value):
                self._collections |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        return effects

    def writes_of_code(self, code: str) -> frozenset[str]:
        """`writes` for a statement known only by its text (a record of what ran). One that
        does not parse writes nothing here (callers treat it as unclear)."""
        from eager_lsp.core.analysis import analyze_tree, parse

        try:
            facts = analyze_tree(parse(code))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return frozenset()
        chunk = Chunk(
            index=0, start_line=1, end_line=max(1, code.count("\n")), code=code,
            released_offset=len(code), released_at=0.0, kind=facts.kind, binds=facts.binds,
            reads=facts.reads, trailing_expr=False, facts=facts,
        )  # fmt: skip
        return self.writes(chunk)

    def writes(self, chunk: Chunk) -> frozenset[str]:
        """What `chunk` changes in place, unbinds, or rebinds through a function it calls,
        besides the names it binds (its effects, with what came before in this planner)."""
        effects = self.effects(chunk)
        binds = chunk.facts.binds if chunk.facts is not None else chunk.binds
        return frozenset(effects.writes - (set(binds) - effects.changed) - {"_"})

    def _module_of(self, name: str) -> str:
        return self._aliases.get(name, "")

    def _define(self, node: ast.stmt, effects: Effects) -> None:
        """A def/class binds its name; decorators, defaults and bases (and a class body) run
        now; the body's effects are kept as the summary applied where it is called."""
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        self._walk(_runs_now(node), effects, set(), params=frozenset(), in_function=False)
        summary = Effects()
        params: set[str] = set()
        body_nodes: list[ast.AST] = list(node.body)
        if isinstance(node, ast.ClassDef):
            self._classes.add(node.name)
            params.add("self")  # methods change their instance: that is the call's result
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    params |= _params(item)
        else:
            params = _params(node)
        local = _locals(node) | params
        self._walk(body_nodes, summary, local, params=frozenset(params), in_function=True)
        summary.generator = not isinstance(node, ast.ClassDef) and _is_generator(node)
        self._functions[node.name] = summary
        effects.writes.add(node.name)

    def _apply_calls(self, effects: Effects) -> list[str]:
        """Add the summaries of the user functions called (transitively); the generator
        functions among them whose bodies act."""
        seen: set[str] = set()
        todo = list(effects.calls)
        if effects.method_calls:
            todo += sorted(self._classes)
        while todo:
            name = todo.pop()
            if name in seen or name not in self._functions:
                continue
            seen.add(name)
            summary = self._functions[name]
            effects.merge(summary)
            todo += summary.calls
            if summary.method_calls:
                todo += sorted(self._classes)
        return [n for n in sorted(seen) if self._functions[n].generator and self._functions[n].acts]

    def _walk(
        self,
        nodes: list[ast.AST],
        effects: Effects,
        local: set[str],
        *,
        params: frozenset[str],
        in_function: bool,
    ) -> None:
        """Collect writes and effects; top level skips function bodies (they run later)."""
        declared: set[str] = set()
        stack = list(nodes)
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind not in _LOOKED_AT:  # most nodes: only what is under them counts
                if kind not in _INERT_TYPES:
                    _push_children(stack, node)
                continue
            if kind is ast.Name:
                assert isinstance(node, ast.Name)
                if isinstance(node.ctx, ast.Load):
                    if in_function and node.id not in local:
                        effects.reads.add(node.id)
                    if node.id in self._functions and not (in_function and node.id in local):
                        effects.calls.add(node.id)  # called, or passed on to be called
                continue  # under it: only its context
            if not in_function and isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                self._define(node, effects)
                continue
            if not in_function and isinstance(node, ast.Lambda):
                stack += node.args.defaults
                continue
            if isinstance(node, ast.While):
                effects.loops = True
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                # iterating a name advances it when it is an iterator (a shared one)
                self._consumes(_iterated(node.iter), effects, local, params, in_function)
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                if not in_function:
                    effects.barrier = True
                declared |= set(node.names)
                effects.writes |= set(node.names)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                effects.ordered = True
            elif isinstance(node, ast.Call):
                self._call(node, effects, local, params, in_function)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = (
                    node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                )
                if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                    # `a += [x]` extends a list in place: every alias sees it
                    self._changes(node.target.id, effects, local, params, in_function)
                value = getattr(node, "value", None)
                for target in targets:
                    for t in _flatten(target):
                        if isinstance(t, (ast.Attribute, ast.Subscript)):
                            root = _root(t)
                            self._changes(root, effects, local, params, in_function)
                            if root is not None and value is not None and not in_function:
                                # `obj.s = s`: obj now holds s (changing one changes both)
                                self._union([root, *_names(value)])
                        elif isinstance(t, ast.Name) and in_function and t.id in declared:
                            effects.writes.add(t.id)
                        elif (
                            isinstance(t, ast.Name)
                            and isinstance(node, ast.Delete)
                            and not in_function
                        ):
                            effects.writes.add(t.id)  # `del x` unbinds x
            _push_children(stack, node)

    def _consumes(
        self,
        name: str | None,
        effects: Effects,
        local: set[str],
        params: frozenset[str],
        in_function: bool,
    ) -> None:
        """`name` is iterated: that advances it if it is an iterator."""
        if name is not None and not in_function and name in self._collections:
            return
        self._changes(name, effects, local, params, in_function)

    def _changes(
        self,
        name: str | None,
        effects: Effects,
        local: set[str],
        params: frozenset[str],
        in_function: bool,
    ) -> None:
        """The object `name` refers to may change."""
        if name is None:
            return
        if in_function and name in params:
            effects.changes_params = True
        elif in_function and name in local:
            return
        elif name in self._aliases:  # an attribute of a module: shared state
            effects.ordered = True
            effects.changed.add(name)  # `math.x = 1`: readers of `math.x` wait
        else:
            effects.changed.add(name)

    def _call(
        self,
        node: ast.Call,
        effects: Effects,
        local: set[str],
        params: frozenset[str],
        in_function: bool,
    ) -> None:
        func = node.func
        arg_roots: list[str | None] = [
            _root(a, through_calls=False) for a in [*node.args, *(k.value for k in node.keywords)]
        ]
        for k in node.keywords:  # `out=`: written in place, whatever the function
            if k.arg == "out":
                for written in _consumed(k.value):
                    self._changes(written, effects, local, params, in_function)
        changes_args = True
        consuming = False  # the call iterates its arguments (and changes nothing else)
        dotted = dotted_name(func)
        head = dotted.split(".", 1)[0] if dotted else None
        if (
            head is not None
            and dotted is not None
            and head in self._aliases
            and not (in_function and head in local)
        ):
            resolved = resolve_alias(dotted, self._aliases)
            if _CPU_ONLY.match(resolved) is None:
                effects.waits = True
            if _ENDLESS.match(resolved) or (resolved == "itertools.repeat" and len(node.args) < 2):
                effects.loops = True
            if resolved.split(".", 1)[0] in BARRIER_MODULES or _BARRIER_CALLS.match(resolved):
                effects.barrier = True
            elif _CONSUMING.match(resolved):
                arg_roots = [*arg_roots, *(r for a in node.args for r in _consumed(a))]
                consuming = True
            elif read_only_call(resolved):
                changes_args = False
                if resolved.startswith("numpy."):  # positional `out` of a ufunc
                    first_out = 1 if resolved.rsplit(".", 1)[-1] in NUMPY_UNARY else 2
                    for a in node.args[first_out:]:
                        self._changes(_root(a), effects, local, params, in_function)
            else:
                effects.ordered = True
        elif isinstance(func, ast.Name):
            name = func.id
            if in_function and name in local:
                effects.barrier = True  # a parameter or local holding a callable
            elif name in self._functions:
                effects.calls.add(name)
                changes_args = self._functions[name].changes_params or name in self._classes
            elif name in BARRIER_BUILTINS:
                effects.barrier = True
            elif name in ORDERED_BUILTINS:
                effects.ordered = True
                effects.waits = True  # open(), input(), ...
            elif name in READ_ONLY_BUILTINS:
                changes_args = False
                if name == "print" and any(k.arg == "file" for k in node.keywords):
                    effects.ordered = True
            elif name in CONSUMING_BUILTINS:
                # `list(islice(it, 3))`, `sum(x for x in it)`: what the argument wraps
                arg_roots = [*arg_roots, *(r for a in node.args for r in _consumed(a))]
                consuming = True
                if name == "iter" and len(node.args) == 2:
                    effects.loops = True  # iter(callable, sentinel)
            else:
                effects.barrier = True  # a callable we cannot see (another run's, ...)
                effects.waits = True
        elif isinstance(func, ast.Attribute):
            receiver = _root(func.value)
            if func.attr not in CPU_ONLY_METHODS and not (
                isinstance(func.value, ast.Constant)
                or (not in_function and receiver in self._collections)
            ):
                effects.waits = True  # `client.get(url)`, `f.read()`, `resp.json()`, ...
            if isinstance(func.value, ast.Constant):
                changes_args = False  # "sep".join(...), "{}".format(...)
            elif receiver is None:
                effects.ordered = True  # a method on a call's result, a subscript, ...
                effects.method_calls = True
            else:
                effects.method_calls = True
                if func.attr not in READ_ONLY_METHODS:
                    self._changes(receiver, effects, local, params, in_function)
                    if not in_function:
                        self._union([receiver, *(r for r in arg_roots if r)])
                else:
                    changes_args = False
        else:
            effects.ordered = True
            effects.waits = True
        if changes_args and consuming:
            for root in arg_roots:
                self._consumes(root, effects, local, params, in_function)
        elif changes_args:
            for root in arg_roots:
                self._changes(root, effects, local, params, in_function)
            if not in_function:  # the call may store one argument in another
                self._union([r for r in arg_roots if r and r not in self._functions])


#: Nodes with nothing under them that `_walk` looks at (most of a small statement's nodes:
#: each `Name` has a context node, each operator is a node), skipped with one check.
_INERT = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)


def _node_types(bases: tuple[type, ...]) -> frozenset[type]:
    """The concrete node classes of `bases` (`_walk` looks nodes up by exact type)."""
    found: set[type] = set()
    todo = list(bases)
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo += cls.__subclasses__()
    return frozenset(found)


_INERT_TYPES = _node_types(_INERT)
#: The node types `_walk` does something for; under any other type it only looks deeper.
_LOOKED_AT = _node_types(
    (
        ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.While, ast.For,
        ast.AsyncFor, ast.comprehension, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom,
        ast.Call, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Name,
    )
)  # fmt: skip


def _push_children(stack: list[ast.AST], node: ast.AST) -> None:
    """`stack.extend(ast.iter_child_nodes(node))`, without a generator per node."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            stack.append(value)
        elif isinstance(value, list):
            stack += [item for item in value if isinstance(item, ast.AST)]


def _runs_now(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.AST]:
    """What a def or class statement runs when it runs: decorators, defaults, bases and a
    class body (with its methods' decorators and defaults), not function bodies."""
    now: list[ast.AST] = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        now += node.bases + [k.value for k in node.keywords]
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                now += _runs_now(item)
            else:
                now.append(item)
    else:
        now += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
    return now


def _is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    stack: list[ast.AST] = list(node.body)
    while stack:
        sub = stack.pop()
        if isinstance(sub, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(sub))
    return False


_COLLECTION_CALLS = frozenset(
    {"list", "dict", "set", "frozenset", "tuple", "sorted", "str", "int", "float", "len", "range"}
)


def _collection(node: ast.AST) -> bool:
    """The expression's value is a built-in collection, string or number (never an
    iterator): a literal, a comprehension, a call of list/dict/sorted/..., or an operator
    on those."""
    if isinstance(
        node,
        (ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp,
         ast.DictComp, ast.JoinedStr),
    ):  # fmt: skip
        return True
    if isinstance(node, ast.BinOp):
        return _collection(node.left) and _collection(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in _COLLECTION_CALLS
    return False


def _iterated(node: ast.AST) -> str | None:
    """The name a `for` iterates when it is a plain name (maybe an iterator)."""
    return node.id if isinstance(node, ast.Name) else None


def _names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _consumed(node: ast.AST) -> list[str]:
    """The names an argument may advance when consumed: its root, and through wrapping calls
    and generator expressions the roots of what they wrap (`islice(it, 3)` → it)."""
    if isinstance(node, ast.Call):
        return [r for a in [*node.args, *(k.value for k in node.keywords)] for r in _consumed(a)]
    if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
        return [r for g in node.generators for r in _consumed(g.iter)]
    root = _root(node, through_calls=False)
    return [root] if root else []


@lru_cache(maxsize=4096)
def writes_in_place(code: str, aliases: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """The names a statement's text may change in place, unbind or rebind as a global from
    a function it calls, besides the names it binds: the planner's own rules (object
    changes, aliases within the statement, module attributes, in-place numpy, iterators
    advanced, class bodies), with nothing known about the rest of the document but its
    imports (`aliases`). The one in-place write analysis: core/dependencies.py uses it too
    (and `Planner.writes` over a whole document, which knows more)."""
    planner = Planner()
    planner._aliases.update(aliases)
    return planner.writes_of_code(code)


def _prints(tree: ast.Module) -> bool:
    """The trailing expression is a `print(...)` call (its value, None, is not bound)."""
    last = tree.body[-1] if tree.body else None
    return (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and last.value.func.id == "print"
    )


def conflict(b: Effects, a: Effects) -> bool:
    """The rule stated pairwise: later statement `b` must wait for earlier `a` (directly or
    through others). `Planner.plan` keeps only what is needed for this to hold."""
    if a.barrier or b.barrier or (a.ordered and b.ordered):
        return True
    # `_` (the last shown value) is exempt from write-after-write: the worker keeps the value
    # of the statement latest in document order, as a sequential run ends with.
    return bool(b.reads & a.writes or b.writes & a.reads or (b.writes & a.writes) - {"_"})


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = node.args
    names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return set(names)


def _locals(node: ast.AST) -> set[str]:
    """Names a function body binds, minus those it declares global."""
    bound: set[str] = set()
    declared: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared |= set(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
            sub is not node
        ):
            bound.add(sub.name)
        elif isinstance(sub, ast.arg):
            bound.add(sub.arg)
        elif isinstance(sub, ast.alias):
            bound.add((sub.asname or sub.name).split(".", 1)[0])
    return bound - declared


def _flatten(target: ast.AST) -> list[ast.AST]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for e in target.elts for t in _flatten(e)]
    if isinstance(target, ast.Starred):
        return _flatten(target.value)
    return [target]


def _root(node: ast.AST, *, through_calls: bool = True) -> str | None:
    """The name an expression's object hangs off: `a` for `a.b[1].c()`; None otherwise."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call) and through_calls:
            node = node.func
        elif isinstance(node, ast.Starred):
            node = node.value
        else:
            return None
