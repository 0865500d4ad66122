"""textDocument/hover on a statement that is still running: how long it has run and the end of
what it printed so far (lsp/running.py keeps it, lsp/hover.py shows it); once its result is in,
the result's hover. Through the real server and worker; the statements print until the test
creates a file, so no hover races the end of the run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from eager_lsp.core.types import (
    Chunk,
    ChunkOutput,
    ChunkResult,
    Done,
    ExecStart,
    Release,
    ResultReady,
)
from eager_lsp.lsp import hover, methods, running
from eager_lsp.lsp.runs import RunBinding
from eager_lsp.lsp.store import ResultStore

from .conftest import Editor
from .test_hover import _hover

LOOP = """\
import os, time
for i in range(600):
    print("tick", i, flush=True)
    if os.path.exists({stop!r}):
        break
    time.sleep(0.1)
done = True
"""

FLOOD = """\
import os, sys, time
if True:
    for i in range(3000):
        print(f"out {{i:05d}}")
        print(f"err {{i:05d}}", file=sys.stderr)
    while not os.path.exists({stop!r}):
        time.sleep(0.05)
"""


def _live(editor: Editor, uri: str, stream: str = "stdout") -> str:
    return "".join(n[stream] for n in editor.notes_for(methods.OUTPUT, uri))


def _seconds(text: str) -> float:
    m = re.search(r"running for (\d+\.\d) s", text)
    assert m is not None, text
    return float(m.group(1))


async def test_hover_shows_a_running_statements_output_then_its_result(
    editor: Editor, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    uri = editor.open("loop.py", LOOP.format(stop=str(stop)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(lambda: "tick 3\n" in _live(editor, uri), "live output")

    # On any line of the loop (lines 1-5): it runs, and what it printed so far.
    first = await _hover(editor, uri, 2)
    assert first is not None
    assert first.startswith("**eager** · lines 2–6 · running for "), first
    assert "**stdout** so far" in first and "tick 0\ntick 1\ntick 2\ntick 3" in first, first
    assert "**stderr**" not in first
    last_line = await _hover(editor, uri, 5)
    assert last_line is not None and last_line.startswith("**eager** · lines 2–6 · running for ")
    # The statement above it has its result: that hover is the result's, as before.
    above = await _hover(editor, uri, 0)
    assert above is not None and "running" not in above and above.startswith("**eager** · line 1")
    # Below it nothing ran yet.
    assert await _hover(editor, uri, 6) is None

    # Later: the latest output, and a longer time.
    await editor.wait_for(lambda: "tick 8\n" in _live(editor, uri), "more live output")
    later = await _hover(editor, uri, 1)
    assert later is not None and "tick 8" in later, later
    assert _seconds(later) > _seconds(first)

    stop.touch()
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    done = await _hover(editor, uri, 2)
    assert done is not None and "running" not in done, done
    assert done.startswith("**eager** · lines 2–6 · "), done
    assert "**stdout**\n\n```text\ntick 0\n" in done and "tick 8" in done, done


async def test_a_running_statements_hover_keeps_only_the_end_of_long_output(
    editor: Editor, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    uri = editor.open("flood.py", FLOOD.format(stop=str(stop)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(
        lambda: (
            "out 02999\n" in _live(editor, uri) and "err 02999\n" in _live(editor, uri, "stderr")
        ),
        "all of the live output",
    )
    text = await _hover(editor, uri, 3)
    assert text is not None and "running for" in text, text
    assert len(text) <= hover.HOVER_LIMIT
    for stream in ("out", "err"):
        # 3000 lines of 10 characters: the last 4000 characters are its last 400 lines.
        assert f"{stream} 02999" in text and f"{stream} 02600" in text, text
        assert f"{stream} 02599" not in text and f"{stream} 00000" not in text, text
    assert text.count("26000 characters before") == 2, text
    stop.touch()
    await editor.summary(uri)
    done = await _hover(editor, uri, 3)
    assert done is not None and "running" not in done and "**stdout**" in done, done


async def test_a_stopped_or_restarted_run_leaves_no_running_hover(
    editor: Editor, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    uri = editor.open("loop.py", LOOP.format(stop=str(stop)), tmp_path)
    for n, end in enumerate((methods.STOP, methods.RESTART_INTERPRETER), start=1):
        await editor.command(methods.RUN_DOCUMENT, uri=uri)
        await editor.wait_for(
            lambda n=n: _live(editor, uri).count("tick 2\n") == n, "live output of this run"
        )
        during = await _hover(editor, uri, 3)
        assert during is not None and "running for" in during, during
        await editor.command(end, uri=uri)
        await editor.summary(uri, count=n)
        after = await _hover(editor, uri, 3)
        assert after is None or "running" not in after, (end, after)


# -- the kept tail, without a server --------------------------------------------------------


def test_the_kept_tail_is_bounded_and_counts_what_came_before() -> None:
    # more than a hover shows of a stream: eager.resultDetail shows all that is kept
    assert running.TAIL_LIMIT >= hover.HOVER_BLOCK_LIMIT
    tail = running.Tail()
    total = 0
    for i in range(2000):
        piece = f"{i:06d}\n" * (1 + i % 300)  # up to 2100 characters a piece
        tail.add(piece)
        total += len(piece)
        assert len(tail.text) <= running.TAIL_LIMIT
    assert len(tail.text) == running.TAIL_LIMIT and tail.before == total - running.TAIL_LIMIT
    assert tail.text.endswith("001999\n")
    big = running.Tail()
    big.add("a" * 10)
    big.add("b" * (running.TAIL_LIMIT * 5))
    assert big.text == "b" * running.TAIL_LIMIT and big.before == 10 + running.TAIL_LIMIT * 4


class _Doc:
    """What a RunBinding reads of a document (no ledger: no result becomes an entry)."""

    def __init__(self) -> None:
        self.running = running.RunningStatements()
        self.store = ResultStore()


def _binding(doc: _Doc) -> RunBinding:
    return RunBinding(
        cast(Any, doc),
        lambda run_line: run_line - 1,
        on_entry=lambda e: None,
        running_statements=doc.running,
    )


def _chunk(index: int, line: int) -> Chunk:
    return Chunk(index, line, line + 2, "x\n", 0, 0.0, "compound")


def test_a_running_statement_is_kept_until_its_result_or_the_end_of_its_run() -> None:
    doc = _Doc()
    binding = _binding(doc)
    a, b = _chunk(0, 1), _chunk(1, 4)
    for c in (a, b):
        binding(Release(0.0, chunk=c))
    assert doc.running.at(0) is None  # released, not started
    binding(ExecStart(1.0, chunk=0))
    found = doc.running.at(2)
    assert found is not None and found[1:] == (0, 2) and found[0].started == 1.0
    assert doc.running.at(3) is None
    binding(ChunkOutput(1.3, a, "x" * (running.TAIL_LIMIT + 1000), "oops\n"))
    kept = found[0]
    assert len(kept.stdout.text) == running.TAIL_LIMIT and kept.stdout.before == 1000
    assert kept.stderr.text == "oops\n"
    binding(ResultReady(2.0, result=ChunkResult(chunk=a, ok=True), sid=0))
    assert doc.running.at(0) is None and len(doc.running) == 0  # its result is shown instead
    binding(ExecStart(2.0, chunk=1))
    assert doc.running.at(4) is not None
    binding(Done(3.0))  # (a run ends with every result in; this one is kept no longer)
    assert len(doc.running) == 0

    other = _binding(doc)
    other(Release(0.0, chunk=a))
    other(ExecStart(1.0, chunk=0))
    assert len(doc.running) == 1
    other.cancelled = True  # stopped: nothing more of it is shown
    assert len(doc.running) == 0
    other(ExecStart(1.0, chunk=0))
    assert len(doc.running) == 0


def test_a_document_keeps_a_bounded_number_of_running_statements() -> None:
    doc = _Doc()
    binding = _binding(doc)
    for i in range(running.MAX_RUNNING + 5):
        binding(Release(0.0, chunk=_chunk(i, 1 + 3 * i)))
        binding(ExecStart(float(i), chunk=i))
    assert len(doc.running) == running.MAX_RUNNING
    assert doc.running.at(0) is None  # the oldest went
    newest = doc.running.at(3 * (running.MAX_RUNNING + 4))
    assert newest is not None and newest[0].started == float(running.MAX_RUNNING + 4)
    doc.running.clear()  # a restart, a closed document
    assert len(doc.running) == 0


def test_a_running_statements_hover_shows_lines_as_a_terminal_does() -> None:
    """A progress bar redrawn with carriage returns is its latest state; no output yet says so."""
    kept = running.Running(0.0, lambda: (1, 1))
    assert "no output yet" in hover.running_markdown(kept, 1, 1)
    kept.stderr.add("\r  0%|    |\r 50%|##  |\r100%|####|\r\n")
    kept.stdout.add("a\r\nb\n")
    text = hover.running_markdown(kept, 1, 1)
    assert text.startswith("**eager** · line 2 · running for "), text
    assert "```text\na\nb\n```" in text and "```text\n100%|####|\n```" in text, text
    assert "50%" not in text and "\r" not in text


def test_a_statement_just_started_has_run_for_milliseconds() -> None:
    """One decimal of a second read "running for 0.0 s" for a statement just started."""
    assert hover._duration(0.03) == "30 ms"
    assert hover._duration(0.0994) == "99 ms"
    assert hover._duration(0.1) == "0.1 s"
    assert hover._duration(125.5) == "2 min 5 s"
