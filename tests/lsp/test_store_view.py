"""The editor's result store as a view of the ledger (lsp/store.py), driven directly: real
detector chunks and a real Ledger, no interpreter (what is tested is where results are read
from and how lines move, not how they were produced)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from eager_lsp.core.ledger import Ledger
from eager_lsp.core.rerun import statements
from eager_lsp.core.types import ChunkResult, ErrorInfo, Frame, Value
from eager_lsp.lsp import publish
from eager_lsp.lsp.documents import Document
from eager_lsp.lsp.hover import entry_at, hover_markdown
from eager_lsp.lsp.store import ResultStore
from eager_lsp.lsp.text import LineEdit, Text


def _doc(source: str) -> Document:
    doc = Document(uri="file:///t/view.py", language_id="python", version=1, text=Text(source))
    doc.store.ledger = Ledger()
    return doc


def _value(chunk, name: str, rep: str) -> ChunkResult:  # type: ignore[no-untyped-def]
    v = Value(name=name, type_name="int", repr=rep, summary=rep)
    return ChunkResult(chunk=chunk, ok=True, values=(v,), exec_start=1.0, exec_end=1.001)


def _show(doc: Document, result: ChunkResult) -> int:
    """Record `result` in the ledger and show it at its own lines, as a run binding does."""
    ledger = doc.store.ledger
    assert ledger is not None
    rec = ledger.record(result)
    assert rec is not None
    c = result.chunk
    doc.store.add(doc.store.entry(rec.sid, c.start_line - 1, c.end_line - 1))
    return rec.sid


def test_a_ledger_change_is_what_hover_and_publish_show_without_a_store_update() -> None:
    doc = _doc("x = 1\ny = 2\n")
    chunks, _ = statements(doc.text.source)
    sid = _show(doc, _value(chunks[0], "x", "1"))
    _show(doc, _value(chunks[1], "y", "2"))
    entry = entry_at(doc, 0)
    assert entry is not None and "```python\n1\n```" in hover_markdown(doc, entry)
    labels = {h.position.line: h.label for h in publish.inlay_hints(doc, None, 80)}
    assert labels == {0: "x = 1", 1: "y = 2"}

    # The statement runs again (same text, same lines) and now fails: only the ledger is told.
    generation = doc.store.generation
    ledger = doc.store.ledger
    assert ledger is not None
    err = ErrorInfo(type="ValueError", message="boom", line=1)
    ledger.record(ChunkResult(chunk=chunks[0], ok=False, error=err))
    assert doc.store.generation == generation  # the store was not updated
    entry = entry_at(doc, 0)
    assert entry is not None and "**ValueError**: boom" in hover_markdown(doc, entry)
    labels = {h.position.line: h.label for h in publish.inlay_hints(doc, None, 80)}
    assert labels == {1: "y = 2"}
    diags = publish.diagnostics(doc)
    assert [(d.range.start.line, d.message) for d in diags] == [(0, "ValueError: boom")]
    payload = publish.chunk_result(doc, entry)
    assert payload["ok"] is False and payload["error"]["line"] == 0
    assert payload["statementId"] == sid  # the clients key their trackers by it


def test_what_is_shown_stays_readable_after_the_namespace_is_emptied() -> None:
    doc = _doc("x = 1\n")
    chunks, _ = statements(doc.text.source)
    sid = _show(doc, _value(chunks[0], "x", "1"))
    ledger = doc.store.ledger
    assert ledger is not None
    ledger.clear()  # the interpreter was lost: nothing ran in the new namespace
    assert ledger.records == [] and not ledger.attempted(1, 1)
    assert ledger.get(sid) is not None  # pinned: the editor still shows it
    assert {h.label for h in publish.inlay_hints(doc, None, 80)} == {"x = 1"}
    doc.store.clear()
    assert ledger.get(sid) is None  # nobody shows it any more: gone


def test_a_statement_keeps_its_sid_when_it_runs_again_and_a_new_text_gets_a_new_one() -> None:
    ledger = Ledger()
    (a,), _ = statements("a = 1\n")
    (b,), _ = statements("a = 2\n")
    first = ledger.record(_value(a, "a", "1"))
    again = ledger.record(_value(a, "a", "1"))
    other = ledger.record(_value(b, "a", "2"))
    assert first is not None and again is not None and other is not None
    assert again.sid == first.sid and other.sid != first.sid
    assert ledger.get(first.sid) is None  # replaced and not pinned
    assert ledger.get(other.sid) is other


def test_an_edit_touching_no_result_maps_no_line_of_the_others(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cost of moving results is the entries an edit touches: typing below 500 results
    (or above them: one shift) looks at none of them."""
    source = "".join(f"v{i} = {i}\n" for i in range(500))
    doc = _doc(source + "\n")
    chunks, _ = statements(source)
    for c in chunks:
        _show(doc, _value(c, f"v{c.start_line}", "0"))
    calls = 0
    real = LineEdit.map

    def counting(self: LineEdit, line: int) -> int | None:
        nonlocal calls
        calls += 1
        return real(self, line)

    monkeypatch.setattr(LineEdit, "map", counting)
    for _ in range(50):  # new lines written at the end, as a generation does
        doc.store.apply(LineEdit(500, 499, 1))
    for _ in range(50):  # lines typed above everything
        doc.store.apply(LineEdit(0, -1, 1))
    assert calls == 0
    assert [e.first for e in doc.store.entries][:3] == [50, 51, 52]


# -- moving lines: the view against the rule it replaced (each line mapped by every edit) -----


def _reference_move(
    e: tuple[int, int, int | None, tuple[int | None, ...]], edit: LineEdit
) -> tuple[int, int, int | None, tuple[int | None, ...]] | None:
    first, last, err, frames = e
    nf = edit.map(first)
    if nf is None:
        return None
    nl = nf + last - first
    if [edit.map(line) for line in range(first, last + 1)] != list(range(nf, nl + 1)):
        return None  # a line of it edited (any), or lines put between two of its own
    if err is not None:
        err = edit.map(err)
        if err is None:
            return None
    return nf, nl, err, tuple(None if ln is None else edit.map(ln) for ln in frames)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**31))
def test_lines_move_exactly_as_mapping_every_entry_would(seed: int) -> None:
    rnd = random.Random(seed)
    doc = _doc("")
    store: ResultStore = doc.store
    ledger = store.ledger
    assert ledger is not None
    ref: dict[int, tuple[int, int, int | None, tuple[int | None, ...]]] = {}  # entry id → lines
    shown = {}
    for _ in range(rnd.randint(5, 60)):
        if rnd.random() < 0.35:  # a result arrives
            first = rnd.randint(0, 40)
            last = first + rnd.choice([0, 0, 1, 2])
            err = None
            frames: tuple[int | None, ...] = ()
            ok = rnd.random() < 0.5
            if not ok:
                err = rnd.choice([first, last, rnd.randint(0, 45)])
                frames = tuple(rnd.choice([None, rnd.randint(0, 45), first]) for _ in range(3))
            (chunk,), _ = statements(f"s{rnd.randrange(10**9)} = 1\n")
            fr = tuple(
                Frame(path="/t/view.py", line=1, function="f", in_document=True) for _ in frames
            )
            error = None if ok else ErrorInfo(type="E", message="m", line=1, frames=fr)
            rec = ledger.record(ChunkResult(chunk=chunk, ok=ok, error=error))
            assert rec is not None
            entry = store.entry(rec.sid, first, last, error_line=err, frame_lines=frames)
            for eid, (f, la, _, _) in list(ref.items()):
                if la >= first and f <= last:
                    del ref[eid]
            store.add(entry)
            ref[entry.id] = (first, last, err, frames)
            shown[entry.id] = entry
        else:  # an edit: lines first..last modified (none when last < first), delta
            first = rnd.randint(0, 45)
            last = first + rnd.choice([-1, -1, 0, 0, 1, 3])
            delta = rnd.choice([-2, -1, 0, 0, 1, 1, 2, 5])
            if last < first:
                delta = abs(delta) or 1
            delta = max(delta, -(last - first + 1))  # cannot delete more lines than it replaces
            edit = LineEdit(first, last, delta)
            stale = {e.id for e in store.apply(edit)}
            expect_stale = set()
            for eid, e in list(ref.items()):
                moved = _reference_move(e, edit)
                if moved is None:
                    expect_stale.add(eid)
                    del ref[eid]
                else:
                    ref[eid] = moved
            assert stale == expect_stale
        got = {
            e.id: (e.first, e.last, e.error_line, tuple(ln for _, ln in e.frames))
            for e in store.entries
        }
        assert got == ref
        assert [e.first for e in store.entries] == sorted(e.first for e in store.entries)


def test_an_entry_dropped_by_an_edit_still_says_whether_it_failed() -> None:
    """The status goes back to idle when the failing statement is edited away
    (language_server._StoreKeeper reads `failed` of the dropped entries), also when its record
    is no longer in the namespace (the interpreter was lost meanwhile)."""
    doc = _doc("x = 1 / 0\n")
    (chunk,), _ = statements(doc.text.source)
    err = ErrorInfo(type="ZeroDivisionError", message="division by zero", line=1)
    ledger = doc.store.ledger
    assert ledger is not None
    rec = ledger.record(ChunkResult(chunk=chunk, ok=False, error=err))
    assert rec is not None
    doc.store.add(doc.store.entry(rec.sid, 0, 0, error_line=0))
    ledger.clear()
    (gone,) = doc.store.apply(doc.text.replace(0, 9, "x = 2"))
    assert gone.failed and (gone.first, gone.last) == (0, 0)
    assert ledger.get(rec.sid) is None and doc.store.entries == []


def test_a_held_result_is_a_sid_until_its_text_arrives_and_lines_are_this_runs() -> None:
    """RunBinding keeps no result: a held one is its ledger sid (pinned, so a reset of the
    namespace meanwhile does not lose it); a skipped statement whose earlier record stands is
    shown at the lines this run released it at."""
    from eager_lsp.core.types import ResultReady
    from eager_lsp.lsp.runs import RunBinding

    doc = _doc("a = 1\nb = 2\n")
    ledger = doc.store.ledger
    assert ledger is not None
    shown: list = []
    written = {"lines": 0}
    binding = RunBinding(
        doc,
        lambda run_line: run_line - 1,
        on_entry=lambda e: (doc.store.add(e), shown.append(e)),
        hold=lambda last: written["lines"] < last,
    )
    (a, b), _ = statements(doc.text.source)
    ra = _value(a, "a", "1")
    rec = ledger.record(ra)
    assert rec is not None
    binding(ResultReady(1.0, result=ra, sid=rec.sid))
    assert shown == [] and binding.held == 1
    ledger.clear()  # the namespace was reset before the text arrived: still readable
    written["lines"] = 1
    binding.release_held()
    assert binding.held == 0 and [(e.first, e.result) for e in shown] == [(0, ra)]

    # b ran at line 2 in an earlier run, then this run skipped it: the record that stands is
    # shown, at the lines this run released it at (line 2 → document line 1).
    rb = _value(b, "b", "2")
    ledger.record(rb)
    skipped = ChunkResult(chunk=b, ok=False, skipped=True)
    rec_b = ledger.record(skipped)
    assert rec_b is not None and rec_b.result is rb
    written["lines"] = 2
    binding(ResultReady(2.0, result=skipped, sid=rec_b.sid))
    assert [(e.first, e.last, e.result) for e in shown[1:]] == [(1, 1, rb)]


def test_opening_a_line_below_a_statement_keeps_its_result_and_the_next_ones() -> None:
    """Neovim sends `o` below line 1 as "replace line 1's newline with two" (its
    vim.lsp.sync diff): one line inserted after line 1, not an edit of lines 1 and 2. Both
    results stay, the second one a line lower."""
    doc = _doc("x = 1\ny = 2\n")
    chunks, _ = statements(doc.text.source)
    _show(doc, _value(chunks[0], "x", "1"))
    _show(doc, _value(chunks[1], "y", "2"))
    edit = doc.text.replace(5, 6, "\n\n")  # range (0,5)-(1,0), text "\n\n"
    doc.store.apply(edit)
    assert doc.text.source == "x = 1\n\ny = 2\n"
    labels = {h.position.line: h.label for h in publish.inlay_hints(doc, None, 80)}
    assert labels == {0: "x = 1", 2: "y = 2"}
    # and typing on the new line touches neither
    doc.store.apply(doc.text.replace(6, 6, "c"))
    labels = {h.position.line: h.label for h in publish.inlay_hints(doc, None, 80)}
    assert labels == {0: "x = 1", 2: "y = 2"}


def test_an_edit_of_any_line_of_a_statement_drops_its_result() -> None:
    """A body line of a `for` edited (the line count kept) drops its result as an edit of its
    first or last line does: the value shown would not be that of the text beside it. Lines
    put between two of its lines do too; lines opened above or below it only move it."""
    source = "total = 0\nfor i in range(3):\n    total += i\n    total -= 0\nend = total\n"
    doc = _doc(source)
    chunks, _ = statements(doc.text.source)
    for c in chunks:
        _show(doc, _value(c, "total", "3"))
    assert [(e.first, e.last) for e in doc.store.entries] == [(0, 0), (1, 3), (4, 4)]

    nothing = doc.text.replace(30, 30, "")  # a change that changed nothing
    assert doc.store.apply(nothing) == [] and len(doc.store) == 3
    at = doc.text.line_start(1)
    above = doc.store.apply(doc.text.replace(at, at, "# loop\n"))  # a line opened above it
    at = doc.text.line_start(5)
    below = doc.store.apply(doc.text.replace(at, at, "\n"))  # a line opened below it
    assert above == below == [] and [(e.first, e.last) for e in doc.store.entries] == [
        (0, 0),
        (2, 4),
        (6, 6),
    ]
    assert doc.text.line(3) == "    total += i"
    start = doc.text.line_start(3) + len("    total += i")
    (gone,) = doc.store.apply(doc.text.replace(start, start, " * 10"))  # same line count
    assert (gone.first, gone.last) == (2, 4)
    assert [(e.first, e.last) for e in doc.store.entries] == [(0, 0), (6, 6)]

    # Run again; then a line put between two of its body lines.
    doc = _doc(source)
    chunks, _ = statements(doc.text.source)
    for c in chunks:
        _show(doc, _value(c, "total", "3"))
    body = doc.text.line_start(3)
    (gone,) = doc.store.apply(doc.text.replace(body, body, "    pass\n"))
    assert (gone.first, gone.last) == (1, 3)
    assert [(e.first, e.last) for e in doc.store.entries] == [(0, 0), (5, 5)]
