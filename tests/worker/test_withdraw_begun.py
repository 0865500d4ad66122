"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) Run.withdraw for a statement that has just begun (the edit's didChange was handled before
the worker's "started" event reached the server: lsp/runs.py still lists it as waiting).
The docs: "A statement that had begun when the edit arrived runs on"; Run.withdraw: "a
running one is not interrupted"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.core.types import Event, ExecStart
from eager_lsp.executors.backend import open_interpreter
from eager_lsp.providers.replay import ReplayStream
from tests.worker.test_parallel import by_line, config

# line 2-3: waits for go; line 4-7: the write, begun, waits for go2 in the middle of writing
CODE = """\
import os, time
while not os.path.exists({go!r}):
    time.sleep(0.02)
with open({side!r}, "w") as f:
    f.write("half")
    while not os.path.exists({go2!r}):
        time.sleep(0.02)
    f.write(" and the rest")
print("after")
"""


@pytest.mark.parametrize("gate", ["eager", "parallel"])
async def test_a_withdraw_that_reaches_a_begun_statement_lets_it_run_on(
    tmp_path: Path, gate: str
) -> None:
    go, go2, side = tmp_path / "go", tmp_path / "go2", tmp_path / "side"
    session = open_interpreter(config(tmp_path, gate=gate), spares=0)
    await session.start()
    try:
        began = asyncio.Event()

        def listener(event: Event) -> None:
            if isinstance(event, ExecStart) and event.chunk == 2:
                began.set()

        code = CODE.format(go=str(go), go2=str(go2), side=str(side))
        task = asyncio.ensure_future(
            session.run_stream(ReplayStream(code, rate=None), listener=listener)
        )
        await asyncio.sleep(0.3)
        go.touch()
        await asyncio.wait_for(began.wait(), 30)
        run: Any = session.run
        run.withdraw(2, "line 4 was edited before it ran")  # the LSP had not seen it begin
        await asyncio.sleep(0.3)
        go2.touch()
        report = await asyncio.wait_for(task, 30)
        results = by_line(report)
        print({k: (r.ok, r.skipped, r.error) for k, r in results.items()})
        assert side.read_text() == "half and the rest", "the begun statement was cut short"
        assert results[4].ok, results[4]
        assert results[9].skipped
    finally:
        await session.close()
