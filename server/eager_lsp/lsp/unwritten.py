"""After a generation stopped without writing all it ran (issue 10): take the statements that
ran but never reached the document out of the interpreter.

The server runs the model's text as it arrives and writes it behind; an edit inside the
generated text (or an edit the editor would not apply) stops the writing, so statements may
have run whose text is not in the document. Their names would stay in the namespace (code
that uses them works here and fails anywhere else), and a written statement's variable may
hold the value an unwritten one gave it. Rules:
- The text the namespace must match is the text as the generation wrote it: the document's
  lines above the generated code when its stream started, then the generated text that was
  written (`Writer.applied_text`). The user's edit inside the region, and anything typed
  since, is never run: code runs only when the user asks. `core/rerun.drop_unwritten` plans
  with `core/dependencies.plan` over the statements that ran only. A written statement the
  user has deleted since counts as not written (core/deleted.py): it never runs again here.
- The statements this stream recorded that are not in that text leave the namespace (their
  names are deleted) and the ledger; written statements whose names they changed, or that
  read them, run again, and their results replace the old ones, except on lines the user
  has edited since (those show nothing new).
- It runs inside the generation's activity, after the stream's run was cancelled (that
  cancel awaits the interrupt of a running statement), so nothing else runs on the
  interpreter meanwhile; `Generation.stop` cancels it, which interrupts what it runs, so an
  activity that replaces the generation never waits long and never runs beside it; a stop
  asked before it began skips it (the message says so).
- What happened is said in a few words, appended to the stop's reason: "removed 2
  statements that ran but were not written; re-ran 1 they changed".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from eager_lsp.core.ledger import code_key
from eager_lsp.core.rerun import RerunReport, drop_unwritten
from eager_lsp.core.types import failure_text
from eager_lsp.lsp.runs import LineMap, RunBinding
from eager_lsp.lsp.store import Entry

if TYPE_CHECKING:
    from eager_lsp.core.interpreter import Interpreter
    from eager_lsp.lsp.context import ExecutionContext
    from eager_lsp.lsp.documents import Document


class Unwritten:
    """Taken when an attempt's stream starts (after the code above it ran): the text above
    the generated code, its lines followed through edits, and the ledger's seq."""

    def __init__(
        self,
        doc: Document,
        interpreter: Interpreter,
        first_line: int,
        to_doc: Callable[[int], int | None],
        region_lines: Callable[[], range],
    ) -> None:
        self.doc = doc
        self.interpreter = interpreter
        self.first_line = first_line
        self.prefix = "".join(doc.text.source.splitlines(keepends=True)[: first_line - 1])
        self.since = interpreter.ledger.seq
        self._above = LineMap(doc)
        self._to_doc = to_doc  # run lines of the generated text → document lines
        self._region_lines = region_lines  # the generated text's document lines, now

    def detach(self) -> None:
        self._above.detach()

    def _map(self, run_line: int) -> int | None:
        if run_line >= self.first_line:
            return self._to_doc(run_line)
        return self._above.map(run_line)

    async def forget(self, server: ExecutionContext, written: str) -> str:
        """Bring the namespace to the text as written (`written`: the generated text in the
        document); what happened, in a few words ("" when nothing ran unwritten)."""
        doc, session = self.doc, self.interpreter
        if doc.closed or doc.interpreter is not session:
            return ""

        def add(entry: Entry) -> None:
            if shows_its_text(doc, entry) or _where_it_is_shown(doc, entry, self._region_lines()):
                server.add_entry(doc, entry)

        binding = RunBinding(doc, self._map, on_entry=add)
        report = await drop_unwritten(
            session,
            self.prefix + written,
            since=self.since,
            now=doc.text.source,
            from_line=self.first_line,
            listener=binding,
        )
        return note(report)


def shows_its_text(doc: Document, entry: Entry) -> bool:
    """The statement's lines in the document still hold the text that ran."""
    result = entry.result
    if result is None or entry.last >= doc.text.line_count:
        return False
    lines = "\n".join(doc.text.line(i) for i in range(entry.first, entry.last + 1))
    return code_key(lines) == code_key(result.chunk.code)


def _where_it_is_shown(doc: Document, entry: Entry, region: range) -> bool:
    """Place `entry`, a statement of the generated text, where the earlier result of the
    same text is shown in the generated text (the nearest, when several are). Its lines come
    from the text as written, which an edit inside it moved (a line deleted above it); the
    earlier result followed the edit. Never on a line outside the generated text (a user's
    own line may hold the same text). False when there is no such place."""
    result = entry.result
    if result is None or entry.first not in region:
        return False
    key, span, first = code_key(result.chunk.code), len(entry.lines()), entry.first
    same = [
        e.first
        for e in doc.store.entries
        if e.first in region
        and e.last in region
        and len(e.lines()) == span
        and (r := e.result) is not None
        and code_key(r.chunk.code) == key
    ]
    if not same:
        return False
    entry.place_at(min(same, key=lambda line: abs(line - first)))
    return shows_its_text(doc, entry)


def note(report: RerunReport) -> str:
    """What happened: "removed 2 statements that ran but were not written; re-ran 1 they
    changed"."""
    p = report.plan
    removed = sum(1 for r in p.removed if r.attempted)
    if not removed and not p.reason:
        return ""
    unwritten = removed - report.deleted
    one = removed == 1
    parts = []
    if unwritten or not report.deleted:
        s, was = ("", "was") if unwritten == 1 else ("s", "were")
        parts.append(f"{unwritten} statement{s} that ran but {was} not written")
    if report.deleted:
        n = report.deleted
        parts.append(
            f"{n} you deleted" if parts else f"{n} statement{'' if n == 1 else 's'} you deleted"
        )
    text = "removed " + " and ".join(parts)
    if p.reason:
        text += f" ({p.reason}: what they changed was not re-run)"
    if report.ran:
        text += f"; re-ran {report.ran} {'it' if one else 'they'} changed"
    failed = failure_text(report.failed)
    if failed:
        text += f" ({failed})"
    return text
