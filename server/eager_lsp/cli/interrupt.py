"""Ctrl-C during `eager-lsp run` and `eager-lsp generate`: the work stops and still says
what ran.

asyncio.run's own SIGINT handling cancels the command's task: the run went down as an abort,
its report with it (no summary, only "interrupted"; for `generate`, the code the model had
written and the `-o` file too), and a second Ctrl-C raised KeyboardInterrupt wherever the
event loop happened to be. Under `CtrlC` instead:

- the first Ctrl-C stops the command's work as its user does (`Work.stop`): for `run`, the
  replay (app/run.py `stop_text`); for `generate`, the generation loop (app/generate.py
  `GenerationStop`: the model's stream is closed, no repair follows, the code written so far
  is kept). The running statement gets a KeyboardInterrupt (after the interpreter's grace
  period, 2 s, it is killed), nothing after it runs, the printer's stop line says
  "interrupted by the user (Ctrl-C)", and the usual summary follows. Before the work has
  begun (the interpreter still starting, the model not asked yet) nothing ran and there is
  nothing to report: the command's task is cancelled and it ends at once. Once the work is
  over (its summary being printed) there is nothing to stop;
- a second Ctrl-C does not wait out the grace period (a statement may catch
  KeyboardInterrupt): the interpreter is killed now, said on a line of its own, and the
  summary still follows. With no statement running there is nothing to kill. An interpreter
  that is not ours to kill (an attached Jupyter kernel: `Interpreter.may_kill`,
  executors/kernel.py) is let go of instead, and the words say that (`LET_GO`): it goes on
  with its state, maybe still running the statement;
- a third ends the process at once: nothing may hold a user who insists (an attached Jupyter
  kernel may ignore both, and is not ours to kill);
- the command then exits with 130 (128 + SIGINT, what a shell reports for a program Ctrl-C
  ended), so `eager-lsp run a.py && next` does not go on.

The handler is the event loop's (`loop.add_signal_handler`): it runs between callbacks, never
in the middle of the pipeline's code as a KeyboardInterrupt raised by Python's own handler did.
Where the loop cannot take signals (not the main thread, Windows), asyncio's handling stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, NoReturn, Protocol

from eager_lsp.app.run import stop_text
from eager_lsp.core.interpreter import Interpreter

EXIT_INTERRUPTED = 130
USER_STOP = "interrupted by the user (Ctrl-C)"
KILLED = "Ctrl-C again: the interpreter is killed"
LET_GO = "Ctrl-C again: the attached kernel is let go, not killed (it may still be running)"
# What the statement the second Ctrl-C cut short says, in the room of its line.
CUT_SHORT = {
    KILLED: f"{KILLED}; its state is lost",
    LET_GO: "Ctrl-C again: the kernel is let go; it keeps its state",
}


class Work(Protocol):
    """What a command does through its interpreter, as a Ctrl-C sees it."""

    @property
    def begun(self) -> bool:
        """Something runs or ran: a stop has something to report."""
        ...

    @property
    def over(self) -> bool:
        """Nothing is left to stop: the summary is on its way."""
        ...

    async def stop(self, reason: str) -> object:
        """Stop it as its user does; the report then says `reason`."""
        ...


class Replay:
    """`run`'s work: one replay through `interpreter` (app/run.py `run_text`)."""

    def __init__(self, interpreter: Interpreter) -> None:
        self._interpreter = interpreter

    @property
    def begun(self) -> bool:
        return self._interpreter.run is not None

    @property
    def over(self) -> bool:
        run = self._interpreter.run
        return run is not None and run.done

    async def stop(self, reason: str) -> object:
        return await stop_text(self._interpreter, reason)


class CtrlC:
    """`async with CtrlC(interpreter, killing, work):` around a command whose `work` runs
    through `interpreter` (default: a replay, `Replay`); `killing(why)` is told before the
    second Ctrl-C kills the interpreter, or lets go of one that is not ours (`KILLED`,
    `LET_GO`: the printer says so, and then tells the statement's loss as that, not as a
    mystery)."""

    def __init__(
        self,
        interpreter: Interpreter,
        killing: Callable[[str], None],
        work: Work | None = None,
    ) -> None:
        self._interpreter = interpreter
        self._killing = killing
        self._work: Work = work if work is not None else Replay(interpreter)
        self.presses = 0
        self.stopped = False  # a Ctrl-C stopped the work, or the command before it began
        self._task: asyncio.Task[Any] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    async def __aenter__(self) -> CtrlC:
        self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGINT)
        try:
            loop.add_signal_handler(signal.SIGINT, self._pressed)
        except (NotImplementedError, RuntimeError, ValueError):
            return self
        self._loop, self._previous = loop, previous
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGINT)
            if self._previous is not None:  # asyncio.run's, back for it to remove
                signal.signal(signal.SIGINT, self._previous)
            self._loop = None
        if self._pending:  # an interrupt or a kill still finishing: it ends with the run
            done, left = await asyncio.wait(set(self._pending), timeout=3.0)
            for task in left:
                task.cancel()
            for task in done:
                with contextlib.suppress(Exception):
                    task.result()

    def _pressed(self) -> None:
        self.presses += 1
        if self.presses >= 3:
            _exit_now()
        work = self._work
        if not work.begun:  # still starting: nothing ran
            self.stopped = True
            if self._task is not None:
                self._task.cancel()
        elif work.over:
            return  # its summary is on its way
        elif not self.stopped:
            self.stopped = True
            self._start(work.stop(USER_STOP))
        elif (run := self._interpreter.run) is not None and not run.done:
            why = KILLED if self._interpreter.may_kill else LET_GO
            self._killing(why)
            self._start(self._interpreter.executor_lost(why))

    def _start(self, job: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(job)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def _exit_now() -> NoReturn:
    """The third Ctrl-C: out, now. The interpreter goes too: its zygote kills its workers
    when this process's end closes their socket (executors/worker/zygote.py)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        sys.stderr.write("\neager-lsp: interrupted\n")
        sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
