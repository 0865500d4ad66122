"""A text replayed through an interpreter: `eager-lsp run FILE`, `eager.runDocument`, and the
code above a generation that must run first.

Rules: the text is cut into pieces and fed as a model would feed it (at a token rate, or as
fast as possible), so it goes through the same detector, gate and batching as generated code.
A replay cannot break mid-way, but if its source ever raised, what ran is still reported
(`RunOutcome.report`) and nothing is raised.

A script run to its end ends as `python script.py` ends (`at_exit`, `eager-lsp run` and
`eager-lsp generate`): its threads that are not daemons are waited for, its `atexit`
functions run (multiprocessing's joins its children there), its objects are let go (a file
it left open is closed, its buffer written) and any file still open is flushed; what that
prints is the script's output too.
Without it the worker's exit (`os._exit`) lost all of it: a file written but not closed stayed
empty, a thread's last write and an `atexit` print never happened. Only our worker: a Jupyter
kernel's threads and exit functions are the kernel's own.

A person stops a replay with `stop_text` (Ctrl-C of `eager-lsp run`), not by cancelling it:
a cancelled `run_text` raises CancelledError, and what ran and what did not went with it.
A stop is the run's own kind of stop (as an error's): the running statement is interrupted,
nothing after it runs, and `run_text` returns the outcome with the stop's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eager_lsp.core.executor import ExecutorLost, InterruptOutcome
from eager_lsp.core.interpreter import Interpreter, StreamFailed
from eager_lsp.core.run import Listener, RunReport
from eager_lsp.core.types import failure_text
from eager_lsp.providers.replay import ReplayStream

RUN_PIECE = 512  # characters per piece when a text is replayed "as fast as possible"
AT_EXIT_ID = -2  # the chunk id of the script's ending (no statement of a run has it)
# Run in the script's namespace as its last statement (names start with `_eager_`: nothing
# of the script's is shadowed before it is let go).
AT_EXIT_CODE = """\
def _eager_at_exit():
    import atexit, gc, io, threading
    me = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not me and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    names = globals()
    for name in [n for n in names if not (n.startswith("__") and n.endswith("__"))]:
        if name != "_eager_at_exit":
            del names[name]
    gc.collect()
    for obj in gc.get_objects():
        try:
            if isinstance(obj, io.IOBase) and not obj.closed and obj.writable():
                obj.flush()
        except Exception:
            pass
_eager_at_exit()
"""


@dataclass
class RunOutcome:
    report: RunReport
    chars_total: int  # the text's length
    chars_streamed: int  # how much of it was fed before the run stopped

    @property
    def ok(self) -> bool:
        """No statement failed and the text had no syntax error."""
        return self.report.failed is None and self.report.syntax_error is None

    @property
    def error(self) -> str | None:
        """The first failing statement's error text, else the syntax error's; None: all ran."""
        return failure_text(self.report.failed) or failure_text(self.report.syntax_error)


async def run_text(
    interpreter: Interpreter,
    text: str,
    *,
    listener: Listener | None = None,
    rate: float | None = None,
    piece_size: int = RUN_PIECE,
    first_line: int = 1,
) -> RunOutcome:
    """Replay `text` through `interpreter` (at `rate` tokens/s; None: no limit)."""
    stream = ReplayStream(text, rate=rate, piece_size=piece_size)
    try:
        report = await interpreter.run_stream(stream, first_line=first_line, listener=listener)
    except StreamFailed as exc:
        report = exc.report
    return RunOutcome(report=report, chars_total=len(text), chars_streamed=stream.sent)


async def stop_text(interpreter: Interpreter, reason: str) -> InterruptOutcome | None:
    """Stop what `run_text` is replaying through `interpreter`, as its user: nothing not yet
    run runs, and the running statement gets a KeyboardInterrupt (killed after the
    interpreter's grace period). The report says `reason`. None: no run to stop (none has
    begun, or it is over); else how the interrupt went (`Interpreter.interrupt`)."""
    run = interpreter.run
    if run is None or run.done:
        return None
    run.request_stop(reason)
    return await interpreter.interrupt()


async def at_exit(interpreter: Interpreter) -> dict[str, Any] | None:
    """End the script as Python ends it (the module's rules) in our worker; its result event
    (`stdout`, `stderr`, `error`), or None: not a worker, or nothing to end (it is gone)."""
    if interpreter.config.backend != "worker":
        return None
    try:
        outcome = await interpreter.run_own(AT_EXIT_CODE, "at exit", AT_EXIT_ID)
    except ExecutorLost:
        return None
    return dict(outcome) if outcome["ev"] == "result" else None
