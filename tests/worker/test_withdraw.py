"""`Run.withdraw` with the real worker, under both gates that batch: statements from the
withdrawn one on that have not begun never run (their text was edited; lsp/execution.py
`withdraw_edited`), the one running goes on, and the run stops there. The first statement
waits for a file the test creates, so the withdraw reaches the worker while it waits (in the
batch the worker holds, or, with gate `parallel`, on a thread)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.core.types import Event, ExecStart
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import ReplayStream

from .test_parallel import by_line, config

CODE = """\
import os, time
while not os.path.exists({go!r}):
    time.sleep(0.02)
open({side!r}, "w").write("ran")
print("after")
"""


@pytest.mark.parametrize("gate", ["eager", "parallel"])
async def test_withdrawn_statements_that_wait_never_run(tmp_path: Path, gate: str) -> None:
    go, side = tmp_path / "go", tmp_path / "side"
    session = open_interpreter(config(tmp_path, gate=gate), spares=0)
    await session.start()
    try:
        waiting = asyncio.Event()

        def listener(event: Event) -> None:
            if isinstance(event, ExecStart) and event.chunk == 1:
                waiting.set()

        code = CODE.format(go=str(go), side=str(side))
        task = asyncio.ensure_future(
            session.run_stream(ReplayStream(code, rate=None), listener=listener)
        )
        await asyncio.wait_for(waiting.wait(), 30)
        run: Any = session.run
        assert run.withdraw(2, "line 4 was edited before it ran")
        assert not run.withdraw(3, "again")  # from an earlier one already: nothing more
        await asyncio.sleep(0.05)  # (the loop may not see the file before the withdraw)
        go.touch()
        report = await asyncio.wait_for(task, 30)
        results = by_line(report)
        assert results[2].ok  # the running one went on
        assert results[4].skipped and results[5].skipped
        assert not side.exists()
        assert report.stopped_early and report.stop_reason == "line 4 was edited before it ran"

        # The next run is not touched by it.
        again = await session.run_stream(ReplayStream(code, rate=None))
        assert all(r.ok for r in again.results) and side.read_text() == "ran"
    finally:
        await session.close()
