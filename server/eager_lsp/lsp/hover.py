"""`textDocument/hover` on a line that ran: the statement's full values, output and traceback.

Inlay hints carry one short label per statement; the hover is where the whole result is read.
Every part is bounded here (HOVER_* below are the only size limits of the hover), because a
value's repr, a traceback or a chunk's output can each be large and an editor renders the whole
Markdown string at once. Clients that draw values and their hover themselves (the VS Code
extension, `inline.decorations`) are served no hover, so a value is shown once per editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eager_lsp.core.types import Value
from eager_lsp.lsp.store import Entry

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document

HOVER_LIMIT = 12_000  # characters of Markdown in one hover
HOVER_BLOCK_LIMIT = 4_000  # characters of one value, output stream or traceback


def entry_at(doc: Document, line: int) -> Entry | None:
    """The result shown on `line`: the statement spanning it, or the error placed on it."""
    for e in doc.store.entries:
        if e.error_line == line:
            return e
    for e in doc.store.entries:
        if e.first <= line <= e.last:
            return e
    return None


def fence(body: str, lang: str = "") -> str:
    """A fenced block that the body cannot break out of, cut to HOVER_BLOCK_LIMIT."""
    body = body.rstrip()
    if len(body) > HOVER_BLOCK_LIMIT:
        body = body[:HOVER_BLOCK_LIMIT] + f"\n… ({len(body) - HOVER_BLOCK_LIMIT} more characters)"
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


def hover_markdown(doc: Document, e: Entry) -> str:
    lines = f"line {e.first + 1}" if e.first == e.last else f"lines {e.first + 1}–{e.last + 1}"
    head = [f"**eager** · {lines}"]
    if e.syntax is not None:
        return "\n\n".join([head[0], f"**SyntaxError**: {e.syntax.message}"])
    r = e.result
    assert r is not None
    elapsed = e.timings.get("elapsedMs")
    if elapsed is not None and not r.skipped:
        head.append(f"{elapsed:.1f} ms" if elapsed < 1000 else f"{elapsed / 1000:.2f} s")
    if r.skipped:
        head.append("skipped (not run: an earlier statement failed or the run stopped)")
    blocks = [" · ".join(head)]
    for v in r.values:
        blocks += _value_blocks(v, f"**{v.name}**")
    if r.expr is not None:
        blocks += _value_blocks(r.expr, "**→**")
    if r.stdout:
        blocks += ["**stdout**", fence(r.stdout, "text")]
    if r.stderr:
        blocks += ["**stderr**", fence(r.stderr, "text")]
    for image in r.images:  # PNG files; an editor that can show images draws them itself
        blocks.append(
            f"**{image.label or 'image'}** (PNG, {image.size // 1024 + 1} KiB): `{image.path}`"
        )
    if r.error is not None:
        err = r.error
        blocks.append(f"**{err.type}**: {err.message}" if err.message else f"**{err.type}**")
        if err.traceback:
            blocks.append(fence(err.traceback, "text"))
    return _join_bounded(blocks)


def _join_bounded(blocks: list[str]) -> str:
    """Whole blocks only (a cut fence would swallow the rest), up to HOVER_LIMIT."""
    out: list[str] = []
    used = 0
    for i, block in enumerate(blocks):
        if used + len(block) + 2 > HOVER_LIMIT:
            out.append(f"… ({len(blocks) - i} more parts: see the output)")
            break
        out.append(block)
        used += len(block) + 2
    return "\n\n".join(out)
