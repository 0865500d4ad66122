"""Which statements an edit affects: the dependency graph of a document's top-level statements.

Nodes are top-level statements (the detector's chunks). A statement *touches* a name when it
binds it (assignment, def, class, import), reads it (core/analysis.py: free loads, including
loads inside function bodies, which run whenever the function is called), or writes it in
place. What a statement writes in place is the parallel gate's analysis
(`core/parallel.writes_in_place`, one implementation for both), given the document's
imports: attribute or subscript assignment, augmented assignment and `del` on a name, a
method not known to only read called on a name, names passed to a call that may change its
arguments, `module.attr = ...`, in-place numpy (`np.copyto`, `out=`), an iterator advanced,
aliases within the statement, a class body's decorators. Besides, calling a function defined
in the document writes the names its body reads that the document binds with something
other than def/class/import (it may mutate them).

The plan (`plan`): match the statements that ran (the ledger's records) to the new text's
statements by the hash of their text, in order (difflib). Changed, new and deleted statements
make their names *dirty*. Then, to a fixed point, every statement that binds, reads or writes a
dirty name is re-run and its own names become dirty. Every binder of a dirty name is re-run,
so deleting the dirty names first and re-running the affected statements in document order
leaves the namespace as a fresh run would, while everything else keeps its state. A statement
that never ran (skipped) runs; one that failed or was interrupted counts as attempted and runs
again only when it is affected (or its text changed).

Anything this cannot follow makes the plan a full rebuild, with the reason: `global` or
`nonlocal` in a function (it binds module names the analysis does not see), a star import,
`exec`/`eval`/`globals()`/`locals()`/`vars()`/`__import__`/`setattr` on the module, and a
statement this Python could not check.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from eager_lsp.core.ledger import INTERRUPTED, SKIPPED, Record, code_key
from eager_lsp.core.parallel import Planner, writes_in_place
from eager_lsp.core.types import Chunk

_DYNAMIC = frozenset({"exec", "eval", "globals", "locals", "vars", "__import__"})


@dataclass(frozen=True)
class Effects:
    """What one statement does to the namespace's names, as far as its text tells."""

    binds: frozenset[str]
    reads: frozenset[str]
    writes: frozenset[str]  # changed in place or unbound (core/parallel.writes_in_place)
    called: frozenset[str]  # plain names called: `f(...)`
    imports: frozenset[str]  # names bound by import statements
    defines: frozenset[str]  # names bound by def/class at top level
    unclear: str | None  # why this statement cannot be followed, or None


Aliases = tuple[tuple[str, str], ...]


@lru_cache(maxsize=4096)
def effects(code: str, aliases: Aliases = ()) -> Effects:
    """The effects of one statement's code (cached: the same text gives the same answer);
    `aliases`: the document's imports (name → module), for what its calls may change."""
    from eager_lsp.core.analysis import analyze_tree, parse

    try:
        tree = parse(code)
    except (SyntaxError, ValueError):
        return Effects(
            frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), frozenset(),
            "it does not parse here",
        )  # fmt: skip
    facts = analyze_tree(tree)
    called: set[str] = set()
    imports: set[str] = set()
    defines: set[str] = set()
    unclear: str | None = None
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*":
                    unclear = unclear or "a star import binds names that cannot be known"
                else:
                    imports.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defines.add(stmt.name)
    # Module-level statements only: a function body's effects belong to its calls.
    todo: list[tuple[ast.AST, bool]] = [(s, False) for s in tree.body]
    while todo:
        node, in_function = todo.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)) and in_function:
            unclear = unclear or f"`{type(node).__name__.lower()}` in a function"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                if func.id in _DYNAMIC:
                    unclear = unclear or f"`{func.id}()` reaches names the text does not show"
                elif not in_function:
                    called.add(func.id)
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            # Decorators, defaults and annotations run now; only the body runs later.
            child_inner = inner
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not in_function:
                child_inner = child in node.body
            todo.append((child, child_inner))
    return Effects(
        binds=frozenset(facts.binds),
        reads=frozenset(facts.reads),
        writes=writes_in_place(code, aliases),
        called=frozenset(called),
        imports=frozenset(imports),
        defines=frozenset(defines),
        unclear=unclear,
    )


def writes_of(chunk: Chunk) -> tuple[str, ...]:
    """The names a statement writes in place, by its own text."""
    return writes_of_code(chunk.code)


def writes_of_code(code: str) -> tuple[str, ...]:
    return tuple(sorted(effects(code).writes))


def unclear_reason(code: str, checked: bool = True) -> str | None:
    if not checked:
        return "this Python cannot check it (another interpreter version runs it)"
    return effects(code).unclear


@dataclass
class Plan:
    """What to do to bring a namespace from the ledger's statements to a new text's."""

    full: bool  # a fresh namespace and every statement (see `reason`)
    reason: str  # why a full rebuild ("" when incremental)
    run: list[Chunk]  # the statements to run, in document order
    why: dict[int, str]  # start line → why it runs ("changed", "reads `x`", ...)
    forget: list[str]  # names to delete from the namespace before running
    kept: list[tuple[Record, Chunk]]  # unchanged statements and where they are now
    removed: list[Record]  # statements gone from the text (or replaced by an edit)
    total: int  # statements in the new text
    halted_at: Chunk | None = None  # an unchanged failed statement nothing after runs past
    halted_interrupted: bool = False  # `halted_at` was interrupted, not failed by itself
    not_run: list[Chunk] = field(default_factory=list)  # affected, but after `halted_at`
    # records matched to an unchanged statement that runs anyway (it is affected)
    matched_affected: list[tuple[Record, Chunk]] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not self.full and not self.run and not self.forget


@lru_cache(maxsize=1024)
def _mentioned(code: str) -> frozenset[str]:
    """The names a statement's own text uses (not those reached through what it calls)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))


def _touches(e: Effects, extra_writes: Iterable[str]) -> frozenset[str]:
    return e.binds | e.reads | e.writes | frozenset(extra_writes)


def plan(
    records: Sequence[Record],
    chunks: Sequence[Chunk],
    *,
    halt_at_failure: bool = True,
    fresh_since: int | None = None,
) -> Plan:
    """The plan from what ran (`records`, document order) to `chunks` (the new text's
    statements, document order). See the module docstring for the rules.

    `fresh_since` (a ledger `seq`): the records after it just ran, written by something that
    ran them in order (Fix with AI's stream). They and everything above the last of them
    stay as they are; their names are dirty for the statements below, which re-run as
    their dependents."""
    total = len(chunks)
    if not records:
        return Plan(
            True, "", list(chunks), {c.start_line: "first run" for c in chunks}, [], [], [], total
        )
    for c in chunks:
        unclear = unclear_reason(c.code, c.checked)
        if unclear:
            return _full(chunks, f"line {c.start_line}: {unclear}")
    for r in records:
        unclear = unclear_reason(r.code)
        if unclear:
            return _full(chunks, f"a statement that ran before (line {r.start_line}): {unclear}")

    old_keys = [r.key for r in records]
    new_keys = [code_key(c.code) for c in chunks]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    matched_old: dict[int, int] = {}  # new position → old position
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            matched_old[block.b + k] = block.a + k
    replaced: set[int] = set()  # new positions that took the place of old statements
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "replace":
            replaced.update(range(j1, j2))
    used_old = set(matched_old.values())
    removed = [r for i, r in enumerate(records) if i not in used_old]

    aliases = _aliases(chunks)
    # In-place writes in document order, with what the document defined and imported above
    # each statement (the parallel gate's planner: one analysis for both).
    planner = Planner()
    eff = [
        dataclasses.replace(effects(c.code, aliases), writes=planner.writes(c))
        if c.facts is not None
        else effects(c.code, aliases)
        for c in chunks
    ]
    # Names the document binds by def/class (functions, classes).
    defined: dict[str, int] = {}
    for i, e in enumerate(eff):
        for name in e.defines:
            defined[name] = i
    plain_binders = set().union(*(e.binds - e.imports - e.defines for e in eff)) if eff else set()

    def extra_writes(i: int) -> set[str]:
        """The mutable names a called document function reads."""
        e = eff[i]
        out: set[str] = set()
        seen: set[str] = set()
        stack = [f for f in e.called if f in defined]
        while stack:
            f = stack.pop()
            if f in seen:
                continue
            seen.add(f)
            fe = eff[defined[f]]
            out |= fe.reads & plain_binders
            stack.extend(n for n in fe.reads if n in defined)
        return out

    writes = [extra_writes(i) for i in range(total)]
    dirty: set[str] = set()
    why: dict[int, str] = {}
    frozen = -1  # positions up to this one are left alone (fresh_since)
    if fresh_since is not None:
        for i in range(total):
            if i in matched_old and records[matched_old[i]].seq > fresh_since:
                frozen = i
                dirty |= eff[i].binds | eff[i].writes | writes[i]
    # What the old text wrote in place, read the same way over the old statements in order.
    old_planner = Planner()
    old_writes = [old_planner.writes_of_code(r.code) for r in records]
    for i, r in enumerate(records):
        if i in used_old:
            continue
        old = effects(r.code, aliases)
        dirty |= old.binds | old_writes[i]
    for i, c in enumerate(chunks):
        if i <= frozen:
            continue
        if i not in matched_old:
            if fresh_since is not None:
                continue  # after a fix, text that never ran runs only if it depends on it
            why[c.start_line] = "changed" if i in replaced else "new"
            dirty |= eff[i].binds | eff[i].writes | writes[i]
        elif records[matched_old[i]].status == SKIPPED:
            why[c.start_line] = "not run before"
            dirty |= eff[i].binds | eff[i].writes | writes[i]
    setters: dict[str, list[int]] = {}  # name → positions of statements that set it
    for i, e in enumerate(eff):
        for name in e.binds | e.writes | writes[i]:
            setters.setdefault(name, []).append(i)
    changed = True
    while changed:
        changed = False
        for i, c in enumerate(chunks):
            if i <= frozen:
                continue
            if c.start_line in why:
                # It reads the value a name has *here*; when a later statement sets that
                # name, the namespace holds another one: every setter re-runs, in order.
                for name in eff[i].reads - dirty:
                    if setters.get(name, [-1])[-1] > i:
                        dirty.add(name)
                        changed = True
                continue
            hit = _touches(eff[i], writes[i]) & dirty
            if hit:
                name = sorted(hit)[0]
                e = eff[i]
                verb = "reads" if name in e.reads else "binds" if name in e.binds else "writes"
                via = [] if name in _mentioned(c.code) else sorted(set(e.called) & set(defined))
                # reached only through a document function it calls (which may change it)
                why[c.start_line] = (
                    f"calls `{via[0]}`, which uses `{name}`" if via else f"{verb} `{name}`"
                )
                dirty |= e.binds | e.writes | writes[i]
                changed = True

    run = [c for c in chunks if c.start_line in why]
    halted_at: Chunk | None = None
    halted_interrupted = False
    not_run: list[Chunk] = []
    if halt_at_failure:
        for i, c in enumerate(chunks):
            if c.start_line in why or i not in matched_old or i <= frozen:
                continue
            if records[matched_old[i]].failed:
                halted_at = c
                halted_interrupted = records[matched_old[i]].status == INTERRUPTED
                break
        if halted_at is not None:
            not_run = [c for c in run if c.start_line > halted_at.start_line]
            run = [c for c in run if c.start_line < halted_at.start_line]
    kept: list[tuple[Record, Chunk]] = []
    matched_affected: list[tuple[Record, Chunk]] = []
    for i, c in enumerate(chunks):
        if i in matched_old:
            (matched_affected if c.start_line in why else kept).append((records[matched_old[i]], c))
    # A name a statement left alone sets keeps its value (only with fresh_since).
    kept_setters: set[str] = set()
    for i in range(frozen + 1):
        kept_setters |= eff[i].binds | eff[i].writes | writes[i]
    return Plan(
        full=False,
        reason="",
        run=run,
        why=why,
        forget=sorted(dirty - kept_setters),
        kept=kept,
        removed=removed,
        total=total,
        halted_at=halted_at,
        halted_interrupted=halted_interrupted,
        not_run=not_run,
        matched_affected=matched_affected,
    )


def _aliases(chunks: Sequence[Chunk]) -> Aliases:
    """What the document's imports bind (name → module), for the in-place analysis."""
    found: dict[str, str] = {}
    for c in chunks:
        if c.facts is not None:
            found.update(c.facts.aliases)
    return tuple(sorted(found.items()))


def _full(chunks: Sequence[Chunk], reason: str) -> Plan:
    return Plan(
        True, reason, list(chunks), {c.start_line: "full rebuild" for c in chunks}, [], [], [],
        len(chunks),
    )  # fmt: skip
