"""A statement's output as the terminal printer shows it (cli/console.py): lines as a terminal
leaves them, a "\\r"-redrawn line (a progress bar) once in its latest state, drawn in place on
a terminal, and skipped statements after the one still running. The printer is fed the
pipeline's own event objects; tests/cli/test_run.py runs the same through the real command."""

from __future__ import annotations

import io

from eager_lsp.cli.console import ConsolePrinter, LiveLines, screen_lines
from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    ErrorInfo,
    Release,
    ResultReady,
    StopRequested,
)


def _chunk(index: int, start: int, end: int | None = None) -> Chunk:
    end = start if end is None else end
    return Chunk(
        index=index,
        start_line=start,
        end_line=end,
        code="pass\n" * (end - start + 1),
        released_offset=0,
        released_at=0.0,
        kind="compound" if end > start else "simple",
    )


def _finished(
    chunk: Chunk, stdout: str = "", *, error: ErrorInfo | None = None, skipped: bool = False
) -> ResultReady:
    result = ChunkResult(
        chunk,
        ok=error is None and not skipped,
        stdout=stdout,
        error=error,
        skipped=skipped,
        exec_end=1.0,
        result_at=1.0,
    )
    return ResultReady(1.0, result=result)


def test_screen_lines_keep_a_redrawn_lines_latest_state() -> None:
    assert screen_lines("\r0\r1\r2") == ["2"]
    assert screen_lines("a\r\nb\n") == ["a", "b"]  # "\r\n" ends a line
    assert screen_lines("done   \r") == ["done   "]  # nothing drawn over it yet
    assert screen_lines("x\r\ry\nz") == ["y", "z"]
    assert screen_lines("one\x0ctwo\u2028three") == ["one", "two", "three"]  # as splitlines
    assert screen_lines("") == [] and screen_lines("\n") == [""]


def test_live_lines_take_a_redrawn_line_once_it_ends_in_its_last_state() -> None:
    live = LiveLines()
    assert live.add("out", "\r0") == [] and live.unfinished() == ("out", "0")
    assert live.add("out", "\r1\r") == [] and live.unfinished() == ("out", "1")
    assert live.add("out", "\n") == [("out", "1")]  # "\r" + "\n" apart: one line's end
    assert live.unfinished() is None
    # a bar redrawn a million times keeps one state, not its history
    for i in range(2000):
        live.add("out", f"\r{i:>5}")
    assert len(live._tail["out"]) < 10
    assert live.add("out", "\n") == [("out", " 1999")]
    final = "\r0\r1\r\n" + "".join(f"\r{i:>5}" for i in range(2000)) + "\n"
    assert live.rest("out", final) == ""  # (every line was shown, by position)
    assert live.rest("out", final + "more\n") == "more\n"


def test_a_progress_bar_prints_once_and_the_result_goes_on_after_it() -> None:
    """(Replaces tests/core/test_console.py's test of the same name, which pinned a line per
    "\\r" state.) Not redrawn, the bar is one line, printed when it ends, in its last state;
    of the lines the result adds after it, the short view shows the last MAX_OUTPUT_LINES
    after a count."""
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0, whole=False)
    chunk = _chunk(0, 1, 2)
    printer(Release(0.0, chunk=chunk))
    bar = "".join(f"\r{p}%" for p in range(0, 100, 10))
    printer(ChunkOutput(0.3, chunk, bar[:7], ""))  # "\r0%\r10%": not finished
    assert [line[11:] for line in out.getvalue().splitlines()] == ["L1-2    running…"]
    printer(ChunkOutput(0.6, chunk, bar[7:] + "\n", ""))
    final = bar + "\n" + "".join(f"line {i}\n" for i in range(12))
    printer(_finished(chunk, final))
    lines = out.getvalue().splitlines()
    shown = [line.strip() for line in lines if "out|" in line]
    end = [f"out| line {i}" for i in range(4, 12)]
    assert shown == ["out| 90%", "out| … 4 more lines", *end]
    assert "L1-2    ok" in lines[2] and "\r" not in out.getvalue()


def test_on_a_terminal_the_unfinished_line_is_drawn_and_erased_before_other_lines() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0, redraw=True)
    chunk = _chunk(0, 1, 2)
    printer(Release(0.0, chunk=chunk))
    printer(ChunkOutput(0.1, chunk, "\r1/3", ""))
    printer(ChunkOutput(0.2, chunk, "\r2/3", ""))
    drawn = out.getvalue()
    assert drawn.endswith("\r                 out| 2/3\x1b[K"), repr(drawn)
    assert "out| 1/3\x1b[K" in drawn
    printer(_finished(chunk, "\r1/3\r2/3\r3/3"))
    after = out.getvalue()[len(drawn) :]
    assert after.startswith("\r\x1b[K[") and "] L1-2    ok (" in after, repr(after)
    assert after.endswith("out| 3/3\n"), repr(after)  # nothing left drawn


def test_a_skipped_statement_waits_for_the_one_still_running_before_it() -> None:
    """A user's stop skips the queued statements before the running one's KeyboardInterrupt
    comes back: the lines still read in document order, the stop first."""
    out = io.StringIO()
    printer = ConsolePrinter(out, origin=0.0)
    running, queued = _chunk(0, 2), _chunk(1, 3)
    printer(Release(0.0, chunk=running))
    printer(Release(0.0, chunk=queued))
    printer(_finished(queued, skipped=True))
    printer(StopRequested(0.5, reason="interrupted by the user (Ctrl-C)"))
    interrupted = ErrorInfo(type="KeyboardInterrupt", message="", line=2)
    printer(_finished(running, error=interrupted))
    where = [line.split("]", 1)[1].split()[0] for line in out.getvalue().splitlines()]
    assert where == ["stop", "L2", "L3"], out.getvalue()


# One rule for a line of output in every view (core/text_lines.py `terminal_line`): the
# terminal, the hover and inlay hints; vscode-extension/test/decorations.test.ts checks the
# same table against the extension's `screenLine`, tests/e2e/nvim against the plugin's.
TERMINAL_LINES = [
    ("plain", "plain"),
    ("0%\r50%\r100%", "100%"),
    ("done   \r", "done   "),
    ("a\rb\r\r", "b"),  # the hover said "" here, the terminal "b"
    ("x\r\r", "x"),
    ("\r\r", ""),
    ("a\r\rb", "b"),
]


def test_the_terminal_and_the_editor_views_draw_a_line_alike() -> None:
    from eager_lsp.cli.console import latest
    from eager_lsp.lsp.text import screen_line

    for line, drawn in TERMINAL_LINES:
        assert latest(line) == drawn, line
        assert screen_line(line) == drawn, line
