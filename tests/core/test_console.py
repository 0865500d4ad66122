"""The terminal's output: one time origin for result lines and the summary, and no negative
"saved" (a run that ended later than generate-then-run would have says so)."""

from __future__ import annotations

import io

import pytest

from eager_lsp.cli.console import LIVE_LINES, ConsolePrinter, format_summary
from eager_lsp.core.run import RunReport
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Done,
    GateHeld,
    Piece,
    Release,
    ResultReady,
    StopRequested,
    SyntaxErrorFound,
    SyntaxIssue,
)


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


def _chunk(index: int) -> Chunk:
    line = index + 1
    return Chunk(
        index=index,
        start_line=line,
        end_line=line,
        code=f"x{index} = {index}\n",
        released_offset=0,
        released_at=0.0,
        kind="simple",
    )


def _ok(chunk: Chunk) -> ResultReady:
    return ResultReady(1.0, result=ChunkResult(chunk=chunk, ok=True, exec_start=0, exec_end=0))


def _where(out: io.StringIO) -> list[str]:
    return [line.split("]", 1)[1].split()[0] for line in out.getvalue().splitlines()]


def test_a_syntax_error_waits_for_the_results_of_the_statements_above_it() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    chunks = [_chunk(i) for i in range(3)]
    for c in chunks:
        printer(Release(0.1, chunk=c))
    printer(SyntaxErrorFound(0.1, issue=SyntaxIssue(line=4, column=0, message="'(' never closed")))
    printer(StopRequested(0.1, reason="SyntaxError at line 4"))
    assert out.getvalue() == ""
    printer(_ok(chunks[0]))
    printer(_ok(chunks[1]))
    assert _where(out) == ["L1", "L2"]
    printer(_ok(chunks[2]))
    assert _where(out) == ["L1", "L2", "L3", "line", "stop"]


def test_a_stop_after_a_failed_statement_is_printed_at_once_and_held_lines_end_with_the_run() -> (
    None
):
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    a, b = _chunk(0), _chunk(1)
    printer(Release(0.1, chunk=a))
    printer(_ok(a))
    printer(StopRequested(0.2, reason="ValueError at line 1"))
    assert _where(out) == ["L1", "stop"]
    printer(Release(0.3, chunk=b))  # released; its result never comes (the run was cancelled)
    printer(SyntaxErrorFound(0.3, issue=SyntaxIssue(line=3, column=0, message="bad")))
    assert _where(out) == ["L1", "stop"]
    printer(Done(0.4))
    assert _where(out) == ["L1", "stop", "line"]


def test_cut_output_is_counted_as_a_lower_bound() -> None:
    """A loop printing 50,000 lines said "… 12768 more lines": the lines the worker kept
    (64 Ki characters), not those printed. (A newcomer helper.)"""
    from eager_lsp.cli.console import output_block
    from eager_lsp.executors.worker.capture import truncation_note

    kept = "".join(f"{i}\n" for i in range(100))
    cut = output_block("out", kept + truncation_note(123456), width=100, indent=2)
    assert cut[:2] == ["  out| 0", "  out| 1"] and len(cut) == 9
    assert cut[-1] == "  out| … at least 92 more lines (the output was cut)"
    whole = output_block("out", kept, width=100, indent=2)
    assert whole[-1] == "  out| … 92 more lines"
    one_long = output_block("out", "x" * 500 + truncation_note(10), width=20, indent=0)
    assert one_long == ["out| " + "x" * 20, "out| … more (the output was cut)"]


def test_a_long_error_keeps_where_it_failed_and_how_long_it_took() -> None:
    from eager_lsp.cli.console import result_text
    from eager_lsp.core.types import ErrorInfo

    message = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    error = ErrorInfo(type="JSONDecodeError", message=message, line=2)
    r = ChunkResult(chunk=_chunk(1), ok=False, error=error, exec_start=0.0, exec_end=0.0008)
    text = result_text(r, width=80)
    assert len(text) == 80 and text.endswith("… at line 2 (0.8 ms)"), text
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0, width=60)
    printer(StopRequested(0.1, reason=f"JSONDecodeError: {message} at line 2"))
    assert out.getvalue().rstrip().endswith("at line 2"), out.getvalue()


def _loop_chunk(start: int, end: int) -> Chunk:
    return Chunk(
        index=0,
        start_line=start,
        end_line=end,
        code="for i in x:\n    print(i)\n",
        released_offset=0,
        released_at=0.0,
        kind="compound",
    )


def _finished(chunk: Chunk, stdout: str, stderr: str = "") -> ResultReady:
    result = ChunkResult(chunk, ok=True, stdout=stdout, stderr=stderr, exec_end=1.0, result_at=1.0)
    return ResultReady(1.0, result=result)


def test_a_running_statements_lines_print_once_whole_lines_only() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    chunk = _loop_chunk(2, 3)
    printer(Release(0.0, chunk=chunk))
    printer(ChunkOutput(0.3, chunk, "tick 0\ntick", ""))
    printer(ChunkOutput(0.6, chunk, " 1\n", "warn\n"))
    printer(ChunkOutput(0.9, chunk, "partial", ""))
    printer(_finished(chunk, "tick 0\ntick 1\npartial end\n", "warn\n"))
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("L2-3    running…")
    assert [line.strip() for line in lines[1:4]] == ["out| tick 0", "out| tick 1", "err| warn"]
    assert "L2-3    ok (" in lines[4]
    assert [line.strip() for line in lines[5:]] == ["out| partial end"]


@pytest.mark.parametrize("whole", [False, True])
def test_a_long_running_loop_prints_far_more_than_a_results_block(whole: bool) -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0, whole=whole)
    chunk = _loop_chunk(1, 2)
    printer(Release(0.0, chunk=chunk))
    text = "".join(f"epoch {i}\n" for i in range(LIVE_LINES + 20))
    for i in range(0, len(text), 100):
        printer(ChunkOutput(0.3, chunk, text[i : i + 100], ""))
    printer(_finished(chunk, text))
    shown = [line.strip() for line in out.getvalue().splitlines() if "out|" in line]
    assert shown[:LIVE_LINES] == [f"out| epoch {i}" for i in range(LIVE_LINES)]
    assert shown[LIVE_LINES].startswith("out| … more lines as it runs")  # said once
    if whole:  # (not a terminal) its result: every line not shown yet
        assert shown[LIVE_LINES + 1 :] == [f"out| epoch {LIVE_LINES + i}" for i in range(20)]
        return
    # on a terminal: a count, then the loop's last 8 lines (what one waits for)
    end = [f"out| epoch {LIVE_LINES + i}" for i in range(12, 20)]
    assert shown[LIVE_LINES + 1 :] == ["out| … 12 more lines", *end]


def test_a_piece_without_a_whole_line_says_the_statement_runs() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    chunk = _loop_chunk(1, 2)
    printer(Release(0.0, chunk=chunk))
    printer(ChunkOutput(0.3, chunk, "0", ""))
    printer(ChunkOutput(0.6, chunk, "1", ""))
    assert out.getvalue().splitlines() == ["[   0.00s] L1-2    running…"]
    printer(_finished(chunk, "0123\n"))
    assert [line.strip() for line in out.getvalue().splitlines()[2:]] == ["out| 0123"]


def test_output_the_result_does_not_start_with_is_printed_whole() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    chunk = _loop_chunk(1, 2)
    printer(Release(0.0, chunk=chunk))
    printer(ChunkOutput(0.3, chunk, "head\n", ""))
    printer(_finished(chunk, "HEAD\n"))
    shown = [line.strip() for line in out.getvalue().splitlines() if "out|" in line]
    assert shown == ["out| head", "out| HEAD"]


def test_the_safe_gates_hold_is_said_when_it_begins_after_the_results_above() -> None:
    """A terminal run under the safe gate said nothing while statements waited for the end
    (only the summary's `gate:` line did): the hold is said when it begins, after the results
    of the statements running above it, with where and why."""
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    a = _chunk(0)
    printer(Release(0.1, chunk=a))
    printer(GateHeld(0.1, line=2, reason="calls os.remove"))
    printer(Release(0.1, chunk=_chunk(1)))
    assert _where(out) == []  # the statement above has no result yet
    printer(_ok(a))
    assert _where(out) == ["L1", "gate"]
    assert "line 2 calls os.remove: it and what follows run at the end" in out.getvalue()
