"""Find the top-level statements of a streaming Python file the moment they become final.

A statement is final when no further text can change it: a simple statement at the end of its
logical line, a compound statement (or a decorated def/class) only when the first token of the
next top-level line is known and does not continue it (`else`, `elif`, `except`, `finally`), and
the last statement at the end of the stream. "It parses" is not "it is complete": `if x: a()`
parses before its `else:` arrives.

Cost per piece must not grow with the file, so a character-level scanner keeps just enough state
(string, bracket, f-string nesting, line start) and sees each character once; `compile` parses only
the candidate chunk, once, when it is released.

The running interpreter's grammar decides (`compile()`, not a third-party parser): a released
chunk is parsed with `ast` and compiled to bytecode, exactly as the worker will, so code this
Python rejects (PEP 695 on 3.11, `b'é'`, a bare `except:` before another handler, a top-level
`nonlocal`) is a syntax error at its line and nothing after it runs. The facts the gate needs
come from the same tree (core/analysis.py), and say whether the compile can be skipped: a
short chunk of plain simple statements (`x = f(1)`, `print(x)`), where the compiler rejects
nothing the parser accepted, is only parsed (about half the cost of the pair). When the
worker runs another Python version (`version=`), the scanner follows that version's f-string rules and a chunk this Python
rejects is released unchecked (`Chunk.checked` False): the worker's own compile reports the
error at its line, and the safe gate defers unchecked chunks, since it cannot judge them.
No exception escapes `feed()`/`end()`: anything unexpected becomes a syntax issue.
"""

from __future__ import annotations
import __future__

import ast
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from eager_lsp.core.analysis import ChunkFacts, analyze_tree, kind_of
from eager_lsp.core.types import Chunk, SyntaxIssue

# PEP 701 (3.12): f-strings nest quotes and may span lines inside their replacement fields.
# The default follows the running Python; a detector for another version sets its own.
PEP701 = sys.version_info >= (3, 12)
_HERE = (sys.version_info[0], sys.version_info[1])

_COMPOUND_HEADS = frozenset({"if", "for", "while", "try", "with", "def", "class", "async"})
_CONTINUES = {
    "if": frozenset({"elif", "else"}),
    "for": frozenset({"else"}),
    "while": frozenset({"else"}),
    "async": frozenset({"else"}),  # async for ... else; `async def ... else` fails to parse later
    "try": frozenset({"except", "else", "finally"}),
}
_CLAUSE_WORDS = frozenset({"elif", "else", "except", "finally"})
_DECORATED = frozenset({"def", "class", "async"})
_NO_CONTINUATION: frozenset[str] = frozenset()
_SPACE = " \t\f"
_PREFIX_CHARS = frozenset("rRbBuUfF")
_STRING_STOP = {
    (q, f): re.compile("[\\\\\r\n" + q + ("{}" if f else "") + "]") for q in "'\"" for f in (0, 1)
}
_COMMENT_STOP = re.compile("[\r\n]")
_WORD_TAIL = re.compile(r"\w*\Z")
_CODE_RUN = re.compile(r"[^\s'\"#\\()\[\]{}:\r\n\x0c]+")
# Code at top level (not in an f-string's replacement field) up to the next character that
# needs a decision: a quote, a comment, a backslash, a line break. Brackets in it only count.
_PLAIN_RUN = re.compile(r"[^'\"#\\\r\n]+")
_BRACKET = re.compile(r"[()\[\]{}]")
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")


def _is_ident(c: str) -> bool:
    return c.isalnum() or c == "_" or (c > "\x7f" and ("a" + c).isidentifier())


class _Str:
    """An open string literal; `fmt` marks a PEP 701 f-string, `spec` a format spec within one."""

    __slots__ = ("fmt", "quote", "spec", "triple")

    def __init__(self, quote: str, triple: bool, fmt: bool, spec: bool = False) -> None:
        self.quote = quote
        self.triple = triple
        self.fmt = fmt
        self.spec = spec


class _Code:
    """Code at some nesting: the module itself, or a PEP 701 f-string replacement field."""

    __slots__ = ("depth", "field")

    def __init__(self, field: bool) -> None:
        self.depth = 0  # open brackets
        self.field = field


# Scanner phases for the current physical line.
_INDENT, _WORD, _CODE, _COMMENT_LINE = range(4)


class LogicalLineScanner:
    """Character-level tokenizer state that reports logical-line starts and ends.

    `on_start(line_offset, line, indent, word, first)` fires when a logical line's first token
    is known (an identifier only once it has ended, so `el` is never mistaken for `else`);
    `on_end(offset, line, colon)` fires at the NEWLINE that ends a logical line (offset just
    after it). Either may set `stopped` to halt scanning. Each character is looked at once; at
    most two are held back when a decision needs lookahead (triple quotes, CRLF, doubled braces).
    """

    def __init__(
        self,
        on_start: Callable[[int, int, int, str, str], None],
        on_end: Callable[[int, int, bool], None],
    ) -> None:
        self.on_start = on_start
        self.on_end = on_end
        self.stack: list[_Code | _Str] = [_Code(field=False)]
        self.pos = 0  # absolute offset of the next character to scan
        self.line = 0  # 0-based physical line of `pos`
        self.line_start = 0  # absolute offset where that line starts
        self.phase = _INDENT
        self.indent = 0
        self.word: list[str] = []
        self.last = ""  # last significant character of the logical line
        self.ident_run = ""  # identifier characters just before `pos` (string prefixes)
        self.in_comment = False
        self.stopped = False
        self.pep701 = PEP701

    @property
    def in_logical_line(self) -> bool:
        return self.phase in (_WORD, _CODE)

    @property
    def nested(self) -> bool:
        """Inside a string or brackets: a newline here does not end the logical line."""
        return len(self.stack) > 1 or self.stack[0].depth > 0  # type: ignore[union-attr]

    def scan(self, data: str, final: bool) -> str:
        """Scan `data` (whose first character is at `pos`); return what needs more lookahead."""
        i, n = 0, len(data)
        while i < n and not self.stopped:
            step = self._step(data, i, final)
            if step == 0:
                break
            i += step
            self.pos += step
        if final and not self.stopped:
            self._finish()
        return data[i:]

    def _finish(self) -> None:
        if self.phase == _WORD:
            self._emit_start()
        if self.phase == _CODE and not self.nested:
            self.on_end(self.pos, self.line, self.last == ":")
            self.phase = _INDENT

    # One step: consume some characters starting at data[i]; 0 means "wait for more text".
    def _step(self, data: str, i: int, final: bool) -> int:
        phase = self.phase
        if phase == _INDENT:
            return self._step_indent(data, i, final)
        if phase == _COMMENT_LINE:
            return self._skip_comment(data, i, final, blank=True)
        if phase == _WORD:
            m = _ASCII_WORD.match(data, i)
            if m is not None:
                self.word.append(m.group())
                return m.end() - i
            c = data[i]
            if _is_ident(c):
                self.word.append(c)
                return 1
            self._emit_start()
            return 0 if self.stopped else self._step(data, i, final)
        top = self.stack[-1]
        if isinstance(top, _Str):
            return self._step_string(top, data, i, final)
        if self.in_comment:
            return self._skip_comment(data, i, final, blank=False)
        return self._step_code(top, data, i, final)

    def _newline_len(self, data: str, i: int, final: bool) -> int:
        """Length of the line break at data[i]: 1 or 2, -1 if none, 0 if undecidable yet."""
        c = data[i]
        if c == "\n":
            return 1
        if c != "\r":
            return -1
        if i + 1 < len(data):
            return 2 if data[i + 1] == "\n" else 1
        return 1 if final else 0

    def _new_line(self, size: int) -> None:
        self.line += 1
        self.line_start = self.pos + size

    def _step_indent(self, data: str, i: int, final: bool) -> int:
        c = data[i]
        if c == "\ufeff" and self.pos == 0:
            self.line_start = 1  # a byte-order mark is not code: compile() rejects it
            return 1
        if c in _SPACE:
            self.indent = 0 if c == "\f" else self.indent + 1
            return 1
        if c == "#":
            self.phase = _COMMENT_LINE
            return 1
        nl = self._newline_len(data, i, final)
        if nl > 0:
            self.indent = 0
            self._new_line(nl)
            return nl
        if nl == 0:
            return 0
        if c == "\\":
            # CPython skips a backslash-newline before a line's first token; the token (and
            # the statement) starts on the next physical line, indentation carried over.
            if i + 1 >= len(data) and not final:
                return 0
            nl = self._newline_len(data, i + 1, final) if i + 1 < len(data) else -1
            if nl == 0:
                return 0
            if nl > 0:
                self._new_line(1 + nl)
                return 1 + nl
        self.last = ""
        self.ident_run = ""
        if _is_ident(c):
            self.phase = _WORD
            self.word = [c]
            return 1
        self.word = []
        self._emit_start(c)
        return 0 if self.stopped else self._step(data, i, final)

    def _emit_start(self, first: str = "") -> None:
        word = "".join(self.word)
        self.phase = _CODE
        self.ident_run = word[-2:] if len(word) <= 2 else "xxx"
        if word:
            self.last = word[-1]
        self.on_start(self.line_start, self.line, self.indent, word, first or word[:1])

    def _skip_comment(self, data: str, i: int, final: bool, blank: bool) -> int:
        m = _COMMENT_STOP.search(data, i)
        if m is None:
            return len(data) - i
        if m.start() > i:
            return m.start() - i
        # At the line break: a comment-only line just ends; a code line's comment hands the
        # break back to the code scanner, which decides whether the logical line ends.
        if blank:
            nl = self._newline_len(data, i, final)
            if nl == 0:
                return 0
            self.indent = 0
            self.phase = _INDENT
            self._new_line(nl)
            return nl
        self.in_comment = False
        return self._step(data, i, final)

    def _step_code(self, top: _Code, data: str, i: int, final: bool) -> int:
        if not top.field:
            m = _PLAIN_RUN.match(data, i)
            if m is not None:
                return self._plain_run(top, m.group())
        c = data[i]
        m = _CODE_RUN.match(data, i)
        if m is not None:
            run = m.group()
            self.last = run[-1]
            self._track_ident(run)
            return len(run)
        if c in _SPACE:
            self.ident_run = ""
            return 1
        nl = self._newline_len(data, i, final)
        if nl == 0:
            return 0
        if nl > 0:
            return self._code_newline(nl)
        if c == "#":
            self.in_comment = True
            self.ident_run = ""
            return 1
        if c == "\\":
            return self._backslash(data, i, final)
        if c in "'\"":
            return self._open_string(c, data, i, final)
        self.ident_run = ""
        self.last = c
        if c in "([{":
            top.depth += 1
        elif c in ")]}":
            if top.field and top.depth == 0:
                self.stack.pop()  # `}` closes an f-string replacement field
            elif top.depth > 0:
                top.depth -= 1
        elif c == ":" and top.field and top.depth == 0:
            self.stack.append(_Str("", False, fmt=True, spec=True))
        return 1

    def _plain_run(self, top: _Code, run: str) -> int:
        """A run of `_PLAIN_RUN` outside f-string fields, taken at once: what the steps one
        character at a time would leave (brackets counted, never below zero; the last
        character that is not a space; the identifier characters at its end)."""
        brackets = _BRACKET.findall(run)
        if brackets:
            depth = top.depth
            for b in brackets:
                if b in "([{":
                    depth += 1
                elif depth > 0:
                    depth -= 1
            top.depth = depth
        significant = run.rstrip(_SPACE)
        if significant:
            self.last = significant[-1]
        if len(significant) == len(run):
            self._track_ident(run)
        else:
            self.ident_run = ""  # a space before the quote: no prefix
        return len(run)

    def _track_ident(self, run: str) -> None:
        """Remember a short identifier run right before a quote: it may be a string prefix."""
        # Only the last three characters matter: a longer identifier is no prefix ("xxx").
        tail = _WORD_TAIL.search(run, max(0, len(run) - 3))
        part = tail.group() if tail else ""
        if part == run:
            self.ident_run = (self.ident_run + part) if len(self.ident_run + part) <= 2 else "xxx"
        else:
            self.ident_run = part if len(part) <= 2 else "xxx"

    def _code_newline(self, nl: int) -> int:
        self.ident_run = ""
        if not self.nested:
            self.in_comment = False
            self.phase = _INDENT
            self.indent = 0
            colon = self.last == ":"
            self._new_line(nl)
            self.on_end(self.pos + nl, self.line - 1, colon)
            return nl
        self._new_line(nl)
        return nl

    def _backslash(self, data: str, i: int, final: bool) -> int:
        """A backslash before a line break joins the lines into one logical line."""
        if i + 1 >= len(data):
            return 1 if final else 0
        nl = self._newline_len(data, i + 1, final)
        if nl == 0:
            return 0
        if nl > 0:
            self._new_line(1 + nl)
            return 1 + nl
        self.last = "\\"
        return 1

    def _open_string(self, q: str, data: str, i: int, final: bool) -> int:
        ahead = data[i + 1 : i + 3]
        if len(ahead) < 2 and not final and (ahead == "" or ahead == q):
            return 0
        prefix = self.ident_run
        fmt = self.pep701 and "f" in prefix.lower() and all(p in _PREFIX_CHARS for p in prefix)
        self.ident_run = ""
        self.last = q
        if ahead == q + q:
            self.stack.append(_Str(q, True, fmt))
            return 3
        if ahead[:1] == q:
            return 2  # an empty string
        self.stack.append(_Str(q, False, fmt))
        return 1

    def _step_string(self, top: _Str, data: str, i: int, final: bool) -> int:
        if top.spec:
            return self._step_spec(data, i, final)
        m = _STRING_STOP[top.quote, int(top.fmt)].search(data, i)
        if m is None:
            return len(data) - i
        if m.start() > i:
            return m.start() - i
        c = data[i]
        if c == "\\":
            if i + 1 >= len(data):
                return 1 if final else 0
            nl = self._newline_len(data, i + 1, final)
            if nl == 0:
                return 0
            if nl > 0:
                self._new_line(1 + nl)
                return 1 + nl
            return 2
        if c == top.quote:
            return self._close_string(top, data, i, final)
        if c in "{}":
            return self._fstring_brace(c, data, i, final)
        nl = self._newline_len(data, i, final)
        if nl == 0:
            return 0
        if top.triple:
            self._new_line(nl)
            return nl
        self.stack.pop()  # unterminated: the line break ends it; compile() will report the error
        return 0 if self.stopped else self._step(data, i, final)

    def _close_string(self, top: _Str, data: str, i: int, final: bool) -> int:
        if not top.triple:
            self.stack.pop()
            self.last = top.quote
            return 1
        ahead = data[i + 1 : i + 3]
        if len(ahead) < 2 and not final and ahead in ("", top.quote):
            return 0
        if ahead == top.quote * 2:
            self.stack.pop()
            self.last = top.quote
            return 3
        return 1

    def _fstring_brace(self, c: str, data: str, i: int, final: bool) -> int:
        if i + 1 >= len(data) and not final:
            return 0
        if data[i + 1 : i + 2] == c:
            return 2  # `{{` or `}}`: a literal brace
        if c == "{":
            self.stack.append(_Code(field=True))
        return 1

    def _step_spec(self, data: str, i: int, final: bool) -> int:
        """A format spec (`{x:>{w}}`): literal text until `}`, with nested fields."""
        c = data[i]
        if c == "{":
            self.stack.append(_Code(field=True))
            return 1
        if c == "}":
            self.stack.pop()  # the spec
            self.stack.pop()  # the replacement field it belongs to
            return 1
        nl = self._newline_len(data, i, final)
        if nl == 0:
            return 0
        if nl > 0:
            self._new_line(nl)
            return nl
        return 1


class _Text:
    """The fed text still needed, as a list of pieces: appending never copies."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.base = 0  # absolute offset of parts[0][0]
        self.size = 0  # absolute offset of the end

    def append(self, piece: str) -> None:
        self.parts.append(piece)
        self.size += len(piece)

    def slice(self, start: int, end: int) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0][start - self.base : end - self.base] if self.parts else ""

    def discard_before(self, offset: int) -> None:
        """Forget the text before `offset`: whole pieces without copying, and the head of the
        piece it falls in (a copy of what is still needed, never of the whole stream; without
        it, compound statements that follow one another kept the joined stream alive)."""
        drop = 0
        base = self.base
        for part in self.parts:
            if base + len(part) > offset:
                break
            base += len(part)
            drop += 1
        if drop:
            del self.parts[:drop]
            self.base = base
        if self.parts and offset > self.base:
            self.parts[0] = self.parts[0][offset - self.base :]
            self.base = offset


@dataclass
class _Pending:
    """The top-level statement being collected."""

    start: int  # absolute offset of its first line
    line: int  # 0-based stream line of its first line
    head: str  # first word, or "" when it starts with another token
    compound: bool
    decorating: bool
    indent: int
    end: int = -1  # absolute offset just after its last logical line, -1 while none ended
    end_line: int = -1
    lines_ended: int = 0


class BoundaryDetector:
    """Release each top-level statement of a stream as soon as it is final (see module doc)."""

    def __init__(
        self,
        *,
        first_line: int = 1,
        clock: Callable[[], float] = time.monotonic,
        version: tuple[int, int] | None = None,
        keep_trees: bool = False,
    ) -> None:
        self._first_line = first_line
        self._clock = clock
        self._text = _Text()
        self._scanner = LogicalLineScanner(self._on_start, self._on_end)
        # The worker's Python, when it is not this one: its grammar decides (module doc).
        self._foreign = version is not None and tuple(version[:2]) != _HERE
        if version is not None:
            self._scanner.pep701 = tuple(version[:2]) >= (3, 12)
        self._future_flags = 0  # `from __future__ import ...` in a chunk holds for the next
        self._carry = ""
        self._pending: _Pending | None = None
        self._released: list[Chunk] = []
        self._index = 0
        self._error: SyntaxIssue | None = None
        self._ended = False
        # Released chunks' syntax trees, until `take_tree` (the parallel gate's planner
        # analyses each chunk again: it need not parse it again).
        self._trees: dict[int, ast.Module] | None = {} if keep_trees else None

    @property
    def error(self) -> SyntaxIssue | None:
        return self._error

    @property
    def offset(self) -> int:
        return self._text.size

    @property
    def buffered(self) -> int:
        """Characters of the stream still held (for tests: bounded by the open statement)."""
        return sum(map(len, self._text.parts)) + len(self._carry)

    def feed(self, piece: str) -> list[Chunk]:
        """Scan one more piece of text; return the chunks that became final, in order."""
        if self._error is not None or self._ended or not piece:
            return []
        try:
            self._text.append(piece)
            self._carry = self._scanner.scan(self._carry + piece, final=False)
            if self._pending is None and self._error is None:
                self._text.discard_before(self._scanner.line_start)
        except Exception as exc:  # a bug here must not take the stream (or the server) down
            self._internal_error(exc)
        return self._take()

    def end(self) -> list[Chunk]:
        """End of stream: whatever remains is final now (an error if it does not parse)."""
        if self._error is not None or self._ended:
            return []
        self._ended = True
        try:
            self._scanner.scan(self._carry, final=True)
            self._carry = ""
            if self._pending is not None and self._error is None:
                self._release(self._pending, at_end=True)
        except Exception as exc:
            self._internal_error(exc)
        return self._take()

    def take_tree(self, index: int) -> ast.Module | None:
        """The tree of released chunk `index`, once (with `keep_trees`; None when the chunk
        was not compiled here or was taken already). Read it, do not change it."""
        return self._trees.pop(index, None) if self._trees is not None else None

    def _internal_error(self, exc: Exception) -> None:
        if self._error is None:
            pending = self._pending
            line = pending.line if pending is not None else self._scanner.line
            self._fail(line, 0, f"cannot read this code ({type(exc).__name__}: {exc})")

    def _take(self) -> list[Chunk]:
        out, self._released = self._released, []
        return out

    # Scanner callbacks
    def _on_start(self, offset: int, line: int, indent: int, word: str, first: str) -> None:
        pending = self._pending
        if indent > 0:
            if pending is None:
                self._pending = _Pending(offset, line, word, False, False, indent)
            return
        if pending is not None:
            if self._continues(pending, word, first):
                return
            self._release(pending, ended_by=line)
            if self._error is not None:
                return
        if word in _CLAUSE_WORDS:
            self._fail(line, 0, f"'{word}' does not continue any statement")
            return
        decorating = first == "@"
        compound = decorating or word in _COMPOUND_HEADS
        self._pending = _Pending(offset, line, word, compound, decorating, 0)

    def _continues(self, pending: _Pending, word: str, first: str) -> bool:
        if pending.decorating:
            if word in _DECORATED:
                pending.decorating = False
                pending.head = word
                return True
            return first == "@"
        if not pending.compound:
            return False
        return word in _CONTINUES.get(pending.head, _NO_CONTINUATION)

    def _on_end(self, offset: int, line: int, colon: bool) -> None:
        pending = self._pending
        if pending is None:
            return
        pending.end = offset
        pending.end_line = line
        pending.lines_ended += 1
        if pending.indent > 0:
            self._fail(pending.line, pending.indent, "unexpected indent")
            return
        if pending.lines_ended == 1 and colon:
            pending.compound = True  # `match x:` and other soft-keyword blocks
        if not pending.compound:
            self._release(pending)

    # Release and validation
    def _release(
        self, pending: _Pending, at_end: bool = False, ended_by: int | None = None
    ) -> None:
        """Validate and emit `pending`; `ended_by` is the line whose first token ended it."""
        self._pending = None
        if pending.end < 0 or (at_end and self._scanner.in_logical_line):
            # The stream ended inside the statement's last logical line (open bracket, string).
            end, end_line = self._text.size, self._scanner.line
        else:
            end, end_line = pending.end, pending.end_line
        code = self._text.slice(pending.start, end)
        if not code.endswith(("\n", "\r")):
            code += "\n"
        self._text.discard_before(end)
        checked = True
        try:
            tree, facts = self._compile(code)
        except _Rejected as rejected:
            if not self._foreign:
                self._fail_at(pending, end_line, code, rejected, ended_by)
                return
            # Another Python runs this chunk: its compile decides and reports (module doc).
            checked = False
            facts = ChunkFacts(_guess_kind(pending.head), (), (), (), (), False)
        else:
            if self._trees is not None:
                self._trees[self._index] = tree
        self._released.append(
            Chunk(
                index=self._index,
                start_line=self._first_line + pending.line,
                end_line=self._first_line + end_line,
                code=code,
                released_offset=self._text.size,
                released_at=self._clock(),
                kind=facts.kind,
                binds=facts.binds,
                reads=facts.reads,
                modules=facts.modules,
                calls=facts.calls,
                trailing_expr=facts.trailing_expr,
                checked=checked,
                facts=facts,
            )
        )
        self._index += 1

    def _compile(self, code: str) -> tuple[ast.Module, ChunkFacts]:
        """Parse and compile `code` as the worker will, and read its facts; `_Rejected` says
        why it cannot run. A short chunk of plain statements (`ChunkFacts.plain`) is only
        parsed: the compiler rejects nothing the parser built there, and the bytecode
        compile cost about as much as the parse."""
        flags = self._future_flags
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings about code not yet run
                tree = compile(code, "<chunk>", "exec", ast.PyCF_ONLY_AST | flags, True)
                assert isinstance(tree, ast.Module)
                facts = _facts(tree)
                if not (facts.plain and _plain_text(code)):
                    # From source, as the worker compiles it: the AST is not the whole
                    # grammar (the compiler rejects a top-level `nonlocal`, `return` outside
                    # a function, a bare `except:` before another), and compiling an AST
                    # *object* has stricter depth limits than source (a 1,000-term sum).
                    compile(code, "<chunk>", "exec", flags, True)
        except SyntaxError as err:
            raise _Rejected(
                err.msg, err.lineno, err.offset, parsed=False, kind=type(err).__name__
            ) from None
        except (UnicodeError, ValueError) as exc:
            # Lone surrogates, NUL characters: find the character's line.
            at = getattr(exc, "start", None)
            if at is None:
                at = code.find("\x00")
            line = code.count("\n", 0, at) + 1 if at is not None and at >= 0 else 1
            raise _Rejected(f"{type(exc).__name__}: {exc}", line, 1, parsed=True) from None
        except (RecursionError, MemoryError, OverflowError) as exc:
            raise _Rejected(f"too complex for this Python ({exc})", 1, 1, parsed=True) from None
        for stmt in tree.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                for alias in stmt.names:
                    feature = getattr(__future__, alias.name, None)
                    self._future_flags |= getattr(feature, "compiler_flag", 0)
        return tree, facts

    def _fail_at(
        self,
        pending: _Pending,
        end_line: int,
        code: str,
        rejected: _Rejected,
        ended_by: int | None,
    ) -> None:
        lines = end_line - pending.line + 1
        line, column, message, kind = _locate(code, rejected, followed=ended_by is not None)
        if line > lines and ended_by is not None:
            # Incomplete (`try:` body with no `except`): CPython blames the next token.
            self._fail(ended_by, 0, message, kind)
        else:
            self._fail(pending.line + max(min(line, lines), 1) - 1, column, message, kind)

    def _fail(self, line: int, column: int, message: str, kind: str = "SyntaxError") -> None:
        """Record an unfixable error at a 0-based stream line; nothing after it is released."""
        self._pending = None
        self._error = SyntaxIssue(
            line=self._first_line + line, column=column, message=message, kind=kind
        )
        self._scanner.stopped = True


class _Rejected(Exception):
    """This Python will not compile the chunk: where (1-based line, 1-based offset) and why."""

    def __init__(
        self,
        message: str,
        line: int | None,
        offset: int | None,
        parsed: bool,
        kind: str = "SyntaxError",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # IndentationError and TabError are named as Python names them
        self.line = line or 1
        self.column = max((offset or 1) - 1, 0)
        self.parsed = parsed  # the parser accepted it: a later stage (or the input) failed


_PLAIN_MAX = 1000  # characters: a longer chunk compiles in full (the compiler's depth limits)


def _plain_text(code: str) -> bool:
    """The text half of the plain test: short, ASCII (the parser folds look-alike letters
    into ASCII names by NFKC, so `__ｄebug__` is `__debug__` to the compiler), and without
    `__debug__`, which the compiler will not let code bind."""
    return len(code) <= _PLAIN_MAX and code.isascii() and "__debug__" not in code


def _facts(tree: ast.Module) -> ChunkFacts:
    """Analysis is advisory: a failure on odd code must not stop the stream."""
    try:
        return analyze_tree(tree)
    except Exception:
        return ChunkFacts(kind_of(tree.body), (), (), (), (), False)


def _guess_kind(head: str) -> str:
    if head in ("def", "async"):
        return "def" if head == "def" else "compound"
    if head == "class":
        return "class"
    if head in _COMPOUND_HEADS:
        return "compound"
    if head in ("import", "from"):
        return "import"
    return "simple"


def _locate(code: str, rejected: _Rejected, followed: bool) -> tuple[int, int, str, str]:
    """Where a chunk's syntax error is (1-based line, 0-based column), what it says and what
    kind it is (SyntaxError, IndentationError, TabError).

    When a following top-level statement ended the chunk and the parser rejected it, parse it
    again with a stand-in for that statement: an incomplete chunk (`try:` without `except`)
    then fails on the line after its last, as in the whole file, while `class C` without a
    colon still fails on its own line.
    """
    if followed and not rejected.parsed:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(code + "pass\n")
        except SyntaxError as err:
            if err.lineno is not None:
                return err.lineno, max((err.offset or 1) - 1, 0), err.msg, type(err).__name__
        except Exception:
            pass
    return rejected.line, rejected.column, rejected.message, rejected.kind
