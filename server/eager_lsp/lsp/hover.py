"""`textDocument/hover` on a line that ran: the statement's full values, output and traceback;
on a statement still running, how long it has run and the end of what it printed so far.
Also `eager.resultDetail`'s answer on a statement still running (`running_detail`).

Inlay hints carry one short label per statement; the hover is where the whole result is read.
Every part is bounded here (HOVER_* below are the only size limits of the hover), because a
value's repr, a traceback or a chunk's output can each be large and an editor renders the whole
Markdown string at once. Clients that draw values and their hover themselves (the VS Code
extension, `inline.decorations`) are served no hover, so a value is shown once per editor.

A statement still running (lsp/running.py) is shown in place of any earlier result at its
lines, as the VS Code extension draws it; once its result is in, the hover is the result's.
`eager.resultDetail` answers the same way: a statement running at the line is what it
describes (`running: true`), with the end of each stream it kept, never an earlier result.
A block too long for the hover keeps its end when it is output or a traceback (where the last
progress, the error and the exception are), saying how much above it is left out; a value keeps
its start. Output, running or in a result, is shown each line as a terminal shows
it: the text after its last carriage return, so a progress bar that redraws itself is one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from eager_lsp.core.run import ended_by_user
from eager_lsp.core.types import Value
from eager_lsp.limits import PAYLOAD_CAP, json_size
from eager_lsp.lsp.payloads import RunningDetail
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.text import screen_line

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.running import Running, Tail

HOVER_LIMIT = 12_000  # characters of Markdown in one hover
HOVER_BYTES = PAYLOAD_CAP - 1024  # bytes of JSON of its blocks (room for the response's own)
HOVER_BLOCK_LIMIT = 4_000  # characters of one value, output stream or traceback


def markdown_at(doc: Document, line: int) -> str | None:
    """The hover on `line`: the statement running there, else the result shown there."""
    running = doc.running.at(line)
    if running is not None:
        return running_markdown(*running)
    entry = entry_at(doc, line)
    return hover_markdown(doc, entry) if entry is not None else None


def entry_at(doc: Document, line: int) -> Entry | None:
    """The result shown on `line`: the statement spanning it, or the error placed on it."""
    for e in doc.store.entries:
        if e.error_line == line:
            return e
    for e in doc.store.entries:
        if e.first <= line <= e.last:
            return e
    return None


def running_detail(doc: Document, line: Any) -> RunningDetail | None:
    """`eager.resultDetail` on `line` while a statement runs there: its lines now, for how
    long it has run, and the end of each stream it printed so far (None when none runs there,
    or `line` is no line number: publish.detail_at answers, or refuses, then)."""
    if isinstance(line, bool) or not isinstance(line, int):
        return None
    found = doc.running.at(line)
    if found is None:
        return None
    running, first, last = found
    return RunningDetail(
        uri=doc.uri,
        version=doc.version,
        running=True,
        startLine=first,
        endLine=last,
        elapsedS=round(running.elapsed(), 3),
        stdout=running.stdout.text,
        stderr=running.stderr.text,
        stdoutBefore=running.stdout.before,
        stderrBefore=running.stderr.before,
    )


def fence(body: str, lang: str = "", keep: Literal["head", "tail"] = "head") -> str:
    """A fenced block that the body cannot break out of, cut to HOVER_BLOCK_LIMIT: its start
    kept (a value), or its end (`keep="tail"`: output, a traceback), with a line that says
    how much was left out."""
    body = body.rstrip()
    if len(body) > HOVER_BLOCK_LIMIT:
        if keep == "tail":
            end = body[-HOVER_BLOCK_LIMIT:]
            start = end.find("\n")  # from a line's start, when one is near
            if 0 <= start < HOVER_BLOCK_LIMIT // 4:
                end = end[start + 1 :]
            body = f"… ({len(body) - len(end)} characters above not shown)\n{end}"
        else:
            body = (
                body[:HOVER_BLOCK_LIMIT] + f"\n… ({len(body) - HOVER_BLOCK_LIMIT} more characters)"
            )
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}{lang}\n{body}\n{ticks}"


def _code(s: str) -> str:
    return "`" + s.replace("`", "'") + "`"


def _value_blocks(v: Value, label: str) -> list[str]:
    head = f"{label}: {_code(v.type_name)}" if v.type_name else label
    if v.table:  # a data frame: its head as a table (the worker bounded and escaped it)
        return [f"{head} · {v.summary}", v.table]
    return [head, fence(v.repr or v.summary, "python")]


def _lines(first: int, last: int) -> str:
    return f"line {first + 1}" if first == last else f"lines {first + 1}–{last + 1}"


def running_markdown(running: Running, first: int, last: int) -> str:
    """A statement still running at lines first..last: for how long, and its latest output."""
    blocks = [f"**eager** · {_lines(first, last)} · running for {_duration(running.elapsed())}"]
    for name, tail in (("stdout", running.stdout), ("stderr", running.stderr)):
        if tail.text:
            blocks += _tail_blocks(name, tail)
    if len(blocks) == 1:
        blocks.append("no output yet")
    return _join_bounded(blocks)


def _tail_blocks(name: str, tail: Tail) -> list[str]:
    text = tail.text[-HOVER_BLOCK_LIMIT:]
    before = tail.before + len(tail.text) - len(text)
    label = f"**{name}** so far"
    if before:
        label += f" (its last {len(text)} characters; {before} characters before them)"
    return [label, fence(_as_terminal_shows(text), "text")]


def _as_terminal_shows(text: str) -> str:
    """Each line as its text after its last carriage return (one just before the line
    break is part of the break: Windows line ends)."""
    return "\n".join(screen_line(line) for line in text.split("\n"))


def _duration(seconds: float) -> str:
    """30 ms, 4.2 s, 2 min 5 s (one decimal of a second read "0.0 s" for a statement just
    started; Neovim's `handlers.duration` has the same rule)."""
    if seconds < 0.0995:
        return f"{round(max(0.0, seconds) * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def hover_markdown(doc: Document, e: Entry) -> str:
    head = [f"**eager** · {_lines(e.first, e.last)}"]
    if e.syntax is not None:
        return "\n\n".join([head[0], f"**SyntaxError**: {e.syntax.message}"])
    r = e.result
    assert r is not None
    elapsed = e.timings.get("elapsedMs")
    if elapsed is not None and not r.skipped:
        head.append(f"{elapsed:.1f} ms" if elapsed < 1000 else f"{elapsed / 1000:.2f} s")
    if r.skipped:
        head.append("skipped (not run: an earlier statement failed or the run stopped)")
    elif ended_by_user(r):  # its KeyboardInterrupt or lost interpreter is not the code's error
        head.append("interrupted")
    blocks = [" · ".join(head)]
    for v in r.values:
        blocks += _value_blocks(v, f"**{v.name}**")
    if r.expr is not None:
        blocks += _value_blocks(r.expr, "**→**")
    if r.stdout:
        blocks += ["**stdout**", fence(_as_terminal_shows(r.stdout), "text", "tail")]
    if r.stderr:
        blocks += ["**stderr**", fence(_as_terminal_shows(r.stderr), "text", "tail")]
    for image in r.images:  # PNG files; an editor that can show images draws them itself
        blocks.append(
            f"**{image.label or 'image'}** (PNG, {image.size // 1024 + 1} KiB): `{image.path}`"
        )
    if r.error is not None:
        err = r.error
        blocks.append(f"**{err.type}**: {err.message}" if err.message else f"**{err.type}**")
        if err.traceback:
            blocks.append(fence(err.traceback, "text", "tail"))
    return _join_bounded(blocks)


def _join_bounded(blocks: list[str]) -> str:
    """Whole blocks only (a cut fence would swallow the rest), up to HOVER_LIMIT characters
    and PAYLOAD_CAP bytes of JSON (12,000 characters of emoji escape to 144 KB)."""
    out: list[str] = []
    used = size = 0
    for i, block in enumerate(blocks):
        block_size = json_size(block)
        if used + len(block) + 2 > HOVER_LIMIT or size + block_size > HOVER_BYTES:
            out.append(f"… ({len(blocks) - i} more parts: see the output)")
            break
        out.append(block)
        used += len(block) + 2
        size += block_size
    return "\n\n".join(out)
