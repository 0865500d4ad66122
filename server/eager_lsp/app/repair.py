"""Fix with AI: the one repair step shared by the CLI (`generate --repair`), the language server
("Fix with AI", `repair.mode: auto`) and the benchmark (`bench --repair`).

Rules, and why:
- The statements before the failing one already ran and keep their state, so the model is
  asked only for the failing statement and what follows. Small models re-emit the code they
  were shown anyway; `RepeatFilter` drops every statement of the answer that repeats one that
  already ran (compared as `ast.dump`, so spacing and comments do not matter) *before* it is
  written or run, so a repair never runs the same code twice nor grows the file.
- If the first new statement is the failing statement unchanged, running it again can only
  fail again: the attempt stops there with a clear message and nothing is run.
- Like LDB (Zhong et al., 2024), the model gets the runtime facts it needs: the values and
  types of the names the failing statement reads (read from the live interpreter through an
  empty chunk that only describes names, so the worker's bounded, deadline-guarded `reprs`
  render them and no code runs), the traceback, and what the statements before it printed or
  produced. Every part is bounded.
- `style="legacy"` keeps the first repair prompt and loop (no filter, no facts) so the
  benchmark can measure before and after on the same cases.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from eager_lsp.app.statement_stream import (
    StatementStream,
    begins_with_import,
    dumps,
    norm,
    statements,
)
from eager_lsp.core.results import value_from_wire
from eager_lsp.core.types import Chunk, ChunkResult, ErrorInfo, Value

if TYPE_CHECKING:
    from eager_lsp.core.config import InterpreterConfig
    from eager_lsp.core.executor import Executor
    from eager_lsp.providers.base import TextStream
    from eager_lsp.providers.config import LLMConfig

STYLES = ("facts", "legacy")
DEFAULT_STYLE = "facts"

MAX_FACT_NAMES = 12  # names of the failing statement whose values are shown
MAX_VALUE_CHARS = 300  # per value repr
MAX_EARLIER = 12  # earlier statements whose output is shown (the last ones)
MAX_OUTPUT_CHARS = 200  # per earlier statement
MAX_EARLIER_CHARS = 1500  # all earlier outputs together


@dataclass
class RepairRequest:
    """Everything a repair prompt is built from; plain data, so any edge can fill it."""

    task: str
    code_ran: str  # the generated code before the failing statement (it ran)
    failing: str  # the failing statement's source
    error: ErrorInfo
    before: str = ""  # the file before the generated code
    after: str = ""  # code after the failing statement that stays (only the statement is asked)
    failing_line: int | None = None  # 1-based document line of the failing statement
    earlier: Sequence[ChunkResult] = ()  # results of the statements before it, in order
    facts: Sequence[Value] = ()  # values of the names the failing statement reads
    rejected: list[str] = field(default_factory=list)  # earlier answers: the failing statement

    @property
    def traceback(self) -> str:
        return self.error.traceback or self.error.text


@dataclass
class RepairStats:
    """What the filter did to one answer."""

    dropped: list[str] = field(default_factory=list)  # repeated statements not run again
    unchanged: bool = False  # the failing statement came back as it was
    kept: int = 0  # statements passed on to be written and run

    def message(self, req: RepairRequest) -> str:
        where = f" (line {req.failing_line})" if req.failing_line else ""
        return (
            f"The model returned the failing statement{where} unchanged; it was not run "
            f"again ({req.error.text})"
        )


def messages_for(req: RepairRequest, style: str = DEFAULT_STYLE) -> list[dict[str, Any]]:
    from eager_lsp.providers import prompts

    if style == "legacy":
        return prompts.repair_messages(
            req.task, req.code_ran, req.failing, req.traceback, req.before
        )
    return prompts.repair_messages_with_facts(
        task=req.task,
        before=req.before,
        code_ran=req.code_ran,
        failing=req.failing,
        traceback=req.traceback,
        facts=format_facts(req.facts),
        earlier=format_earlier(req.earlier),
        rejected=bool(req.rejected),
        after=req.after,
    )


def open_repair_stream(
    llm: LLMConfig, req: RepairRequest, style: str = DEFAULT_STYLE
) -> tuple[TextStream, RepairStats | None]:
    """The model's answer to a repair request, as a stream of code to write and run; with the
    new style, repeats of what ran are already dropped and the stats say what happened."""
    from eager_lsp.providers import open_stream

    stream = open_stream(llm, messages_for(req, style))
    if style == "legacy":
        return stream, None
    # (the code after a statement-only fix stays: a model that writes it again is not run twice)
    filtered = RepeatFilter(stream, ran=req.before + req.code_ran + req.after, failing=req.failing)
    return filtered, filtered.stats


async def request_from_run(
    session: LiveNamespace,
    *,
    task: str,
    code_ran: str,
    failed: ChunkResult,
    results: Sequence[ChunkResult],
    before: str = "",
    style: str = DEFAULT_STYLE,
) -> RepairRequest:
    """A repair request for a run that stopped at `failed` (the CLI and the benchmark)."""
    assert failed.error is not None
    earlier = [r for r in results if r.chunk.index < failed.chunk.index]
    facts = await read_facts(session, failed.chunk) if style != "legacy" else []
    return RepairRequest(
        task=task,
        code_ran=code_ran,
        failing=failed.chunk.code,
        error=failed.error,
        before=before,
        failing_line=failed.chunk.start_line,
        earlier=earlier,
        facts=facts,
    )


# -- runtime facts ----------------------------------------------------------------------------


class LiveNamespace(Protocol):
    """Where the facts are read: the interpreter the failing statement ran in (an
    `Interpreter`, core/interpreter.py; the language server hands one that follows a restart)."""

    @property
    def config(self) -> InterpreterConfig: ...

    async def executor(self) -> Executor: ...


def fact_names(chunk: Chunk) -> list[str]:
    """The names the statement reads that could hold user values (builtins are left out)."""
    names = [n for n in chunk.reads if not hasattr(builtins, n) and not n.startswith("__")]
    return names[:MAX_FACT_NAMES]


async def read_facts(session: LiveNamespace, chunk: Chunk) -> list[Value]:
    """Values and types of the names `chunk` reads, from the session's live interpreter.

    An empty chunk that only asks for names: nothing is executed, and the worker renders
    each value with its bounded, time-limited reprs. Any failure just means no facts."""
    names = fact_names(chunk)
    if not names:
        return []
    try:
        worker = await session.executor()
        results = await worker.execute(
            [
                {
                    "id": -1,
                    "code": "",
                    "path": session.config.path,
                    "first_line": max(1, chunk.start_line),
                    "names": names,
                    "trailing_expr": False,
                    "image_dir": "",  # nothing runs, no images
                }
            ],
            stop_on_error=False,
        )
    except Exception:
        return []
    values: list[Value] = []
    for result in results:
        if result["ev"] != "result":
            continue
        for wire in result["values"]:
            value = value_from_wire(wire)
            if value is not None:
                values.append(value)
    return values


def _clip(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[: cap - 1] + "…"


def format_facts(facts: Sequence[Value]) -> str:
    return "\n".join(f"{v.name} = {_clip(v.repr, MAX_VALUE_CHARS)}  ({v.type_name})" for v in facts)


def format_earlier(results: Sequence[ChunkResult]) -> str:
    """What the statements before the failing one printed or produced, newest last, bounded."""
    lines: list[str] = []
    for r in list(results)[-MAX_EARLIER:]:
        if r.skipped or not r.ok:
            continue
        produced = []
        out = (r.stdout + r.stderr).strip()
        if out:
            produced.append("printed " + _clip(out, MAX_OUTPUT_CHARS).replace("\n", "\\n"))
        if r.expr is not None:
            produced.append("value " + _clip(r.expr.repr, MAX_OUTPUT_CHARS))
        for v in r.values[:3]:
            produced.append(f"{v.name} = {_clip(v.repr, MAX_OUTPUT_CHARS // 2)}")
        if not produced:
            continue
        first = r.chunk.code.strip().splitlines()[0] if r.chunk.code.strip() else ""
        lines.append(f"line {r.chunk.start_line} `{_clip(first, 80)}`: " + "; ".join(produced))
    text = "\n".join(lines)
    return text if len(text) <= MAX_EARLIER_CHARS else "…\n" + text[-MAX_EARLIER_CHARS:]


# -- dropping repeats -------------------------------------------------------------------------


def repeated_statements(answer: str, ran: str) -> int:
    """How many top-level statements of `answer` repeat statements of `ran` (the measure the
    AI-loop benchmark reports for an unfiltered answer)."""
    done = {d for s in statements(ran) for d in (dumps(s) or [])}
    answer_dumps = [dumps(s) or [] for s in statements(answer)]
    return sum(1 for d in answer_dumps if d and all(x in done for x in d))


class RepeatFilter(StatementStream):
    """An async text stream: the model's answer minus the statements that already ran.

    Top-level statements are cut where a new line starts at column 0 and the text so far
    parses (an `else:`/`except:` line continues the statement). A statement is held back
    only while its text can still become one that ran (or the failing one); as soon as it
    differs it streams through unchanged, so the usual cost is a few characters of delay.

    With `leading_only` (a generation into a file: `ran` is the code above the insertion
    point) only the answer's opening echo of that code is dropped: from its first statement
    that repeats none and is no import, everything streams through as it arrives, repeats
    included (code that did new things may mean to run a line of the file again, such as
    `total = 0`). New imports do not end the echo: models put the imports they add first,
    then restate the file.
    """

    def __init__(
        self,
        source: TextStream | None,
        *,
        ran: str,
        failing: str,
        leading_only: bool = False,
        stats: RepairStats | None = None,
    ) -> None:
        super().__init__(source)
        self._leading_only = leading_only
        self._echo_over = False  # leading_only: a statement that is new and no import came
        self._through = False  # ... and it is being passed on: pieces pass as they come
        self.stats = stats if stats is not None else RepairStats()
        ran_statements = statements(ran)
        self._ran = {d for s in ran_statements for d in (dumps(s) or [])}
        self._failing = dumps(failing) or []
        self._candidates = [c for c in (norm(s) for s in (*ran_statements, failing)) if c]

    def _ended(self) -> bool:
        return self.stats.unchanged

    def feed(self, piece: str) -> str:
        if self._through:
            return piece
        if self.stats.unchanged:
            return ""
        out = super().feed(piece)
        if (
            self._leading_only
            and self._passing
            and not begins_with_import([*self._unit, self._partial])
        ):
            # The first statement that is no echo nor an import: what it has of an unfinished
            # line goes out now, and from here on the filter only counts (no holding back).
            out += self._partial[self._sent :]
            self._echo_over = self._through = True
            self._partial, self._unit = "", []
            self.stats.kept += 1
        return out

    def finish(self) -> str:
        if self.stats.unchanged or self._through:
            return ""
        return super().finish()

    def _may_hold(self, partial: str) -> bool:
        if self._echo_over:
            return False  # leading_only, past the echo: nothing is held back any more
        text = norm("".join(self._unit) + partial)
        return any(c.startswith(text) for c in self._candidates)

    def _passed(self, unit: list[str]) -> None:
        self.stats.kept += 1
        if self._leading_only and not begins_with_import(unit):
            self._echo_over = True  # (a piece that held more statements than this one)

    def _complete(self, text: str, trailing: list[str]) -> str:
        """Drop it (it ran), stop on it (the failing one, first), or pass it on."""
        text_dumps = dumps(text)
        if text_dumps is not None and self.stats.kept == 0 and text_dumps == self._failing:
            self.stats.unchanged = True
            return ""
        if text_dumps and all(d in self._ran for d in text_dumps):
            self.stats.dropped.append(text)
            self._unit = trailing  # held again, with the next statement
            return ""
        self.stats.kept += 1
        if self._leading_only and not begins_with_import(text.splitlines(keepends=True)):
            self._echo_over = True
        return text + "".join(trailing)
