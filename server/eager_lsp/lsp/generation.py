"""Generation inside the editor: model → interpreter and document at once.

The model's pieces feed the document's run directly (execution never waits for the editor),
while an EditWriter writes the same text into the document. A result is shown once its text
is in the document. When executed code raises (with `execution.stopOnError`), the stream is
closed at once, nothing past the failing statement is written, and our own text past it is
removed, so the document ends with the code that ran up to the error, which sits on its line.
"Fix with AI" regenerates from the failing statement: the statements before it are not re-run
and keep their interpreter state; afterwards only the statements below that depend on the
replaced ones re-run (lsp/incremental.py). What the repair asks and how the answer is filtered
(repeats dropped, an unchanged failing statement not run again) is app/repair.py's, shared with
the CLI.

The loop itself (generate, stop at the error, keep the text up to the failing statement,
repair up to `repair.maxAttempts` times with `repair.mode: auto`, ask again once after an
unchanged answer) is `app.generate.repair_loop`, the CLI's loop: a `Generation` is its
`AttemptRunner`. For each attempt it only places the text in the document (a region; a
repair's region covers the code from the failing statement to the end of the previous
attempt's text), writes and trims it, binds the results to lines and publishes the status
and the `eager/generationSummary` (one per attempt).

What the request was made against is taken when it arrives (`Asked`), before any wait: the
code above the insertion point (run first when this interpreter has not attempted it) and the
moment the summary's times count from. Lines the user types above after pressing generate may
be half typed, so they are never run as the code above; and the code above runs inside the
generation's time, so the summary counts it (it used to count from the run, "done in 0.0 s").

When the model ends an attempt (a dropped stream, an HTTP error) the end says so everywhere
(`Attempt.model_failure`: the summary's `error`, the status, the progress end, a message),
never "done"; the complete lines that arrived stay, an unfinished last line goes (as for a
stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from eager_lsp import limits
from eager_lsp.app import repair
from eager_lsp.app.attempt import Attempt
from eager_lsp.app.generate import GenerateOutcome, RepairContext, repair_loop
from eager_lsp.app.repair import RepairRequest
from eager_lsp.core.executor import Executor
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig
from eager_lsp.core.run import LostOnRequest, RunReport, ended_by_user
from eager_lsp.core.types import ChunkResult, EndOfStream, Event
from eager_lsp.lsp import methods
from eager_lsp.lsp.edits import EDITED_BY_USER, EDITED_MEANWHILE, EditWriter, Region, Writer
from eager_lsp.lsp.errors import RequestError
from eager_lsp.lsp.execution import (
    RESTART_STOP,
    USER_STOP,
    Activity,
    Progress,
    prelude_code,
    replace_activity,
    run_prelude,
    summary_payload,
    user_ending,
)
from eager_lsp.lsp.payloads import (
    OMIT,
    PayloadError,
    Position,
    PrepareResult,
    StartedResult,
    StopResult,
    from_wire,
)
from eager_lsp.lsp.put_back import Opened
from eager_lsp.lsp.runs import LineMap, RunBinding, publishing
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.stream_edits import StreamEditWriter
from eager_lsp.lsp.unwritten import Unwritten, shows_its_text

if TYPE_CHECKING:
    from eager_lsp.lsp.context import GenerationContext
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.text import Text
    from eager_lsp.providers.config import LLMConfig

log = logging.getLogger(__name__)

STATUS_INTERVAL_S = 0.25  # status and progress while a generation streams, at most this often
RATE_AFTER_S = 0.25  # the status's tokens per second, once the stream has run this long

DEFAULT_REPAIR_TASK = "Make the code work."


def code_above(text: Text, start: int, end: int) -> str:
    """The lines above the generated code when it is asked for at `start`-`end` of `text`
    (`Generation._open_line`'s rule): the text before the point, and the whole line when the
    point is inside it (the code continues below that line)."""
    line_stop = _inside_line(text, start, end)
    if line_stop is not None:
        return text.source[:line_stop] + "\n"
    before = text.source[text.line_start(text.line_of(start)) : start]  # of the point's line
    return text.source[:start] + ("\n" if before else "")


def code_below(text: Text, start: int, end: int) -> str:
    """The text below the generated code (`code_above`'s counterpart): after the selection,
    or after the line the point is inside of."""
    line_stop = _inside_line(text, start, end)
    return text.source[end if line_stop is None else line_stop :]


def _inside_line(text: Text, start: int, end: int) -> int | None:
    """Where the line ends when the point (no selection) is inside a line, text on both sides
    of it: the generated code then goes below that line."""
    line = text.line_of(start)
    before = text.source[text.line_start(line) : start]
    end_line = text.line_of(end)
    line_stop = text.line_start(end_line) + len(text.line(end_line))
    if start == end and before and text.source[end:line_stop].strip():
        return line_stop
    return None


class Asked:
    """What a generation was asked against, taken when the request arrived: the time (its
    summary's `elapsedS` counts from here), the document version its range refers to, and the
    code above the insertion point, with a LineMap that follows those lines through later
    edits, and the text it is to replace (a selection, a repair's failing statement). Lines
    the user types above after the request are not part of it: they may be half typed, and
    running them was never asked for."""

    def __init__(self, doc: Document, start: int, end: int) -> None:
        self.at = time.monotonic()
        self.version = doc.version
        self.above = code_above(doc.text, start, end)
        self.below = code_below(doc.text, start, end)  # only to know an echo of it
        self.replaces = doc.text.source[start:end]  # the text the generation is to replace
        self.lines = LineMap(doc)

    def detach(self) -> None:
        self.lines.detach()


class _DocumentEdge:
    """The attempt's edge in the editor: pieces to the writer, events to the run binding,
    a cut stops the writer there."""

    def __init__(self, generation: Generation, binding: RunBinding) -> None:
        self.generation = generation
        self.binding = binding

    def piece(self, text: str) -> None:
        self.generation._on_piece(text)

    def event(self, event: Event) -> None:
        self.binding(event)

    def cut(self, keep: int) -> None:
        if self.generation.stop_reason is not None:
            return  # the user stopped it: the interrupt's error cuts nothing (stop's own rule)
        self.generation.cut_by_error = True
        self.generation.writer.truncate(keep)


class Generation(Activity):
    """One model stream written into a document and executed as it arrives."""

    kind = "generate"

    def __init__(
        self,
        server: GenerationContext,
        doc: Document,
        *,
        messages: list[dict[str, Any]],
        start: int,
        end: int,
        kind: str = "generate",
        fix: RepairRequest | None = None,
        replaced: str = "",
        asked: Asked | None = None,
    ) -> None:
        super().__init__(server, doc)
        self.server: GenerationContext = server
        self.kind = kind
        self.messages = messages
        self.fix = fix  # a repair: the model's answer goes through repair.RepeatFilter
        self.attempt: Attempt | None = None
        self.replaced = replaced  # the text a repair replaces (put back if it is unchanged)
        # A repair: what the interpreter's ledger recorded before it, so that afterwards only
        # the statements depending on the replaced ones re-run (lsp/incremental.after_fix).
        self.fresh_since = doc.interpreter.ledger.seq if fix and doc.interpreter else None
        # What later repairs are told about the text above the loop's code: for a repair the
        # user asked for, what its request says is above the failing statement.
        self.context = (
            RepairContext(
                task=fix.task,
                before=fix.before + fix.code_ran,
                earlier=list(fix.earlier),
                after=fix.after,
            )
            if fix is not None
            else RepairContext(task=doc.last_prompt or DEFAULT_REPAIR_TASK)
        )
        self.outcome: GenerateOutcome | None = None
        self.start_offset = start
        self.end_offset = end
        self.asked = asked if asked is not None else Asked(doc, start, end)
        self.asked_version = self.asked.version  # the version `start`/`end` refer to
        self._report_timer: asyncio.TimerHandle | None = None
        self._new_attempt_state()

    def _new_attempt_state(self) -> None:
        """What one attempt writes: a writer, a region, a run binding, a progress bar."""
        server = self.server
        self._cancel_report()
        self.tokens = 0
        self.first_piece_at: float | None = None
        self.model_done = False  # the model's text is all in: statements may still run
        self._ended = False  # `_finish` sent the end: no report may follow it
        self.writer = self._make_writer()
        self.writer.on_abort = self._writer_failed
        self._writer_gave_up = False  # the stream was cancelled for it (not a stop: a failure)
        self.region: Region | None = None
        self._opened: Opened | None = None  # what opening the region replaced (put_back.py)
        self.first_line = 1
        self.binding: RunBinding | None = None
        self.keep: int | None = None  # characters of generated text to keep (after an error)
        self.cut_by_error = False  # an error stopped the stream before any stop was asked for
        # a line break after the code is ours to remove when the code ends with its own (one we
        # opened before the user's text that follows, or the end of the line the code replaces)
        self.separator = False
        self._stream_task: asyncio.Task[RunReport | None] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self.progress: Progress = Progress(server, self, "eager: generating")
        self._unwritten: Unwritten | None = None  # what ran but was not written: lsp/unwritten
        self._cleanup: asyncio.Task[str] | None = None
        self._stop_asked = False
        self._reported_at = 0.0  # the last status/progress while streaming (`_report`)
        self._no_interpreter = False  # it could not start: its interpreter did not

    def _make_writer(self) -> Writer:
        server = self.server
        if server.stream_edits:
            return StreamEditWriter(server, self.doc, pace=server.edit_pace)
        return EditWriter(server, self.doc, pace=server.edit_pace)

    # -- lifecycle ------------------------------------------------------------------------------
    async def stop(self, reason: str) -> None:
        """Stop the stream and the run (interrupting the code it started); complete lines
        written so far stay, an unfinished last line is removed."""
        self.stop_reason = self.stop_reason or reason
        self.writer.stop_partial()
        self._stop_asked = True
        if self._cleanup is not None and not self._cleanup.done():
            self._cleanup.cancel()  # interrupts what it runs (lsp/unwritten.py)
        if self._stream_task is not None and not self._stream_task.done():
            self._stream_task.cancel()
        elif self.task is not None and not self.task.done() and self._stream_task is None:
            self.task.cancel()  # still starting up
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self.task), 10.0)

    async def main(self) -> None:
        try:
            await self._main()
        finally:
            self.asked.detach()
            if self._opened is not None:
                self._opened.release()

    async def _main(self) -> None:
        server, doc = self.server, self.doc
        settings = server.settings
        stop_on_error = settings.execution.stop_on_error
        try:
            llm = settings.llm_config()  # checked (`_check_llm`) before the activity started
            if self.fix is not None:
                first = Attempt.repair(
                    llm, self.fix, first_line=1, replaced=self.replaced, stop_on_error=stop_on_error
                )
            else:
                first = Attempt.generation(
                    llm,
                    self.messages,
                    first_line=1,
                    above=self.asked.above,
                    below=self.asked.below,
                    stop_on_error=stop_on_error,
                )
        except Exception as exc:  # the settings changed meanwhile: say so, publish, stop
            error = f"{type(exc).__name__}: {exc}"
            server.show(f"eager: generation failed: {error}", error=True)
            self.writer.detach()
            self._finish(None, error=error)
            return
        repairs = 0
        if settings.repair.mode == "auto":
            repairs = max(0, settings.repair.max_attempts - doc.repair_attempts)
        self.outcome = outcome = await repair_loop(
            _InterpreterOf(doc),
            llm,
            first,
            self,
            context=self.context,
            repairs=repairs,
        )
        if doc.follower is not None and not doc.closed:
            doc.follower.resume_after_run()
        if outcome.stopped or self.stop_reason is not None or doc.closed:
            return
        failed = outcome.failed
        if failed is not None and failed.error is not None:
            after_failure(server, doc, failed)
        elif outcome.ok and self.fresh_since is not None:
            from eager_lsp.lsp.incremental import after_fix

            after_fix(server, doc, self.fresh_since)

    # -- one attempt of the loop (app.generate.AttemptRunner) --------------------------------------
    async def run_attempt(self, attempt: Attempt, number: int) -> bool:
        """Place `attempt` in the document, stream it, settle the text, publish; False: the
        loop stops (stopped, or the text could not be placed)."""
        if number > 0:
            if self.stop_reason is not None or self.doc.closed:
                return False
            if not self._place_repair(attempt):
                attempt.error = "the generated text was edited; not repairing it"
                return False
            self.doc.repair_attempts += 1
        self.attempt = attempt
        error: str | None = None
        try:
            started = await self._start(attempt)
        except asyncio.CancelledError:
            if self.stop_reason is None:
                raise
            started = False  # stopped before the model answered
        except RequestError as exc:
            self.server.show(exc.message, error=True)
            started, error = False, exc.message
            self._no_interpreter = exc.reason == "interpreter"
        except Exception as exc:
            log.exception("generation failed to start")
            started, error = False, f"{type(exc).__name__}: {exc}"
            self.server.show(f"eager: generation failed: {error}", error=True)
        if not started:
            self.writer.detach()
            with contextlib.suppress(Exception):
                await self._put_back()  # (stopped during the code above: nothing was written)
            if self.region is not None:
                self.region.detach()
            error = error or self.writer.failure
            attempt.error = attempt.error or error or self.stop_reason or "not started"
            with contextlib.suppress(Exception):
                await attempt.stream.aclose()
            self._finish(None, error=error)
            return False
        report, error = await self._follow_stream()
        if attempt.unchanged:
            error = attempt.unchanged_message
            self.server.show(f"eager: {error}", warn=True)
        elif error is None and attempt.empty:  # e.g. only the code above again (its echo)
            error = attempt.no_code_message
            self.server.show(f"eager: {error}", warn=True)
        if self.writer.failure is not None and error is None:
            error = self.writer.failure
            self.server.show(f"eager: generation stopped: {self.writer.failure}", warn=True)
        if error is not None and not attempt.unchanged and attempt.error is None:
            attempt.error = error  # the loop stops here
        self._learn_context()
        # The user interrupted a statement it ran: the generation ends there, as after a stop
        # (no repair of a KeyboardInterrupt is offered or asked of the model).
        interrupted = error is None and report is not None and report.interrupted
        self._finish(report, error=error or self._run_failure(attempt), interrupted=interrupted)
        return (
            self.stop_reason is None
            and self.writer.failure is None
            and not self.doc.closed
            and not interrupted
        )

    def _run_failure(self, attempt: Attempt) -> str | None:
        """The run's error for the summary, but not the KeyboardInterrupt a stop caused in the
        statement it interrupted, nor the loss of an interpreter the stop had to kill: the
        user asked for it, and `stoppedEarly` says so."""
        if self.stop_reason is not None and ended_by_user(attempt.failed):
            return None
        return attempt.failure

    def _place_repair(self, attempt: Attempt) -> bool:
        """Aim the next attempt at the document: from the line `attempt.first_line` names in
        the previous attempt's run to the end of the previous attempt's text."""
        region, first, doc = self.region, self.first_line, self.doc
        if region is None or not region.intact:
            return False
        text = doc.text
        line = text.line_of(region.start) + (attempt.first_line - first)
        start = text.line_start(line) if line < text.line_count else len(text.source)
        start = min(max(start, region.start), max(region.end, region.start))
        end = max(region.end, start)
        if self.fresh_since is None and doc.interpreter is not None:
            self.fresh_since = doc.interpreter.ledger.seq
        self.asked.detach()
        self.asked = Asked(doc, start, end)  # this attempt's time and code above start here
        self.start_offset, self.end_offset, self.asked_version = start, end, doc.version
        self.replaced = text.source[start:end]
        self.kind = "fix"
        self._new_attempt_state()  # the old region stays doc.last_region until this one ends
        return True

    def _learn_context(self) -> None:
        """What the next repair prompt is told about the text above the generated code."""
        region = self.region
        if region is None or self.attempt is None or self.attempt.request is not None:
            return  # a repair's region starts at the failing statement: keep the first's
        doc = self.doc
        top = doc.text.line_of(region.start)
        self.context.before = doc.text.source[: region.start]
        self.context.earlier = [
            e.result
            for e in sorted(doc.store.entries, key=lambda e: e.first)
            if e.result is not None and e.last < top
        ]

    async def _start(self, attempt: Attempt) -> bool:
        """Interpreter, progress, a line of its own, then the model stream into the run."""
        server, doc = self.server, self.doc
        interpreter = await server.ensure_interpreter(doc)
        if doc.follower is not None:
            doc.follower.suspend()
        await self.progress.begin(Path(doc.path).name)
        server.status(doc, "generating", tokens=0, chunksDone=0, chunksTotal=0)
        if not await self._open_line():
            return False
        attempt.first_line = self.first_line
        if attempt.request is not None:
            attempt.replaced = self.replaced  # what is put back if the answer is unchanged
        prelude = self._prelude()
        if prelude:
            from eager_lsp.providers.prefetch import PrefetchStream

            # The model starts while the code above runs.
            attempt.stream = PrefetchStream(attempt.stream)
            try:
                await run_prelude(server, doc, interpreter, prelude, self.asked.lines)
            except BaseException:
                await attempt.stream.aclose()
                raise
        if self.writer.failure is not None:
            return False  # it gave up meanwhile (an edit across the point): nothing runs
        self.binding = publishing(
            server,
            doc,
            self._to_doc,
            on_event=self._on_event,
            hold=self._held,
        )
        self.writer.on_applied = self.binding.release_held
        self._unwritten = Unwritten(
            doc, interpreter, self.first_line, self._to_doc, self._region_lines
        )
        self._writer_task = asyncio.ensure_future(self.writer.run())
        self._stream_task = asyncio.ensure_future(
            attempt.run(interpreter, _DocumentEdge(self, self.binding))
        )
        return True

    async def _follow_stream(self) -> tuple[RunReport | None, str | None]:
        """Wait for the run; then settle the text (write or trim) and show held results."""
        assert self._stream_task is not None and self.binding is not None
        assert self.attempt is not None
        report: RunReport | None = None
        error: str | None = None
        try:
            report = await self._stream_task
            error = self.attempt.model_failure
            if error is not None:
                # The model ended it (a dropped stream, an HTTP error): say so, never "done".
                self.server.show(f"eager: {error}", error=True)
        except asyncio.CancelledError:
            if self.stop_reason is None and not self._writer_gave_up:
                raise
        except Exception as exc:
            log.exception("generation failed")
            error = f"{type(exc).__name__}: {exc}"
            self.server.show(f"eager: generation failed: {error}", error=True)
        finally:
            self.keep = self._keep_length()
            in_place = self._put_back_in_place()
            if not in_place and self.attempt.unchanged and self.writer.received:
                # nothing ran, but comments came before it: the user's text follows them
                self.writer.push(self.replaced)
            await self.writer.finish(self.keep, self._writer_task, trim_separator=self.separator)
            if in_place:
                self._show_failing_again()
            else:
                await self._put_back()
            only: Callable[[Entry], bool] | None = None
            if self.keep is not None:
                self._drop_removed(self.writer.received[: self.keep])
            if self.writer.failure is not None:
                # nothing more was written (the user edited the region, a conflict): results
                # of statements that ran but never reached the document have no line to sit
                # on, nor has one whose last line was written only in part (`w = x` of
                # `w = x + 1`): it would sit on whatever line comes next, a user's own. A
                # held result is shown only where its statement's text is, also when an
                # error cut the code meanwhile (its error sat on a blank or a user's line).
                self._drop_removed(self.writer.applied_text)
                only = functools.partial(shows_its_text, self.doc)
            self.binding.release_held(all_=True, only=only)
            await self._forget_unwritten()
        return report, error

    def _finish(
        self, report: RunReport | None, *, error: str | None, interrupted: bool = False
    ) -> None:
        """The status, progress end and summary. `interrupted`: the user interrupted the
        statement that failed (`error` is its KeyboardInterrupt, or the loss of the
        interpreter the interrupt had to kill): the status says so, idle (execution.py's
        rules: `user_ending`; stopped by a restart, it says the restart's last word)."""
        server, doc = self.server, self.doc
        self._cancel_report()
        self._ended = True
        if self.region is not None:
            self.region.freeze()
            # An edit inside it from now on is no conflict of this attempt's: a later one of
            # the loop replaces part of it (with stream edits that edit is the client's, not
            # known as ours, and stopped the auto repair as "the generated text was edited").
            self.region.on_conflict = None
            if doc.last_region is not None and doc.last_region is not self.region:
                doc.last_region.detach()
            doc.last_region = self.region
        done = self.binding.done if self.binding is not None else 0
        released = self.binding.released if self.binding is not None else 0
        stopped = self.stop_reason is not None
        failed = self.attempt.failed if self.attempt is not None else None
        ended: str | None = None
        if self.stop_reason == RESTART_STOP:
            ended = methods.RESTARTED
        elif interrupted:
            ended = user_ending(report, failed)
        elif stopped and not error and user_ending(None, failed) == methods.RESTARTED:
            ended = methods.RESTARTED  # a stop that had to kill the interpreter (else plain idle)
        self.progress.end(
            ended or (f"ended: {error}" if error else "stopped" if stopped else "done")
        )
        # The user's own edit inside the generated text (an undo, a deleted line) stopped it:
        # that is no error unless what it left fails (the summary says what happened).
        by_user = (self.writer.failure or "").startswith(EDITED_BY_USER) and not doc.store.failing
        server.status(
            doc,
            "error" if error and not by_user and not interrupted and not ended else "idle",
            tokens=self.tokens,
            chunksDone=done,
            chunksTotal=released,
            message=ended or error or "",
        )
        payload = summary_payload(
            doc, report, tokens=self.tokens, error=error, started=not self._no_interpreter
        )
        self._time_from_request(payload, report)
        if stopped:
            payload.stoppedEarly = True
        server.notify(methods.GENERATION_SUMMARY, payload)

    def _time_from_request(self, payload: Any, report: RunReport | None) -> None:
        """The summary's times count from the request (`Asked.at`), not from the start of the
        run: the code above and the start-up come first, and the model streams meanwhile.
        `lastTokenS` and `serialEstimateS` move by the same amount; `savedS` stays
        `serialEstimateS - elapsedS`."""
        if report is None and self.binding is None:
            return  # it never started: `elapsedS` stays 0 (docs/protocol.md)
        payload.elapsedS = round(time.monotonic() - self.asked.at, 4)
        if report is None:
            return
        shift = max(0.0, report.started_at - self.asked.at)
        if payload.lastTokenS is not None:
            payload.lastTokenS = round(payload.lastTokenS + shift, 4)
        if payload.serialEstimateS is not None:
            payload.serialEstimateS = round(payload.serialEstimateS + shift, 4)
            payload.savedS = round(payload.serialEstimateS - payload.elapsedS, 4)

    def _prelude(self) -> str:
        """The code above the generated text as it was when the generation was asked for
        (`Asked`), when this interpreter has not attempted all of it: the generated code is
        written to use those names, so they must exist first. Statements that failed or were
        interrupted are not run again (`prelude_code`)."""
        prefix = self.asked.above
        if not prefix.strip():
            return ""
        code = prelude_code(self.doc, prefix)
        return code if code.strip() else ""

    # -- text ---------------------------------------------------------------------------------
    async def _open_line(self) -> bool:
        """Make the generated code start at column 0 of a line of its own: replace the
        selection, and open a fresh line when the point is inside or after text."""
        text = self.doc.text
        start, end = self._asked_range()
        if text.source[start:end] != self.asked.replaces:
            # The user typed inside what it replaces while the interpreter and the progress
            # bar were set up: replacing it now would overwrite their text.
            self.writer.abort(EDITED_MEANWHILE)
            return False
        line = text.line_of(start)
        before = text.source[text.line_start(line) : start]
        end_line = text.line_of(end)
        line_stop = text.line_start(end_line) + len(text.line(end_line))
        after = text.source[end:line_stop]
        if start == end and before and after.strip():
            # A point inside a line: never split the user's line; continue below it.
            if end_line + 1 < text.line_count:
                start = end = text.line_start(end_line + 1)
                before, after = "", text.line(end_line + 1)
            else:
                start = end = line_stop
                after = ""
        prefix = "\n" if before else ""
        suffix = "\n" if after.strip() else ""
        # When the code goes where a line with text ends (a range that ends at a line end, a
        # point after a line's text), that line's own line break follows the code: like the
        # separator opened before following text, it goes when the code ends with its own, or
        # a blank line would be left that was not there. (At a point on a blank line
        # `end` is at the line's start: that blank line stays after the code.)
        ends_line = not after and end > text.line_start(text.line_of(end))
        self.separator = bool(suffix) or ends_line
        opened = Opened(self.doc, start, end, prefix, suffix)
        region = await self.writer.open(start, end, prefix, suffix, trim_trailing=self.separator)
        if region is None:
            opened.release()
            return False
        self.region, self._opened = region, opened
        region.on_conflict = self._conflict
        self.first_line = self.doc.text.line_of(region.start) + 1
        return True

    def _put_back_in_place(self) -> bool:
        """Nothing came from the model (an HTTP error, an empty or unchanged answer, a stop
        before the first token): what the attempt replaced is written back by its own writer,
        as if the model had said it (never run), so the attempt is one undo step that changed
        nothing (lsp/put_back.py). True when it will be."""
        opened, region, writer = self._opened, self.region, self.writer
        if opened is None or region is None or not region.intact or self.doc.closed:
            return False
        if writer.received or writer.failure is not None or not opened.original:
            return False  # something came (`_put_back` sees what is left), or nothing to put
        writer.limit, self.keep = None, None  # (a stop's cut at the last line end: 0)
        writer.whole = True
        writer.push(opened.original)
        return True

    def _show_failing_again(self) -> None:
        """After `_put_back_in_place`: the failing statement's error, where it is back."""
        opened, region = self._opened, self.region
        self._opened = None
        if opened is None:
            return
        try:
            if region is not None and region.intact and region.text() == opened.original:
                entry = opened.failing_entry(region.start)
                if entry is not None:
                    self.server.add_entry(self.doc, entry)
        finally:
            opened.release()

    async def _put_back(self) -> None:
        """The attempt left nothing where it replaced text and opened lines: put the document
        back as it was, a repair's failing statement with its error. When it did write, a
        repair's failing statement waits for an undo of it (lsp/put_back.py)."""
        opened, region, doc = self._opened, self.region, self.doc
        self._opened = None
        if opened is None:
            return
        put_back = False
        try:
            if region is None or not region.intact or doc.closed or self.writer.failure:
                return
            span = opened.span(region.start, region.end)
            if span is None or (span[0] == span[1] and not opened.original):
                return  # not as it was left, or nothing was replaced or opened
            writer = self._make_writer()
            back = await writer.open(span[0], span[1], opened.original, "")
            if back is None:
                return
            await writer.finish(None, None, trim_separator=False)
            back.detach()
            put_back = True
            entry = opened.failing_entry(span[0])
            if entry is not None:
                self.server.add_entry(doc, entry)
        finally:
            if put_back:
                opened.release()
            else:
                opened.watch_undo(functools.partial(self.server.add_entry, doc))

    def _asked_range(self) -> tuple[int, int]:
        """The range the generation was asked for, moved over what the user typed since
        (the interpreter and the progress bar are set up in between): text typed at the
        point goes before it."""
        doc, v = self.doc, self.asked_version
        start = doc.map_offset(self.start_offset, v, stay_before=False)
        point = self.start_offset == self.end_offset
        end = doc.map_offset(self.end_offset, v, stay_before=not point)
        if start is None or end is None:
            return self.start_offset, self.end_offset
        return start, max(start, end)

    def _conflict(self, why: str) -> None:
        self.writer.abort(why)  # -> _writer_failed
        self.stop_reason = self.stop_reason or why  # the user's edit: a stop (stoppedEarly)

    def _writer_failed(self, why: str) -> None:
        """Nothing more can be written (an edit inside the region, a conflict, an editor that
        does not answer): the model and the code it would start stop too, or statements would
        run that the user never sees. (Before the stream starts: `_start` checks.)"""
        if self._stream_task is not None and not self._stream_task.done():
            self._writer_gave_up = True
            self._stream_task.cancel()

    def _on_piece(self, piece: str) -> None:
        now = time.monotonic()
        if self.first_piece_at is None:
            self.first_piece_at = now
        # A piece may carry several of the model's tokens (a stream hands over everything
        # that arrived since it was last asked); the stream counts them where it can.
        deltas = getattr(self.attempt.stream, "deltas", None) if self.attempt else None
        self.tokens = deltas if isinstance(deltas, int) else self.tokens + 1
        self.writer.push(piece)
        if self.binding is not None:
            self._report()

    def _on_event(self, event: Event) -> None:
        if event.kind == "result":
            self._report()
        elif isinstance(event, EndOfStream):
            self.writer.whole = self.writer.whole or event.whole
            self.model_done = True
            self._report()  # the status says "running" from now on, not "generating"

    def _keep_length(self) -> int | None:
        """How much generated text stays (`Attempt.keep_length`, the CLI's rule too): up to
        the end of the failing statement (or of the line with a syntax error) when
        stopOnError stopped the stream; else all of it. A stop asked for by the user keeps
        every complete line (`stop`), even though interrupting the code made it fail."""
        if self.attempt is None:
            return None
        if self.attempt.cause is not None:
            return self.attempt.keep_length()  # the model broke off: complete lines only
        if not self.attempt.stop_on_error:
            return None
        if self.stop_reason is not None and not self.cut_by_error:
            return None
        return self.attempt.keep_length()

    def _drop_removed(self, kept: str) -> None:
        """Forget held results of statements whose text is not in the document (`kept` is
        the generated text that is)."""
        assert self.binding is not None
        lines = kept.count("\n") + (0 if kept.endswith("\n") or not kept else 1)
        self.binding.drop_held(from_run_line=self.first_line + lines)

    async def _forget_unwritten(self) -> None:
        """Writing stopped early (the user edited the region, a refused edit): take what ran
        but was never written out of the interpreter (lsp/unwritten.py); the stop's reason
        says what it did."""
        unwritten, self._unwritten = self._unwritten, None
        if unwritten is None:
            return
        try:
            if self.writer.failure is None or self.doc.closed:
                return
            if self._stop_asked:  # a stop, or what replaces it, must not wait for it
                said = "stopped before removing statements that ran but were not written"
                self.writer.failure = f"{self.writer.failure}; {said}"
                return
            task = self._cleanup = asyncio.ensure_future(
                unwritten.forget(self.server, self.writer.applied_text)
            )
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                task.cancel()
                raise
            if task.cancelled():
                said = "stopped while removing statements that ran but were not written"
            elif (exc := task.exception()) is not None:
                log.error("removing unwritten statements failed", exc_info=exc)
                said = f"removing statements that ran but were not written failed: {exc}"
            else:
                said = task.result()
            if said:
                self.writer.failure = f"{self.writer.failure}; {said}"
        finally:
            unwritten.detach()

    # -- line mapping ---------------------------------------------------------------------------
    def _to_doc(self, run_line: int) -> int | None:
        if self.region is None or run_line < self.first_line:
            return None
        return self.doc.text.line_of(self.region.start) + (run_line - self.first_line)

    def _region_lines(self) -> range:
        """The document lines of the generated text (empty before it has a region)."""
        if self.region is None:
            return range(0)
        text = self.doc.text
        return range(text.line_of(self.region.start), text.line_of(self.region.end) + 1)

    def _held(self, last_run_line: int) -> bool:
        """True while that line (and its newline) is not yet in the document."""
        rel = last_run_line - self.first_line
        return self.writer.applied_text.count("\n") <= rel

    # -- progress -------------------------------------------------------------------------------
    def _report(self) -> None:
        """Status and progress while the stream runs: at most one of each per
        `STATUS_INTERVAL_S`. A report that falls inside the interval is sent when it ends,
        so the latest counts always arrive. (Called for every piece and every result: with
        ten documents generating, sending each was over half of the server's messages.)"""
        if self._ended:
            return  # (a late event of a stopped stream)
        wait = self._reported_at + STATUS_INTERVAL_S - time.monotonic()
        if wait > 0:
            if self._report_timer is None:
                loop = asyncio.get_running_loop()
                self._report_timer = loop.call_later(wait, self._report_due)
            return
        self._send_report()

    def _report_due(self) -> None:
        self._report_timer = None
        if self.binding is not None:  # (`_finish` cancels it: the end is reported there)
            self._send_report()

    def _cancel_report(self) -> None:
        if self._report_timer is not None:
            self._report_timer.cancel()
            self._report_timer = None

    def _send_report(self) -> None:
        b = self.binding
        assert b is not None
        self._reported_at = now = time.monotonic()
        self.progress.report(f"{self.tokens} tokens, {b.done} statements run", force=True)
        elapsed = now - (self.first_piece_at or now)
        # No rate from the first moments: a report microseconds after the first piece read
        # "422119 tok/s" in the statusline.
        rate = round(self.tokens / elapsed, 1) if elapsed >= RATE_AFTER_S else OMIT
        # Once the model is done what is left is running the code (a statusline read
        # "generating 16 tok/s" for as long as a statement slept after the last token).
        self.server.status(
            self.doc,
            "running" if self.model_done else "generating",
            tokens=self.tokens,
            tokensPerSecond=OMIT if self.model_done else rate,
            chunksDone=b.done,
            chunksTotal=b.released,
        )


# -- commands -----------------------------------------------------------------------------------


def _position(doc: Document, value: Any, default: int) -> int:
    """A `position` (or a range's end) as read by its definition (payloads.Position): whole
    numbers only, so a `1.5` or a `"3"` is refused rather than rounded to some other line."""
    if not isinstance(value, dict):
        return default
    try:
        read = from_wire(Position, value)
    except PayloadError as exc:
        raise RequestError(
            f'eager: `position` must be {{"line", "character"}} of whole numbers ({exc}).'
        ) from None
    # Clamped into the text (a line past the end is the end), never built into an
    # lsprotocol Position, which refuses numbers over 2**31 - 1 with a ValueError.
    return doc.text.offset_at(max(0, read.line), max(0, read.character))


async def start_generate(server: GenerationContext, doc: Document, arg: dict[str, Any]) -> Any:
    prompt = arg.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise RequestError("eager: eager.generate needs a non-empty `prompt`.")
    if len(prompt) > limits.PROMPT_CAP:
        raise RequestError(
            f"eager: the prompt has {len(prompt):,} characters; at most "
            f"{limits.PROMPT_CAP:,} are sent to the model."
        )
    _check_llm(server)
    # Everything about the request is read from the text as it is now, before any wait: a
    # line typed above meanwhile is not part of what was asked (nor run as the code above).
    source = doc.text.source
    end_of_doc = len(source)
    rng = arg.get("range")
    if isinstance(rng, dict):
        start = _position(doc, rng.get("start"), end_of_doc)
        end = max(start, _position(doc, rng.get("end"), start))
    else:
        start = end = _position(doc, arg.get("position"), end_of_doc)
    asked = Asked(doc, start, end)
    try:
        await replace_activity(doc, "generate")
    except BaseException:
        asked.detach()
        raise
    from eager_lsp.providers import prompts

    before, after = source[:start], source[end:]
    messages = prompts.generation_messages(prompt, before, after, doc.path)
    doc.last_prompt = prompt
    doc.repair_attempts = 0
    Generation(server, doc, messages=messages, start=start, end=end, asked=asked).start()
    return StartedResult(started=True)


def prepare_model(server: GenerationContext, doc: Document, arg: dict[str, Any]) -> Any:
    """`eager.prepareModel`: the user opened the prompt box. With the bundled model, start it
    and evaluate the generate prompt without its task (the document around `position`), while
    the prompt is typed. Answers at once; RequestError for unusable settings."""
    llm = _check_llm(server)
    from eager_lsp.providers import prepare_local, prompts

    source = doc.text.source
    at = _position(doc, arg.get("position"), len(source))
    messages = prompts.generation_messages("", source[:at], source[at:], doc.path)
    # Logged: the answer is shown nowhere, and a slow first generation is explained by this
    # line's absence (an editor that does not send it) or its reason.
    if prepare_local(llm, messages) is None:
        log.info(
            "prompt box opened (%s): nothing to prepare, generations go to an endpoint", doc.uri
        )
        return PrepareResult(preparing=False, reason="not_local")
    log.info(
        "prompt box opened (%s): the bundled model is prepared while the prompt is typed", doc.uri
    )
    return PrepareResult(preparing=True)


def _check_llm(server: GenerationContext) -> LLMConfig:
    try:
        return server.settings.llm_config()
    except (TypeError, ValueError) as exc:
        raise RequestError(f"eager: the llm settings are not usable: {exc}", "settings")


async def start_fix(server: GenerationContext, doc: Document, arg: dict[str, Any]) -> Any:
    line = arg.get("line")
    if isinstance(line, bool) or not isinstance(line, int) or line < 0:
        raise RequestError("eager: eager.fixWithAI needs the 0-based `line` of the error.")
    entry = doc.store.at_line(line)
    if entry is None or entry.result is None or entry.result.error is None:
        raise RequestError(f"eager: there is no eager error on line {line + 1} to fix.", "no_error")
    _check_llm(server)
    asked = entry
    await replace_activity(doc, "fix")
    facts = await repair.read_facts(await server.ensure_interpreter(doc), entry.result.chunk)
    # Meanwhile another request may have started an activity, or the document closed.
    await replace_activity(doc, "fix")
    # The user may have typed while we waited: plan on the text as it is now, with no await
    # between the plan and the start (offsets taken before an await could overwrite that text).
    # The entry moves with edits; it is gone if its statement was edited or ran again.
    entry = next((e for e in doc.store.entries if e is asked), None)
    if entry is None or entry.result is None or entry.result.error is None:
        raise RequestError(
            f"eager: the error on line {line + 1} is gone (its statement changed or ran again) "
            "while Fix with AI was starting; nothing was changed.",
            "no_error",
        )
    req, start, end = repair_plan(doc, entry)
    req.facts = facts
    Generation(
        server,
        doc,
        messages=repair.messages_for(req),
        start=start,
        end=end,
        kind="fix",
        fix=req,
        replaced=doc.text.source[start:end],
    ).start()
    return StartedResult(started=True)


def repair_plan(doc: Document, entry: Entry) -> tuple[RepairRequest, int, int]:
    """Messages and the text range to replace: from the failing statement to the end of the
    generated code when the last generation wrote it (and it is unedited), else the failing
    statement alone."""
    text = doc.text
    stmt_start = text.line_start(entry.first)
    stmt_end = (
        text.line_start(entry.last + 1) if entry.last + 1 < text.line_count else len(text.source)
    )
    region = doc.last_region
    assert entry.result is not None and entry.result.error is not None
    err = entry.result.error
    failing = text.source[stmt_start:stmt_end]
    task = doc.last_prompt or DEFAULT_REPAIR_TASK
    if (
        region is not None
        and region.intact
        and region.start <= stmt_start < max(region.end, region.start + 1)
    ):
        code_ran = text.source[region.start : stmt_start]
        before = text.source[: region.start]
        end = max(region.end, stmt_end)
        after = ""
    else:
        code_ran = text.source[:stmt_start]
        before = ""
        end = stmt_end
        after = text.source[stmt_end:]  # stays: the model is asked for the statement alone
    earlier = sorted(
        (e for e in doc.store.entries if e.result is not None and e.last < entry.first),
        key=lambda e: e.first,
    )
    req = RepairRequest(
        task=task,
        code_ran=code_ran,
        failing=failing,
        error=err,
        before=before,
        after=after,
        failing_line=entry.first + 1,
        earlier=[e.result for e in earlier if e.result is not None],
    )
    return req, stmt_start, end


async def stop(server: GenerationContext, doc: Document) -> StopResult:
    """Stop what the document runs; say whether code was interrupted, and whether that took
    killing the interpreter (its variables are gone): the editors tell the user so."""
    activity = doc.activity
    if activity is None or not activity.running:
        return StopResult(stopped=False)
    await activity.stop(USER_STOP)
    failed = activity.binding.failed if activity.binding is not None else None
    if failed is None or not ended_by_user(failed):
        return StopResult(stopped=True)
    return StopResult(
        stopped=True, interrupted=True, stateLost=isinstance(failed.error, LostOnRequest)
    )


def after_failure(server: GenerationContext, doc: Document, failed: ChunkResult) -> None:
    """After the loop ended on an error (its repairs, with `repair.mode: auto`, used up or
    none allowed): with `ask`, point at the code action."""
    if server.settings.repair.mode != "ask":
        return
    entry = next((e for e in doc.store.entries if e.result is failed), None)
    if entry is None:
        return
    line = entry.error_line if entry.error_line is not None else entry.first
    err = failed.error
    what = f"{err.type}" if err is not None else "an error"
    server.show(
        f'eager: {what} on line {line + 1}; use the "{methods.FIX_TITLE}" code action to '
        "regenerate from there.",
    )


class _InterpreterOf:
    """The document's interpreter as it is when the loop asks for a repair's facts (a restart
    replaces it): the `repair.LiveNamespace` the loop reads."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc

    def _current(self) -> Interpreter:
        interpreter = self._doc.interpreter
        if interpreter is None:
            raise RuntimeError("the document has no interpreter")
        return interpreter

    @property
    def config(self) -> InterpreterConfig:
        return self._current().config

    async def executor(self) -> Executor:
        return await self._current().executor()


def fix_actions(server: GenerationContext, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "Fix with AI" on each eager runtime-error diagnostic in the request, except a statement
    the user ended (core/run.py `ended_by_user`): a KeyboardInterrupt, or the loss of an
    interpreter the user's interrupt, stop or restart had to kill. An interrupted statement
    is not wrong, and a model asked to repair it can only guess (a generation the user
    interrupted offers none either)."""
    if server.settings.repair.mode == "off":
        return []
    doc = server.documents.get(params.text_document.uri)
    if doc is None or not doc.python:
        return []
    interrupted = {e.error_line for e in doc.store.failing if ended_by_user(e.result)}
    actions = []
    for d in params.context.diagnostics:
        if d.source != methods.SOURCE or d.code != methods.CODE_RUNTIME:
            continue
        line = d.range.start.line
        if line in interrupted:
            continue
        actions.append(
            lsp.CodeAction(
                title=methods.FIX_TITLE,
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                command=lsp.Command(
                    title=methods.FIX_TITLE,
                    command=methods.FIX_WITH_AI,
                    arguments=[{"uri": doc.uri, "line": line}],
                ),
            )
        )
    return actions
