"""The terminal's output: one time origin for result lines and the summary, and no negative
"saved" (a run that ended later than generate-then-run would have says so)."""

from __future__ import annotations

import io

from eager_lsp.cli.console import ConsolePrinter, format_summary
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import Chunk, ChunkResult, Piece, ResultReady


def _report(started: float, last_piece: float, done: float, exec_s: float) -> RunReport:
    chunk = Chunk(
        index=0,
        start_line=1,
        end_line=1,
        code="x = 1\n",
        released_offset=6,
        released_at=last_piece,
        kind="simple",
    )
    result = ChunkResult(
        chunk=chunk, ok=True, exec_start=done - exec_s, exec_end=done, result_at=done
    )
    return RunReport(
        started_at=started,
        first_piece_at=started + 0.1,
        last_piece_at=last_piece,
        end_at=last_piece,
        done_at=done,
        chunks=[chunk],
        results=[result],
        syntax_error=None,
        stopped_early=False,
        stop_reason=None,
        gate_fallback=None,
    )


def test_result_lines_and_summary_share_one_origin() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=100.0)  # the command started at t=100
    report = _report(started=101.0, last_piece=102.0, done=102.5, exec_s=0.2)
    printer(Piece(101.1, offset=0, size=1))
    printer(ResultReady(102.5, result=report.results[0]))
    printer.summary(report)
    text = out.getvalue()
    assert "[   2.50s] L1" in text, text  # the result at 102.5, counted from 100
    assert "stream 1.10 s → 2.00 s · all results 2.50 s" in text, text  # the same origin
    # and the comparison too: "eager took" is "all results" (it was counted from 101)
    assert "generate-then-run would take 2.20 s; eager took 2.50 s (no time saved: 0.30 s" in text


def test_no_negative_saving() -> None:
    report = _report(started=0.0, last_piece=1.0, done=1.27, exec_s=0.2)  # 1.2 vs 1.27
    text = format_summary(report)
    assert "saved -" not in text, text
    assert "(no time saved: 0.07 s slower;" in text, text
    assert "(saved 0.80 s;" in format_summary(_report(0.0, 1.0, 1.2, 1.0))
    even = format_summary(_report(0.0, 1.0, 1.2001, 0.2))  # a saving that rounds to nothing
    assert "(no time saved;" in even and "0.00 s" not in even, even
