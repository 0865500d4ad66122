"""Past its cap a chunk's output keeps its head AND its end, and a running statement's output
keeps arriving (executors/worker/capture.py, live.py), through the real worker subprocess:
the last lines before an error, a progress bar's last state, fd-level floods; and the
traceback text has every frame within its character bound (errors.py)."""

from __future__ import annotations

import re
from typing import Any

from eager_lsp import limits
from eager_lsp.executors.worker.client import WorkerClient
from eager_lsp.limits import (
    CLIPPED_MARKER,
    LIVE_OUTPUT_CAP,
    LIVE_OUTPUT_S,
    STREAM_CAP,
    omission_marker,
)
from tests.worker.helpers import chunk, run1
from tests.worker.test_bounds import PINGPONG

HEAD = STREAM_CAP // 2
TAIL = STREAM_CAP - STREAM_CAP // 2


def _omitted(text: str) -> int:
    [marker] = CLIPPED_MARKER.findall(text)
    return int(re.findall(r"\d+", marker)[0])


def _bounded_once_cut(live: list[str]) -> None:
    """Each event at most all that is new under the cap (then the head's rest and the newest
    part); once an event showed the stream cut, only the newest LIVE_OUTPUT_CAP characters
    after a marker."""
    marker = len(omission_marker(10**12))
    for text in live:
        assert len(text) <= STREAM_CAP + marker, len(text)
    cut = [i for i, text in enumerate(live) if CLIPPED_MARKER.search(text)]
    assert cut, [len(t) for t in live]
    for text in live[cut[0] + 1 :]:
        assert len(text) <= LIVE_OUTPUT_CAP + marker, len(text)


async def _events(worker: WorkerClient, code: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    await worker.execute([chunk(code)], stop_on_error=True, on_event=events.append)
    return events


async def test_a_long_output_keeps_its_first_and_last_halves(worker: WorkerClient) -> None:
    result = await run1(worker, "print('a' * 200_000)\nprint('final line')\n")
    out = result["stdout"]
    assert out.startswith("a" * HEAD + "\n[... ")
    assert out.endswith("a" * (TAIL - len("\nfinal line\n")) + "\nfinal line\n")
    written = 200_000 + len("\nfinal line\n")
    assert _omitted(out) == written - HEAD - TAIL  # exactly what is not shown
    assert len(out) - len(CLIPPED_MARKER.findall(out)[0]) == STREAM_CAP


async def test_the_lines_before_an_error_are_kept(worker: WorkerClient) -> None:
    code = (
        "import sys\n"
        "for i in range(20000):\n"
        "    print(f'step {i}')\n"
        "    print(f'warn {i}', file=sys.stderr)\n"
        "raise ValueError('at the end')\n"
    )
    result = await run1(worker, code)
    assert result["error"]["type"] == "ValueError"
    assert result["stdout"].startswith("step 0\n") and result["stdout"].endswith("step 19999\n")
    assert result["stderr"].startswith("warn 0\n") and result["stderr"].endswith("warn 19999\n")


async def test_a_progress_bar_past_the_cap_keeps_arriving_and_ends_in_its_last_state(
    worker: WorkerClient,
) -> None:
    """A `\\r` bar redrawn past the cap: before, live output froze at the cap (the bar
    stuck at the state it had then) and the result kept only the head."""
    code = (
        "import sys, time\n"
        "for i in range(30):\n"
        "    for j in range(100):\n"
        "        sys.stdout.write(f'\\rprogress {i:02d}.{j:02d} ' + '#' * 80)\n"
        "    time.sleep(0.02)\n"
        "sys.stdout.write('\\rprogress done')\n"
        f"time.sleep({LIVE_OUTPUT_S * 8})\n"  # several looks see it before the result
    )
    events = await _events(worker, code)
    live = [e["stdout"] for e in events if e["ev"] == "output"]
    assert live and live[-1].endswith("\rprogress done"), [t[-30:] for t in live]
    _bounded_once_cut(live)
    result = events[-1]
    assert result["stdout"].startswith("\rprogress 00.00 ")
    assert result["stdout"].endswith("\rprogress 29.99 " + "#" * 80 + "\rprogress done")
    assert len(CLIPPED_MARKER.findall(result["stdout"])) == 1


async def test_a_statement_printing_without_pause_sends_bounded_events(
    worker: WorkerClient,
) -> None:
    """A tight loop: each event is bounded (LIVE_OUTPUT_CAP past the head), so what crosses
    the pipe per second is bounded by that and the LIVE_OUTPUT_S throttle."""
    code = (
        "import time\n"
        f"end = time.monotonic() + {LIVE_OUTPUT_S * 6}\n"
        "i = 0\n"
        "while time.monotonic() < end:\n"
        "    print(i)\n"
        "    i += 1\n"
        "print('stopped at', i)\n"
    )
    events = await _events(worker, code)
    live = [e["stdout"] for e in events if e["ev"] == "output"]
    assert len(live) >= 2, [e["ev"] for e in events]
    _bounded_once_cut(live)
    # what it skipped since the last event is counted
    assert any(CLIPPED_MARKER.match(text) for text in live[1:]), [t[:40] for t in live]
    assert "stopped at" in events[-1]["stdout"].splitlines()[-1]


async def test_an_fd_level_flood_keeps_its_head_and_end(worker: WorkerClient) -> None:
    code = "import os\nos.write(1, b'start\\n' + b'z' * 5_000_000)\nos.write(1, b'\\nLAST\\n')\n"
    result = await run1(worker, code)
    out = result["stdout"]
    assert out.startswith("start\nzzz") and out.endswith("zzz\nLAST\n")
    assert len(CLIPPED_MARKER.findall(out)) == 1
    assert len(out) < STREAM_CAP + 100


async def test_fd_level_output_past_the_cap_keeps_arriving(worker: WorkerClient) -> None:
    """What C code or a child process writes (the capture files) flows live past the cap too,
    and the file the worker reads it from stays bounded."""
    code = (
        "import os, time\n"
        "for i in range(20):\n"
        "    os.write(1, b'.' * 300_000 + b'\\n')\n"
        "    time.sleep(0.02)\n"
        "os.write(1, b'child done\\n')\n"
        f"time.sleep({LIVE_OUTPUT_S * 8})\n"
    )
    events = await _events(worker, code)
    live = [e["stdout"] for e in events if e["ev"] == "output"]
    assert live and live[-1].endswith("child done\n"), [t[-20:] for t in live]
    assert events[-1]["stdout"].endswith("\nchild done\n")
    assert events[-1]["stdout"].startswith("." * 1000)


async def test_the_traceback_text_has_every_frame_of_a_long_chain(worker: WorkerClient) -> None:
    """`frames` keeps the 20 outermost and 20 innermost of 62; the text, bounded in
    characters, has them all (it said "[... 22 more frames not shown ...]" while the
    diagnostic pointed at it for them)."""
    code = "".join(f"def f{i}():\n    return f{i + 1}()\n" for i in range(60))
    code += "def f60():\n    raise ValueError('bottom')\nf0()\n"
    err = (await run1(worker, code))["error"]
    assert len(err["frames"]) == limits.FRAMES_HEAD + limits.FRAMES_TAIL
    assert err["frames_omitted"] == 62 - 40
    text = err["traceback"]
    assert text.count('  File "') == 62
    assert "not shown" not in text
    assert all(f", in f{i}\n" in text for i in range(61))


async def test_alternating_recursion_text_is_bounded_and_keeps_more_than_the_frames(
    worker: WorkerClient,
) -> None:
    """100,000 frames of ping/pong (CPython collapses only a frame repeating itself): the
    text fills its bound with the outermost and innermost frames and counts the rest."""
    err = (await run1(worker, PINGPONG))["error"]
    text = err["traceback"]
    assert len(text) <= limits.TRACEBACK_CAP
    shown = text.count('  File "')
    assert shown > 10 * (limits.FRAMES_HEAD + limits.FRAMES_TAIL)
    [count] = re.findall(r"\[\.\.\. (\d+) more frames not shown \.\.\.\]", text)
    total = len(err["frames"]) + err["frames_omitted"]
    assert int(count) + shown == total
    assert "line 7, in <module>" in text
    assert text.rstrip().endswith("maximum recursion depth exceeded")


async def test_deep_recursion_text_is_collapsed_as_cpython_does(worker: WorkerClient) -> None:
    code = (
        "import sys\nsys.setrecursionlimit(100000)\ndef down(n):\n    return down(n + 1)\ndown(0)\n"
    )
    err = (await run1(worker, code))["error"]
    text = err["traceback"]
    assert text.count('  File "') == 1 + limits.REPEATED_FRAMES_SHOWN
    assert re.search(r"\[Previous line repeated \d{5} more times\]", text)
    assert len(text) < 2000
