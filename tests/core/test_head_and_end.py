"""What a running statement printed, kept bounded: its head and its end (limits.HeadAndEnd),
for a lost interpreter's statement (core/run.py) and the terminal's live lines
(cli/console.py LiveLines), since live output goes on past the worker's cap."""

from __future__ import annotations

import re

from tests.core.test_interpreter import interpreter  # noqa: F401  (the real worker)

from eager_lsp.cli.console import LIVE_LINES, LiveLines
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.limits import STREAM_CAP, HeadAndEnd, clip_middle, omission_marker
from eager_lsp.providers.replay import ReplayStream


def test_head_and_end_keeps_both_ends_and_counts_the_rest_exactly() -> None:
    kept = HeadAndEnd(cap=100)
    text = "".join(f"{i:05d}\n" for i in range(20_000))  # 120,000 characters
    for i in range(0, len(text), 7):
        kept.add(text[i : i + 7])
    out = kept.text()
    m = re.search(r"\n\[\.\.\. (\d+) characters omitted \.\.\.\]\n", out)
    assert m is not None
    head, end = out[: m.start()], out[m.end() :]
    assert head == text[:50] and end == text[-50:]
    assert int(m.group(1)) == len(text) - 100


def test_head_and_end_is_the_text_itself_while_it_fits() -> None:
    kept = HeadAndEnd(cap=100)
    for piece in ("abc", "", "def\n" * 20):
        kept.add(piece)
    assert kept.text() == "abc" + "def\n" * 20


def test_live_lines_keep_a_bounded_start_and_give_what_the_result_has_after_the_lines_shown() -> (
    None
):
    live = LiveLines()
    line = "x" * 99 + "\n"
    total = 0
    while total < 4 * STREAM_CAP:  # a statement printing on and on
        live.add("out", line * 10)
        total += len(line) * 10
    assert sum(len(p) for p in live._start["out"]) <= 2 * STREAM_CAP
    assert live.shown["out"] == LIVE_LINES
    # the worker's result: the output's first and last half-cap around its marker
    text = line * (total // len(line))
    half = STREAM_CAP // 2
    final = text[:half] + f"\n[... {len(text) - 2 * half} characters omitted ...]\n" + text[-half:]
    # the lines shown end past the head: the rest is what was left out after them, counted,
    # and the end
    left_out = len(text) - half - LIVE_LINES * len(line)
    assert live.rest("out", final) == f"[... {left_out} characters omitted ...]\n" + text[-half:]


async def test_a_lost_interpreter_keeps_the_head_and_end_of_what_arrived_live(
    interpreter: Interpreter,  # noqa: F811
) -> None:
    code = (
        "import os, sys, time\n"
        "if True:\n"  # one statement: it prints 600 K, then its interpreter dies
        "    for i in range(300):\n"
        "        sys.stdout.write(f'{i:03d}' + 'y' * 1996 + '\\n'); sys.stdout.flush()\n"
        "        time.sleep(0.01)\n"
        "    time.sleep(0.6)\n"  # the last live pieces are sent
        "    os._exit(3)\n"
    )
    report = await interpreter.run_stream(ReplayStream(code, rate=None))
    failed = report.failed
    assert failed is not None and failed.error is not None
    assert failed.error.type == "InterpreterLost"
    out = failed.stdout
    assert len(out) <= STREAM_CAP + 200, len(out)  # 600 K were printed, in 3 s
    assert out.startswith("000y")
    assert out.rstrip("\n").split("\n")[-1].startswith("299y")  # the end, not only the head


def test_a_second_cut_counts_what_the_first_left_out() -> None:
    """The server cuts a result the worker cut already (to fit its payload): the marker says
    all that is not shown, not only the second cut's share."""
    text = "a" * 1000 + omission_marker(999_999) + "b" * 1000
    clipped = clip_middle(text, 300)
    shown = len(clipped.partition("\n[...")[0]) + len(clipped.rpartition("...]\n")[2])
    assert omission_marker(2000 - shown + 999_999) in clipped, clipped
    assert clip_middle("x" * 10, 300) == "x" * 10
