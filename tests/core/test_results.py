"""Executor events into core records: what executed code can forge is bounded on the way in.

Executed code can reach the worker's event pipe (tests/worker/test_lifecycle.py) and write a
result of its own. A reviewer's forged result with an error on line -7 made every later
publish of the document raise (its diagnostics never came back), and a type name of
20,000,000 characters went into three 20 MB LSP messages."""

from __future__ import annotations

import math

from eager_lsp.core.results import error_from_wire, result_from_wire
from eager_lsp.core.types import Chunk
from eager_lsp.limits import MESSAGE_CAP, NAME_CAP

CHUNK = Chunk(
    index=0, start_line=3, end_line=3, code="x = 1\n", released_offset=6, released_at=1.0,
    kind="simple",
)  # fmt: skip


def test_an_error_line_is_a_real_line_or_none() -> None:
    for wire, line in [(-7, None), (0, None), (True, None), ("3", None), (3.0, 3), (12, 12)]:
        assert error_from_wire({"type": "E", "line": wire}).line == line, wire
    assert error_from_wire({"type": "E", "line": 10**400}).line is None
    assert error_from_wire({"type": "E", "line": float("nan")}).line is None
    frames = [{"path": "a.py", "line": ln, "in_document": True} for ln in (-7, 10**12, 4)]
    decoded = error_from_wire({"type": "E", "frames": frames}).frames
    assert [(f.line, f.in_document) for f in decoded] == [(0, False), (0, False), (4, True)]


def test_names_and_messages_are_cut_to_their_caps() -> None:
    e = error_from_wire({"type": "E" * 10**6, "message": "m" * 10**6})
    assert len(e.type) == NAME_CAP and e.type.endswith("…")
    assert len(e.message) == MESSAGE_CAP


def test_times_are_finite_and_within_the_request() -> None:
    forged = {"ok": False, "error": {"type": "E"}, "t_start": -1e308, "t_end": 1e308}
    r = result_from_wire(CHUNK, forged, dispatched_at=10.0, received_at=11.0)
    assert (r.exec_start, r.exec_end) == (10.0, 11.0)
    junk = {"ok": True, "t_start": "soon", "t_end": float("nan")}
    r = result_from_wire(CHUNK, junk, dispatched_at=10.0, received_at=11.0)
    assert math.isfinite(r.exec_start) and 10.0 <= r.exec_start <= r.exec_end <= 11.0
    fair = {"ok": True, "t_start": 10.2, "t_end": 10.7}
    r = result_from_wire(CHUNK, fair, dispatched_at=10.0, received_at=11.0)
    assert (r.exec_start, r.exec_end) == (10.2, 10.7)
