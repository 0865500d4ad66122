"""What `eager-lsp run` says of a run the user interrupted, and what the interpreter records.

Found in a user's tour: the summary counted the interrupted statement as run ("3/4 chunks
ran"), claimed a saving for a run whose length the user's Ctrl-C decided ("saved 0.01 s"),
and a second Ctrl-C recorded the interpreter's loss twice (once by the kill, once more by the
run that saw its interpreter die; that second call could also have killed a replacement).
Real `eager-lsp` processes and real workers; the interpreter-level tests drive `CtrlC` with
real SIGINTs to this process, as a terminal sends them.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from eager_lsp.app.run import run_text
from eager_lsp.cli.interrupt import KILLED, CtrlC
from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig
from eager_lsp.core.run import LostOnRequest, Run
from eager_lsp.core.types import ExecStart
from eager_lsp.executors.backend import open_interpreter
from tests.cli.test_run import INTERRUPTED, Command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals, /proc"),
]

# A statement that ignores interrupts: only a kill ends it.
DEAF = (
    "import os, signal, time\n"
    "x = 6 * 7\n"
    "_ = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "print('pid', os.getpid(), flush=True); time.sleep(60)\n"
    "z = 1\n"
)


def test_the_summary_counts_the_interrupted_statement_as_interrupted_and_claims_no_saving(
    tmp_path: Path,
) -> None:
    (tmp_path / "s.py").write_text(
        "import os, time\nx = 6 * 7\nprint('pid', os.getpid(), flush=True); time.sleep(60)\ny = 2\n"
    )
    run = Command("--rate", "0", "s.py", cwd=tmp_path)
    run.until("out| pid")
    run.ctrl_c()
    code, out, err = run.finish(timeout=30)
    assert code == 130, (out, err)
    assert re.search(r"\] L3 +KeyboardInterrupt", out), out
    # two statements ran to their end; the third was interrupted; the fourth never ran
    assert re.search(r"· 2/4 chunks ran · 1 interrupted ·", out), out
    assert "saved" not in out and "generate-then-run would take" not in out, out
    assert "generate-then-run: not compared (the user interrupted the run)" in out, out
    assert out.rstrip().splitlines()[-1] == f"stopped early: {INTERRUPTED}", out


def test_a_whole_run_is_still_compared(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("x = 1\ny = x + 1\n")
    code, out, err = Command("--rate", "0", "s.py", cwd=tmp_path).finish(timeout=60)
    assert code == 0, (out, err)
    assert "· 2/2 chunks ran · execution" in out and "interrupted" not in out, out
    assert "generate-then-run would take" in out, out


def _config(tmp_path: Path, grace: float = 2.0) -> InterpreterConfig:
    return InterpreterConfig(
        path=str(tmp_path / "doc.py"),
        cwd=str(tmp_path),
        debug=False,
        gate=GatePolicy.from_settings("eager"),
        interrupt_grace_s=grace,
    )


async def _running(interpreter: Interpreter, line: int) -> Run:
    """The current run, once the statement at (1-based) `line` runs."""
    for _ in range(3000):
        run = interpreter.run
        if run is not None:
            starts = {e.chunk for e in run.events if isinstance(e, ExecStart)}
            if any(c.start_line == line and c.index in starts for c in run.chunks):
                return run
        await asyncio.sleep(0.01)
    raise AssertionError(f"line {line} never ran")


async def test_a_second_ctrl_c_records_the_loss_once(tmp_path: Path) -> None:
    interpreter = open_interpreter(_config(tmp_path), spares=0)
    killed: list[str] = []
    try:
        async with CtrlC(interpreter, killed.append):
            await interpreter.start()
            replay = asyncio.ensure_future(run_text(interpreter, DEAF))
            await _running(interpreter, 4)
            os.kill(os.getpid(), signal.SIGINT)  # the first: an interrupt, ignored
            await asyncio.sleep(0.3)
            assert not replay.done()
            os.kill(os.getpid(), signal.SIGINT)  # the second: the interpreter is killed
            outcome = await asyncio.wait_for(replay, 30)
        assert killed == [KILLED]
        assert interpreter.lost_reasons == [KILLED]  # (it was recorded twice)
        report = outcome.report
        lost = report.failed
        assert lost is not None and isinstance(lost.error, LostOnRequest), lost
        assert lost.error.type == "InterpreterLost" and lost.error.message.startswith(KILLED)
        assert report.interrupted and report.restarted
        again = await run_text(interpreter, "alive = 'yes'\n")  # the replacement is untouched
        assert again.ok and interpreter.lost_reasons == [KILLED]
    finally:
        await interpreter.close()


async def test_an_interrupt_past_its_grace_records_the_loss_once(tmp_path: Path) -> None:
    interpreter = open_interpreter(_config(tmp_path, grace=0.5), spares=0)
    try:
        await interpreter.start()
        replay = asyncio.ensure_future(run_text(interpreter, DEAF))
        await _running(interpreter, 4)
        assert await interpreter.interrupt() == "killed"
        report = (await asyncio.wait_for(replay, 30)).report
        assert len(interpreter.lost_reasons) == 1, interpreter.lost_reasons
        lost = report.failed
        assert report.restarted and lost is not None and isinstance(lost.error, LostOnRequest)
        assert (await run_text(interpreter, "alive = 1\n")).ok
        assert len(interpreter.lost_reasons) == 1, interpreter.lost_reasons
    finally:
        await interpreter.close()


async def test_a_loss_nobody_asked_for_is_the_codes(tmp_path: Path) -> None:
    interpreter = open_interpreter(_config(tmp_path), spares=0)
    try:
        report = (await run_text(interpreter, "import os\nos._exit(3)\n")).report
        lost = report.failed
        assert lost is not None and lost.error is not None and lost.error.state_lost
        assert not isinstance(lost.error, LostOnRequest) and not report.restarted
        assert len(interpreter.lost_reasons) == 1, interpreter.lost_reasons
    finally:
        await interpreter.close()
