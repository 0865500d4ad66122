"""Bounded results in the worker: frames collapsed as CPython does, capture files capped."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from eager_lsp import limits
from eager_lsp.executors.worker.capture import SINK_FILE_CAP
from eager_lsp.executors.worker.client import WorkerClient
from tests.worker.helpers import DOC, run1

DEEP = """\
import sys
sys.setrecursionlimit(100000)
def down(n):
    return down(n + 1)
down(0)
"""

PINGPONG = """\
import sys
sys.setrecursionlimit(100000)
def ping(n):
    return pong(n + 1)
def pong(n):
    return ping(n + 1)
ping(0)
"""


async def test_deep_recursion_gives_few_frames(worker: WorkerClient) -> None:
    result = await run1(worker, DEEP)
    err = result["error"]
    assert err["type"] == "RecursionError"
    # <module>, then `down` three times, the third one standing for all the others.
    assert [(f["function"], f["line"]) for f in err["frames"]][-1] == ("<module>", 5)
    downs = [f for f in err["frames"] if f["function"] == "down"]
    assert len(downs) == limits.REPEATED_FRAMES_SHOWN
    assert sum(f.get("repeated", 0) for f in downs) > 50_000
    assert err["line"] == 4
    assert "Previous line repeated" in err["traceback"]
    assert len(err["traceback"]) <= limits.TRACEBACK_CAP


async def test_alternating_recursion_keeps_first_and_last_frames(worker: WorkerClient) -> None:
    result = await run1(worker, PINGPONG)
    err = result["error"]
    assert err["type"] == "RecursionError"
    frames = err["frames"]
    assert len(frames) == limits.FRAMES_HEAD + limits.FRAMES_TAIL
    assert err["frames_omitted"] > 50_000
    assert frames[-1]["function"] == "<module>" and frames[-1]["line"] == 7  # outermost
    assert frames[0]["path"] == DOC and frames[0]["line"] in (4, 6)  # innermost
    assert len(err["traceback"]) <= limits.TRACEBACK_CAP
    # head and tail of the text both stay: where it started and where it ended
    assert "line 7, in <module>" in err["traceback"]
    assert err["traceback"].rstrip().endswith("maximum recursion depth exceeded")


FLOOD_AFTER_CHUNK = """\
import os, threading
def flood():
    block = b"x" * (1 << 20)
    for _ in range(64):
        os.write(1, block)
    open({done!r}, "w").close()
threading.Thread(target=flood, daemon=True).start()
"""


async def test_output_written_while_idle_is_capped(worker: WorkerClient, tmp_path: Path) -> None:
    """A thread keeps writing to fd 1 after its chunk ended: the capture file stays small."""
    done = tmp_path / "done"
    result = await run1(worker, FLOOD_AFTER_CHUNK.format(done=str(done)))
    assert result["ok"], result["error"]
    sink = f"/proc/{worker.pid}/fd/1"
    for _ in range(3000):  # bounded wait for the thread (64 MiB written)
        if done.exists():
            break
        await asyncio.sleep(0.02)
    assert done.exists()
    for _ in range(500):  # the guard trims on its own schedule
        if os.stat(sink).st_size <= SINK_FILE_CAP:
            break
        await asyncio.sleep(0.02)
    assert os.stat(sink).st_size <= SINK_FILE_CAP
    # The next chunk's output is its own, and the worker is fine.
    after = await run1(worker, "print('next')\n")
    assert after["ok"] and after["stdout"] == "next\n"


CHAINED = DEEP.replace(
    "down(0)\n", "try:\n    down(0)\nexcept RecursionError:\n    raise ValueError('after')\n"
)


async def test_long_chained_traceback_is_bounded_in_cpythons_words(worker: WorkerClient) -> None:
    """Guards the bounded formatter (used instead of traceback.format_exception when a chain
    is long, which took seconds on 100,000 frames): chaining and wording stay CPython's."""
    err = (await run1(worker, CHAINED))["error"]
    assert err["type"] == "ValueError" and err["line"] == 8
    text = err["traceback"]
    assert len(text) < 10_000
    assert "Previous line repeated" in text
    assert "During handling of the above exception, another exception occurred" in text
    assert text.rstrip().endswith("ValueError: after")
