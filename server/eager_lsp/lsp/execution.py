"""Running code in a document's interpreter: activities, progress, and the simple commands.

An activity is whatever is feeding the document's interpreter right now (a generation, a
whole-document run, a follow-mode run). One at a time per document, since an interpreter runs one
stream at a time; a new one replaces the old, except that a second generation is refused.

A run the user ended is not an error: an interrupt that landed in its statement
(`RunReport.interrupted`), a stop (`eager.stop`, a new activity, a restart), a restart. Its
`eager/status` ends `idle` with `methods.INTERRUPTED`, `STOPPED` or `RESTARTED` as message; `error`
is for the code's own failures. A stopped run's summary has `stoppedEarly` and no `error`
(`error: "stopped"` made clients say "stopped early after 2.1 s (stopped)"); an interrupted
one keeps the KeyboardInterrupt as its `error`, as its diagnostic shows it.

The message is what is true at the end, and only that is sent (`user_ending`): an interrupt
or a stop that had to kill the interpreter (the code ignored the interrupt past the grace
period; its statement's error is a `LostOnRequest`) ends `RESTARTED`, not `INTERRUPTED`: the
variables are gone. A run that a restart stopped ends `RESTARTED` too, the restart's own last
word, before its summary (a `stopped` sent first flashed in the status bar; a client that
reads the status with the summary knows the user ended it). The summary's
`chunks` counts the statements that ran to their end (`ran_to_end`): not the one interrupted,
nor those skipped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from eager_lsp.app.run import run_text, stop_text
from eager_lsp.core.executor import ExecutorLost
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.run import LostOnRequest, RunReport, ended_by_user
from eager_lsp.core.types import ChunkResult, Event, failure_text
from eager_lsp.executors.worker.debugging import DEBUG_HOST
from eager_lsp.lsp import methods
from eager_lsp.lsp.edits import client_answer
from eager_lsp.lsp.errors import RequestError
from eager_lsp.lsp.payloads import (
    DebugAttachInfo,
    GenerationSummaryParams,
    InterruptResult,
    RestartResult,
)
from eager_lsp.lsp.runs import LineMap, RunBinding, publishing
from eager_lsp.lsp.text import LineEdit

if TYPE_CHECKING:
    from eager_lsp.lsp.context import ExecutionContext, ProgressClient
    from eager_lsp.lsp.documents import Document, RunCounts

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.2
# The stop reason of an activity a restart stops (`restart`): it ends `RESTARTED`, not `stopped`.
RESTART_STOP = "interpreter restarted"
# The stop reason of `eager.stop` (the user's Stop): follow mode's runs stop as its user would
# for it (`Activity.stop_as_its_user`), not only cancelled as for an edit that replaces them.
USER_STOP = "stopped on request"


class Progress:
    """A cancellable `$/progress` (when the client supports it); cancelling stops `owner`.

    Reports are throttled to one per REPORT_INTERVAL_S, on both edges: a report that comes
    too soon is sent when the interval ends, if no newer one replaced it. With the leading
    edge alone the bar kept the message of the last report sent ("0/1 statements run") while
    the run went on to "2/3" and then waited in a long statement."""

    def __init__(self, server: ProgressClient, owner: Activity, title: str) -> None:
        self.server = server
        self.owner = owner
        self.title = title
        self.token: str | None = None
        self._last = 0.0
        self._held: str | None = None  # the latest report that came too soon
        self._timer: asyncio.TimerHandle | None = None

    async def begin(self, message: str) -> None:
        if not self.server.client_supports("window", "work_done_progress"):
            return
        token = f"eager-{uuid.uuid4().hex[:12]}"
        try:
            await client_answer(self.server.work_done_progress.create_async(token), 5.0)
        except Exception as exc:
            log.info("workDoneProgress/create failed: %s", exc)
            return
        self.token = token
        self.server.progress_owners[token] = self.owner
        self.server.work_done_progress.begin(
            token, lsp.WorkDoneProgressBegin(title=self.title, cancellable=True, message=message)
        )

    def due(self, *, force: bool = False) -> bool:
        """A report now would be sent (a bar is shown, and forced or the interval passed)."""
        return self.token is not None and (
            force or time.monotonic() - self._last >= REPORT_INTERVAL_S
        )

    def report(self, message: str, *, force: bool = False) -> None:
        if self.token is None:
            return
        if not self.due(force=force):
            self._held = message
            if self._timer is None:
                wait = REPORT_INTERVAL_S - (time.monotonic() - self._last)
                self._timer = asyncio.get_running_loop().call_later(wait, self._send_held)
            return
        self._held = None
        self._last = time.monotonic()
        self.server.work_done_progress.report(
            self.token, lsp.WorkDoneProgressReport(message=message, cancellable=True)
        )

    def _send_held(self) -> None:
        self._timer = None
        if self._held is not None:
            self.report(self._held, force=True)

    def end(self, message: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held = None
        if self.token is None:
            return
        token, self.token = self.token, None
        self.server.progress_owners.pop(token, None)
        self.server.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))


class Activity:
    """Base: a background task feeding a document's interpreter (documents.ActivityHandle)."""

    kind = "activity"

    def __init__(self, server: ExecutionContext, doc: Document) -> None:
        self.server = server
        self.doc = doc
        self.task: asyncio.Task[Any] | None = None
        self.stop_reason: str | None = None
        self.binding: RunBinding | None = None  # the run it feeds, once begun
        self.prelude_binding: RunBinding | None = None  # the code above it, while that runs
        self.tokens = 0  # model pieces received (a generation)
        self.progress: Progress | None = None
        self._interpreter: Interpreter | None = None  # the one it feeds, once it has it

    def start(self) -> None:
        self.doc.activity = self
        self.task = self.server.spawn(self._guarded(), self.kind)

    async def _guarded(self) -> None:
        try:
            await self.main()
        finally:
            if self.doc.activity is self:
                self.doc.activity = None

    async def main(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def wait_done(self, timeout: float) -> None:
        """Wait (bounded) until its task has ended, without stopping it."""
        task = self.task
        if task is None or task.done():
            return
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(task), timeout)

    def ending(self, report: RunReport | None, failed: ChunkResult | None) -> str | None:
        """`user_ending`, where a stop made the interrupt that landed: `STOPPED`."""
        ended = user_ending(report, failed)
        if ended == methods.INTERRUPTED and self.stop_reason is not None:
            return methods.STOPPED  # (the user said stop)
        return ended

    async def stop_as_its_user(self, reason: str) -> None:
        """Stop its run as its user would (app/run.py `stop_text`): the running statement gets
        its KeyboardInterrupt (the interpreter is killed after the grace period) and the run
        ends with its report, so that statement shows what happened, and the status and the
        `eager.stop` answer say whether the variables are gone. (Cancelled, a run drops that
        statement's result and says nothing over a killed interpreter.) A restart, which
        kills anyway, does not wait for it. `stop` then cancels what is left."""
        self.stop_reason = self.stop_reason or reason
        interpreter = self._interpreter
        if reason != RESTART_STOP and interpreter is not None and self.running:
            await stop_text(interpreter, reason)
            await self.wait_done(5.0)

    async def stop(self, reason: str) -> None:
        """Cancel and wait until it has wound down."""
        self.stop_reason = self.stop_reason or reason
        task = self.task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(task), 5.0)


async def replace_activity(doc: Document, kind: str) -> None:
    """Make room for a new activity of `kind` (RequestError if it must be refused). When it
    returns, the document is open and nothing else runs in it; the caller starts its activity
    with no await in between. Requests are handled concurrently: while this waits for a stop,
    another request may start an activity or the document may close, so both are checked
    again after every wait (once, two generations ran in one document and interpreter)."""
    stopped: set[int] = set()
    while True:
        if doc.closed:
            raise RequestError(f"eager: {doc.uri} is not open in the editor.", "not_open")
        current = doc.activity
        if current is None or not current.running or id(current) in stopped:
            return  # (one that ignored its stop is not waited for twice)
        if kind in ("generate", "fix") and current.kind in ("generate", "fix"):
            raise RequestError(
                f"eager: {Path(doc.path).name} is already generating; stop it first (Neovim: :EagerStop; VS Code: Eager: Stop).",
                "busy",
            )
        stopped.add(id(current))
        await current.stop(f"replaced by {kind}")


# Activities whose statements wait to run behind a running one, as their user asked for them:
# a whole-document run and a generation (or its fix), the code above it included. Follow mode
# runs what the text is now by itself (lsp/follow.py).
WITHDRAWS = frozenset({"run", "generate", "fix"})


def _waiting_binding(doc: Document) -> RunBinding | None:
    """The binding of the run whose statements may wait to run now (a generation's code above
    runs before its stream, under its own binding)."""
    activity = doc.activity
    if activity is None or getattr(activity, "kind", None) not in WITHDRAWS:
        return None
    binding = getattr(activity, "prelude_binding", None) or getattr(activity, "binding", None)
    return binding if isinstance(binding, RunBinding) and not binding.cancelled else None


def place_waiting(doc: Document) -> None:
    """Before a didChange: where the statements that wait to run are (`withdraw_edited`)."""
    binding = _waiting_binding(doc)
    if binding is not None:
        binding.place_waiting()


def withdraw_edited(server: ExecutionContext, doc: Document, edits: Sequence[LineEdit]) -> None:
    """After a didChange: a statement of the run in progress that waits to run (behind a
    running one, or held by the safe gate) and whose text the change edited or deleted never
    runs, nor anything after it (`Run.withdraw`). Code runs only as the user asked for it: the
    text that would have run is no longer what they see (a loop runs, the user deletes the file
    write below it; a generation has ended, its sleep still runs, the user undoes it). The run
    ends there, stopped early; a message says which line once its fate is known: skipped, or
    run all the same (it had begun in the interpreter, or a Jupyter kernel had it)."""
    binding, interpreter = _waiting_binding(doc), doc.interpreter
    run = interpreter.run if interpreter is not None else None
    if binding is None or run is None or run.done:
        return
    found = binding.edited_before_running(edits)
    if found is None:
        return
    chunk, at = found
    line = f"line {at + 1}"

    def told(result: ChunkResult) -> None:
        binding.on_withdrawn = None
        if result.skipped:
            server.show(
                f"eager: {line} was edited or deleted before it ran: it and what follows did"
                " not run"
            )
        else:
            server.show(
                f"eager: {line} was edited or deleted after it was sent to the interpreter: it"
                " ran as it was; what follows it and waited did not"
            )

    # (told before the withdraw: what it skips at once is skipped within the call)
    earlier = binding.withdrawn, binding.on_withdrawn
    binding.withdrawn, binding.on_withdrawn = chunk.index, told
    if not run.withdraw(chunk.index, f"{line} was edited or deleted before it ran"):
        binding.withdrawn, binding.on_withdrawn = earlier


async def reset_namespace(interpreter: Interpreter) -> None:
    """A fresh namespace for a reproducible run (a new process if the reset fails)."""
    try:
        await interpreter.reset()
    except Exception as exc:
        log.info("namespace reset failed (%s); restarting the interpreter", exc)
        await interpreter.restart()


def summary_payload(
    doc: Document,
    report: RunReport | None,
    *,
    tokens: int,
    error: str | None,
    binding: RunCounts | None = None,
    started: bool = True,
) -> GenerationSummaryParams:
    """`eager/generationSummary` (docs/protocol.md). Without a report (the run was stopped
    before it could finish) the numbers come from the run's binding (given, or the document's
    current activity's): what ran before the stop, and for how long. Not `started` (its
    interpreter could not start; `error` says why): nothing was stopped, so not
    `stoppedEarly` (clients said "stopped early after 0.0 s")."""
    if report is None:
        if binding is None and doc.activity is not None:
            binding = doc.activity.binding
        ran = binding.ran if binding is not None else 0
        if isinstance(binding, RunBinding) and ended_by_user(binding.failed):
            ran -= 1  # the statement the stop interrupted did not run to its end
        return GenerationSummaryParams(
            uri=doc.uri,
            elapsedS=round(binding.elapsed(), 4) if binding is not None else 0.0,
            lastTokenS=None,
            execTotalS=0.0,
            serialEstimateS=None,
            savedS=None,
            chunks=max(0, ran),
            tokens=tokens,
            stoppedEarly=started,
            error=error,
        )
    return GenerationSummaryParams(
        uri=doc.uri,
        elapsedS=round(report.done_at - report.started_at, 4),
        lastTokenS=report.rel(report.last_piece_at),
        execTotalS=round(report.exec_total, 4),
        serialEstimateS=_r(report.serial_estimate),
        savedS=_r(report.saved),
        chunks=ran_to_end(report),
        tokens=tokens,
        stoppedEarly=report.stopped_early,
        error=error,
    )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def ran_to_end(report: RunReport) -> int:
    """The statements that ran to their end (ok, or failed by themselves): not one the user
    interrupted (`ended_by_user`), nor one skipped after it (or after an error)."""
    return sum(1 for r in report.results if not r.skipped and not ended_by_user(r))


def user_ending(report: RunReport | None, failed: ChunkResult | None) -> str | None:
    """The `eager/status` message of a run the user ended, as it is true at its end
    (`methods.INTERRUPTED`, `STOPPED`, `RESTARTED`); None: the user did not end it. `report`
    None: it was stopped; `failed`: its first failing statement, if any. An interrupt or a
    stop that had to kill the interpreter (its statement's error is a `LostOnRequest`) says
    the interpreter was restarted: its variables are gone."""
    lost = failed is not None and isinstance(failed.error, LostOnRequest)
    if report is None:
        return methods.RESTARTED if lost else methods.STOPPED
    if report.restarted:
        return methods.RESTARTED
    if report.interrupted:
        return methods.INTERRUPTED
    return None


def run_error_text(binding: RunBinding) -> str | None:
    return failure_text(binding.failed) or failure_text(binding.syntax)


class DocumentRun(Activity):
    """`eager.runDocument`: a fresh namespace, then the whole text streamed through at once."""

    kind = "run"

    async def stop(self, reason: str) -> None:
        """Whatever stops it (a stop, a new run or generation), as its user would."""
        await self.stop_as_its_user(reason)
        await super().stop(reason)

    async def main(self) -> None:
        server, doc = self.server, self.doc
        try:
            interpreter = self._interpreter = await server.ensure_interpreter(doc)
        except asyncio.CancelledError:
            # stopped while its interpreter starts: nothing ran, but the run ends as any does
            # (its status and summary; the clients' statuslines said `running` no more)
            word = methods.RESTARTED if self.stop_reason == RESTART_STOP else methods.STOPPED
            server.status(doc, "idle", message=word)
            server.notify(
                methods.GENERATION_SUMMARY, summary_payload(doc, None, tokens=0, error=None)
            )
            raise
        except RequestError as exc:
            server.show(exc.message, error=True)
            server.status(doc, "error", message=exc.message)
            server.notify(
                methods.GENERATION_SUMMARY,
                summary_payload(doc, None, tokens=0, error=exc.message, started=False),
            )
            return
        if doc.follower is not None:
            doc.follower.suspend()
        await reset_namespace(interpreter)
        gone = doc.store.clear()
        if gone:
            server.stale(doc, 0)
            server.republish(doc)
        progress = self.progress = Progress(server, self, "eager: running")
        await progress.begin(Path(doc.path).name)
        linemap = LineMap(doc)

        def on_event(event: Event) -> None:
            if event.kind in ("result", "release", "exec_start"):
                msg = f"{binding.done}/{binding.released} statements run"
                progress.report(msg)
                server.status(doc, "running")

        binding = publishing(server, doc, linemap.map, on_event=on_event)
        self.binding = binding  # server.status reads its counts
        server.status(doc, "running")
        report: RunReport | None = None
        try:
            report = (await run_text(interpreter, doc.text.source, listener=binding)).report
        finally:
            binding.cancelled = report is None
            linemap.detach()
            error = run_error_text(binding) if report is not None else None
            if self.stop_reason is not None and ended_by_user(binding.failed):
                error = None  # a stop is no error (its statement's result says what happened)
            ended = self.ending(report, binding.failed)
            if self.stop_reason == RESTART_STOP:
                ended = methods.RESTARTED  # (the restart's own last word, said first here)
            progress.end(ended or error or "done")
            if ended is None and error:
                server.status(doc, "error", message=error)
            else:
                server.status(doc, "idle", message=ended or "")
            server.notify(
                methods.GENERATION_SUMMARY,
                summary_payload(doc, report, tokens=0, error=error, binding=binding),
            )
            if doc.follower is not None and not doc.closed:
                doc.follower.resume_after_run()


def prelude_code(doc: Document, prefix: str) -> str:
    """What of `prefix` (the text above a generation) must run first: "" when this interpreter
    already attempted every statement of it, else `prefix` with the statements that were
    attempted and failed (an error, an interrupt) blanked out.

    The interpreter's ledger (core/ledger.py) decides, matching the prefix's statements to
    what ran by their text: a statement that failed or was interrupted counts as attempted
    and is not run again by itself (an interrupted `while True:` would hang the next
    generation) until its text is edited (an edited statement is a new one) or the user asks
    (run the file, restart the interpreter: both empty the ledger)."""
    from eager_lsp.core.rerun import statements

    session = doc.interpreter
    chunks, syntax = statements(prefix)
    if session is None or not chunks or syntax is not None:
        return prefix
    matched = session.ledger.match(chunks)
    if all(r is not None and r.attempted for r in matched):
        return ""
    lines = prefix.splitlines(keepends=True)
    for chunk, rec in zip(chunks, matched, strict=True):
        if rec is not None and rec.failed:  # keep the line count: later lines keep numbers
            for i in range(chunk.start_line - 1, min(chunk.end_line, len(lines))):
                lines[i] = "\n" if lines[i].endswith("\n") else ""
    return "".join(lines)


async def run_prelude(
    server: ExecutionContext,
    doc: Document,
    interpreter: Interpreter,
    prefix: str,
    lines: LineMap | None = None,
) -> None:
    """Run the code above a generation in a fresh namespace, publishing its results like any
    run: a reproducible state for the generated code to build on. Its errors are shown on their
    lines; the generation goes on (the model may well write the fix). `lines` maps `prefix`'s
    lines to the document's when it was taken earlier (the caller owns it); else it is the
    document's text now."""
    await reset_namespace(interpreter)
    linemap = lines if lines is not None else LineMap(doc)
    binding = publishing(server, doc, linemap.map)
    activity = doc.activity
    if isinstance(activity, Activity):
        activity.prelude_binding = binding  # (its statements are withdrawn when edited too)
    try:
        await run_text(interpreter, prefix, listener=binding)  # never raises StreamFailed
    finally:
        if isinstance(activity, Activity):
            activity.prelude_binding = None
        if lines is None:
            linemap.detach()


# -- interpreter commands -----------------------------------------------------------------------


async def interrupt(doc: Document) -> InterruptResult:
    if doc.interpreter is None:
        return InterruptResult(interrupted=False, stateLost=False)
    outcome = await doc.interpreter.interrupt()
    if outcome == "running":  # ignored, and not ours to kill (an attached kernel)
        return InterruptResult(interrupted=False, stateLost=False, stillRunning=True)
    return InterruptResult(interrupted=outcome != "idle", stateLost=outcome == "killed")


async def restart(server: ExecutionContext, doc: Document) -> RestartResult:
    if doc.activity is not None:
        await doc.activity.stop(RESTART_STOP)
    interpreter = server.interpreter_for(doc)
    await interpreter.restart()
    doc.running.clear()  # nothing runs in the new process
    gone = doc.store.clear()
    if gone:
        server.stale(doc, 0)
        server.republish(doc)
    # Its results are gone, a failing one with them: the status no longer says `error`.
    following = f"{methods.FOLLOWING} · " if doc.follower is not None else ""
    server.status(doc, "idle", message=following + methods.RESTARTED)
    if doc.follower is not None:
        doc.follower.rebuild_soon()
    return RestartResult(restarted=True)


async def debug_attach_info(server: ExecutionContext, doc: Document) -> DebugAttachInfo | None:
    """The user asked to attach: only now does the interpreter's debugpy start listening
    (127.0.0.1, in-process, no adapter child). Answered while a chunk runs too, so a
    runaway loop can be paused. None when debug.enabled is off."""
    if not server.settings.debug_enabled:
        return None
    interpreter = await server.ensure_interpreter(doc)
    try:
        port = await interpreter.debug_listen()
    except (RuntimeError, ExecutorLost) as exc:
        reason = exc.reason if isinstance(exc, ExecutorLost) else str(exc)
        raise RequestError(f"eager: the debugger could not start: {reason}", "debugger")
    return DebugAttachInfo(host=DEBUG_HOST, port=port)
