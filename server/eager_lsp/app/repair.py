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

import ast
import builtins
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from eager_lsp.core.results import value_from_wire
from eager_lsp.core.text_lines import blank_or_comment
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

CONTINUATION_WORDS = frozenset({"else", "elif", "except", "finally"})
_WORD = re.compile(r"[A-Za-z_]\w*")


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


def _norm(text: str) -> str:
    """Text for a cheap "could this still become that statement?" test: comments (naively, up
    to the end of the line) and all whitespace removed. Only used to decide what to hold
    back; the real comparison is `ast.dump`."""
    out = []
    for line in text.splitlines():
        hash_at = line.find("#")
        out.append(line if hash_at < 0 else line[:hash_at])
    return re.sub(r"\s+", "", "".join(out))


def _dumps(text: str) -> list[str] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return [ast.dump(stmt) for stmt in tree.body]


def _statements(code: str) -> list[str]:
    """The source of each top-level statement of `code` (empty when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    lines = code.splitlines(keepends=True)
    out = []
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        end = stmt.end_lineno or stmt.lineno
        out.append("".join(lines[first - 1 : end]))
    return out


def repeated_statements(answer: str, ran: str) -> int:
    """How many top-level statements of `answer` repeat statements of `ran` (the measure the
    AI-loop benchmark reports for an unfiltered answer)."""
    done = {d for s in _statements(ran) for d in (_dumps(s) or [])}
    dumps = [_dumps(s) or [] for s in _statements(answer)]
    return sum(1 for d in dumps if d and all(x in done for x in d))


def _begins_with_import(lines: Sequence[str]) -> bool:
    """Do `lines` (a statement, its last line perhaps unfinished) begin with an import, or may
    they still (the first word not yet complete, or nothing but blank lines and comments)?"""
    for line in lines:
        if blank_or_comment(line):
            continue
        word = _WORD.match(line)
        if word is None:
            return False
        if word.end() == len(line):  # still being written: "im", "fro"
            return "import".startswith(word.group()) or "from".startswith(word.group())
        return word.group() in ("import", "from")
    return True


class RepeatFilter:
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
        self, source: TextStream, *, ran: str, failing: str, leading_only: bool = False
    ) -> None:
        self.source = source
        self._leading_only = leading_only
        self._echo_over = False  # leading_only: a statement that is new and no import came
        self._through = False  # ... and it is being passed on: pieces pass as they come
        self.stats = RepairStats()
        self._ran = {d for s in _statements(ran) for d in (_dumps(s) or [])}
        self._failing = _dumps(failing) or []
        self._candidates = [_norm(s) for s in (*_statements(ran), failing)]
        self._candidates = [c for c in self._candidates if c]
        self._unit: list[str] = []  # complete lines of the current statement
        self._has_code = False
        self._passing = False  # the current statement differs from all: stream it through
        self._partial = ""  # the current line, not yet complete
        self._partial_sent = 0  # characters of it already passed on

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        async for piece in self.source:
            out = self.feed(piece)
            if out:
                yield out
            if self.stats.unchanged:
                return
        out = self.finish()
        if out:
            yield out

    async def aclose(self) -> None:
        close = getattr(self.source, "aclose", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:  # usage, timings, … of the underlying stream
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)

    # -- the text machine ---------------------------------------------------------------------
    def feed(self, piece: str) -> str:
        if self._through:
            return piece
        if self.stats.unchanged:
            return ""
        self._partial += piece
        out: list[str] = []
        while "\n" in self._partial and not self.stats.unchanged:
            line, self._partial = self._partial.split("\n", 1)
            out.append(self._line(line + "\n"))
        if not self.stats.unchanged:
            out.append(self._peek())
        if self._leading_only and self._passing and not self._is_import(self._partial):
            # The first statement that is no echo nor an import: what it has of an unfinished
            # line goes out now, and from here on the filter only counts (no holding back).
            out.append(self._partial[self._partial_sent :])
            self._echo_over = self._through = True
            self._partial, self._unit = "", []
            self.stats.kept += 1
        return "".join(out)

    def _is_import(self, partial: str) -> bool:
        """Does the current statement (its lines, then `partial`) begin with an import, or
        may it still (its first word not yet complete)?"""
        return _begins_with_import([*self._unit, partial])

    def finish(self) -> str:
        if self.stats.unchanged or self._through:
            return ""
        out = ""
        if self._partial:
            line, self._partial = self._partial, ""
            out += self._line(line)
        return out + self._close()

    def _starts_statement(self, line: str) -> bool:
        """Does `line` (at column 0) begin a new statement after the current one?"""
        if not self._has_code or line[:1] in ("", " ", "\t", "#", "\n", "\r", ")", "]", "}"):
            return False
        word = _WORD.match(line)
        if word is not None and word.group() in CONTINUATION_WORDS:
            return False
        return _dumps("".join(self._unit)) is not None

    def _line(self, line: str) -> str:
        out = ""
        if self._starts_statement(line):
            out += self._close()
            if self.stats.unchanged:
                return out
        sent, self._partial_sent = self._partial_sent, 0
        self._unit.append(line)
        if not blank_or_comment(line):
            self._has_code = True
        if self._passing:
            return out + line[sent:]
        if not self._could_repeat(""):
            self._passing = True
            return out + "".join(self._unit)
        return out

    def _peek(self) -> str:
        """Pass on the unfinished line when it surely belongs to a statement being passed."""
        p = self._partial
        if not p:
            return ""
        if self._has_code and p[:1] not in (" ", "\t", ")", "]", "}"):
            word = _WORD.match(p)
            undecided = word is None or word.end() == len(p)
            may_start = undecided or (word is not None and word.group() not in CONTINUATION_WORDS)
            if may_start and _dumps("".join(self._unit)) is not None:
                return ""  # may start the next statement: wait for the whole line
        if self._passing:
            out = p[self._partial_sent :]
            self._partial_sent = len(p)
            return out
        if not self._could_repeat(p):
            self._passing = True
            self._partial_sent = len(p)
            return "".join(self._unit) + p
        return ""

    def _could_repeat(self, partial: str) -> bool:
        if self._echo_over:
            return False  # leading_only, past the echo: nothing is held back any more
        text = _norm("".join(self._unit) + partial)
        return any(c.startswith(text) for c in self._candidates)

    def _close(self) -> str:
        """The current statement is complete: drop it, stop on it, or pass it on."""
        unit, passing, has_code = self._unit, self._passing, self._has_code
        self._unit, self._passing, self._has_code = [], False, False
        if passing:
            self.stats.kept += 1
            if self._leading_only and not _begins_with_import(unit):
                self._echo_over = True  # (a piece that held more statements than this one)
            return ""
        if not has_code:
            return "".join(unit)
        # Comments and blank lines after the code belong to whatever follows.
        cut = len(unit)
        while cut > 0 and blank_or_comment(unit[cut - 1]):
            cut -= 1
        body, trailing = unit[:cut], unit[cut:]
        text = "".join(body)
        dumps = _dumps(text)
        if dumps is not None and self.stats.kept == 0 and dumps == self._failing:
            self.stats.unchanged = True
            return ""
        if dumps and all(d in self._ran for d in dumps):
            self.stats.dropped.append(text)
            self._unit = trailing  # held again, with the next statement
            return ""
        self.stats.kept += 1
        if self._leading_only and not _begins_with_import(body):
            self._echo_over = True
        return text + "".join(trailing)
