"""The language server object: the state every feature shares, lifecycle, and the services.

`EagerServer` holds the open documents, the settings, the interpreters and the background
tasks, and offers the services features use: messages and status, results, interpreters,
progress. Features never import it: each gets it typed as the narrow context it needs
(lsp/context.py), and lsp/server.py wires them to the LSP methods (lsp/handlers.py).

Background work (interpreters starting, runs, generations) lives in tasks the server tracks,
so a failing task is logged and shown instead of vanishing, and shutdown can stop everything:
all interpreters end within 2 s of `shutdown`/`exit`. Nothing but JSON-RPC goes to stdout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import importlib
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from eager_lsp import __version__ as _version
from eager_lsp.core.interpreter import Interpreter
from eager_lsp.core.types import ChunkOutput, Event, ParallelUnavailable, WorkerLost
from eager_lsp.lsp import methods, payloads, publish
from eager_lsp.lsp.config import Settings, merge, parse_settings
from eager_lsp.lsp.documents import Document, Interpreters
from eager_lsp.lsp.edit_pace import EditPace
from eager_lsp.lsp.edits import client_answer
from eager_lsp.lsp.error_popups import ErrorPopups
from eager_lsp.lsp.errors import RequestError
from eager_lsp.lsp.execution import place_waiting, withdraw_edited
from eager_lsp.lsp.protocol import EagerProtocol, eager_converter
from eager_lsp.lsp.store import Entry
from eager_lsp.lsp.text import LineEdit, Text
from eager_lsp.lsp.waits import on_loop

__all__ = ["EagerServer", "RequestError"]

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 1.8  # interpreters must be gone within 2 s of shutdown


class EagerServer(LanguageServer):
    protocol: EagerProtocol

    def __init__(self) -> None:
        super().__init__(
            "eager-lsp", _version, protocol_cls=EagerProtocol, converter_factory=eager_converter
        )
        self.documents: dict[str, Document] = {}
        self.settings = Settings()
        self._init_options: Any = None
        self._settings_epoch = 0
        self._settings_problems: list[str] = []  # the last ones shown (_use_settings)
        self.interpreters = Interpreters(self._interpreter_listener)
        self.publisher = publish.Publisher(self._send_diagnostics, self._refresh_hints)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.progress_owners: dict[str, Any] = {}  # progress token → activity to stop
        self._model_progress: set[str] = set()  # documents whose local-model start is reported
        self._parallel_told: set[str] = set()  # documents told that their backend runs in order
        self._llm_info: tuple[Any, tuple[str | None, ...], dict[str, str]] | None = None
        self.shutting_down = False
        self.shutdown_tasks: list[asyncio.Task[Any]] = []  # `shutdown` requests being handled
        self.stream_edits = False  # the client applies eager/streamEdit itself
        self.edit_pace = EditPace()  # one edit budget for all documents (lsp/edits.py)
        self._error_popups = ErrorPopups(self._show_server_error)

    # -- capabilities -----------------------------------------------------------------------
    def client_supports(self, *path: str) -> bool:
        node: Any = self.client_capabilities
        for name in path:
            node = getattr(node, name, None)
            if node is None:
                return False
        return bool(node)

    @property
    def encoding(self) -> str:
        enc: Any = self.server_capabilities.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    # -- settings -----------------------------------------------------------------------------
    def set_client_features(self, capabilities: Any, options: Any) -> None:
        """eager/streamEdit is used when the client says it can apply it."""
        experimental = getattr(capabilities, "experimental", None)
        if isinstance(experimental, dict):
            declared = experimental.get(methods.STREAM_EDITS_CAPABILITY)
        else:
            declared = getattr(experimental, methods.STREAM_EDITS_CAPABILITY, None)
        by_option = isinstance(options, dict) and options.get(methods.STREAM_EDITS_OPTION)
        self.stream_edits = declared is True or by_option is True

    def set_initialization_options(self, options: Any) -> None:
        if isinstance(options, dict) and methods.STREAM_EDITS_OPTION in options:
            options = {k: v for k, v in options.items() if k != methods.STREAM_EDITS_OPTION}
        # Accept {"eager": {...}} as well as the bare settings object.
        if isinstance(options, dict) and isinstance(options.get(methods.SETTINGS_SECTION), dict):
            options = options[methods.SETTINGS_SECTION]
        self._init_options = options
        self._use_settings(self._init_options)

    async def pull_configuration(self) -> None:
        """workspace/configuration (section `eager`) over initializationOptions."""
        if not self.client_supports("workspace", "configuration"):
            return
        asked_at = self._settings_epoch
        try:
            result = await client_answer(
                self.workspace_configuration_async(
                    lsp.ConfigurationParams(
                        items=[lsp.ConfigurationItem(section=methods.SETTINGS_SECTION)]
                    )
                ),
                5.0,
            )
        except Exception as exc:
            log.info("workspace/configuration failed: %s", exc)
            return
        value = result[0] if result else None
        if self._settings_epoch != asked_at:
            return  # settings pushed meanwhile are newer than this answer
        if isinstance(value, dict) and value:
            self._use_settings(merge(self._init_options or {}, value))

    async def configuration_changed(self, settings: Any) -> None:
        """didChangeConfiguration: use pushed `eager` settings, else pull them."""
        if isinstance(settings, dict) and isinstance(settings.get(methods.SETTINGS_SECTION), dict):
            self._use_settings(merge(self._init_options or {}, settings[methods.SETTINGS_SECTION]))
        else:
            await self.pull_configuration()

    def _use_settings(self, raw: Any) -> None:
        settings, problems = parse_settings(raw or {})
        redraw = settings.client_draws_values != self.settings.client_draws_values
        self.settings = settings
        self._settings_epoch += 1
        log.info("settings: %r", settings)
        for doc in self.documents.values():
            self.interpreters.apply_settings(doc, settings)
            if redraw and not doc.closed:  # hints appear or go away with client_draws_values
                self.publisher.schedule(doc)
        # Once per set of problems: the same settings come from initializationOptions, then
        # from workspace/configuration, and again with every didChangeConfiguration (a
        # newcomer helper saw each warning twice at start-up).
        if problems and problems != self._settings_problems:
            self.show("eager: some settings were ignored: " + "; ".join(problems), warn=True)
        self._settings_problems = problems

    async def warm_up(self) -> None:
        """Import the model layer (the openai SDK takes about a second) off the event loop,
        after start-up, so neither `initialize` nor the first generation waits for it.

        Then the objects made so far (modules, classes, the SDK: about 140,000) are moved out
        of the collector's reach (`gc.freeze`). They live as long as the server; left in, every
        full collection walks them all again: 25-50 ms on the event loop, whenever enough
        young objects have survived, which in a long session is also during generations."""
        # The module that loads the SDK, not just the package: the package imports it lazily
        # (so the CLI pays only when it needs a model), and importing the package alone left
        # the SDK to the first generation, on the event loop (every document stalled for
        # about a second) and after the freeze (its objects then walked by every older
        # generation's collection during generations).
        try:
            await asyncio.to_thread(importlib.import_module, "eager_lsp.providers.openai_chat")
        except Exception as exc:  # a broken SDK: said when a generation asks for it, not now
            log.warning("the model layer did not load at start-up: %s", exc)
        gc.collect()
        gc.freeze()

    async def unload_idle_model(self) -> None:
        """For the life of the server: stop the bundled model's server once it has been unused
        for `llm.localIdleMinutes` (about 2 GB held for nothing otherwise). Looked at once a
        minute (more often for a shorter setting); never while a stream uses it."""
        while True:
            idle_s = self._idle_unload_s()
            await asyncio.sleep(min(60.0, max(1.0, idle_s / 4)) if idle_s else 60.0)
            if not idle_s or "eager_lsp.providers.local_model" not in sys.modules:
                continue  # (never unloaded, or never loaded)
            from eager_lsp.providers import local_model

            if await asyncio.to_thread(local_model.unload_if_idle, idle_s):
                minutes = f"{idle_s / 60:g}"
                log.info("the bundled model was unused for %s min: unloaded", minutes)

    def _idle_unload_s(self) -> float:
        try:
            return self.settings.llm_config().local_idle_minutes * 60
        except (TypeError, ValueError):
            return 0.0  # unusable settings: a generation says so; nothing is unloaded meanwhile

    # -- messages -----------------------------------------------------------------------------
    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls's report of a failure outside a request: logged, and shown as pygls shows it
        but at most one popup every few seconds (lsp/error_popups.py). A failed request is
        answered with its error instead, as in pygls."""
        if source is FeatureRequestError:
            return
        self._error_popups.report(error)

    def _show_server_error(self, message: str) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))

    def show(self, message: str, *, error: bool = False, warn: bool = False) -> None:
        kind = (
            lsp.MessageType.Error
            if error
            else lsp.MessageType.Warning
            if warn
            else lsp.MessageType.Info
        )
        log.info("showMessage: %s", message)
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def notify(self, method: str, payload: Any) -> None:
        """Send a custom notification: `payload` is its lsp/payloads.py definition."""
        self.protocol.notify(method, payloads.notify_params(method, payload))

    def status(self, doc: Document, state: str, **fields: Any) -> None:
        """`eager/status`, with the truth added in one place: the counts of the activity's run
        (done / running / pending / total), the provider and model in use; and, while the
        local model starts, a message every second (`local_model_progress`)."""
        binding = doc.activity.binding if doc.activity is not None else None
        if binding is not None and not binding.cancelled:
            fields.update(binding.counts())
        fields.update(self.llm_info())
        doc.last_state = state
        self.notify(methods.STATUS, payloads.status_params(doc.uri, state, fields))
        if state == "generating" and not fields.get("tokens") and fields.get("provider") == "local":
            self._start_model_progress(doc)

    def llm_info(self) -> dict[str, str]:
        """Provider and model (providers/config.describe); {} until the model layer is
        loaded (server.warm_up), so a status never waits for the openai SDK import."""
        if "eager_lsp.providers" not in sys.modules:
            return {}
        # Worked out once per settings object and environment: a generation sends a status
        # every few tokens, and parsing the settings each time cost ~1 % of the server's CPU.
        env = tuple(
            os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")
        )
        cached = self._llm_info
        if cached is not None and cached[0] is self.settings and cached[1] == env:
            return dict(cached[2])
        from eager_lsp.providers.config import describe

        try:
            info = describe(self.settings.llm_config())
        except (TypeError, ValueError):
            info = {}
        self._llm_info = (self.settings, env, info)
        return dict(info)

    def _start_model_progress(self, doc: Document) -> None:
        from eager_lsp.providers.local_model import local_server_ready

        activity = doc.activity
        if activity is None or local_server_ready() or doc.uri in self._model_progress:
            return
        self._model_progress.add(doc.uri)

        async def tick() -> None:
            started = time.monotonic()
            try:
                while (
                    doc.activity is activity
                    and not doc.closed
                    and not activity.tokens
                    and not local_server_ready()
                ):
                    n = int(time.monotonic() - started)
                    message = f"starting the local model… ({n} s)"
                    self.notify(
                        methods.STATUS,
                        payloads.status_params(
                            doc.uri,
                            "generating",
                            {"tokens": 0, "message": message, **self.llm_info()},
                        ),
                    )
                    if activity.progress is not None:
                        activity.progress.report(message, force=True)
                    await asyncio.sleep(1.0)
            finally:
                self._model_progress.discard(doc.uri)

        self.spawn(tick(), "reporting the local model's start")

    # -- documents ----------------------------------------------------------------------------
    def document(self, args: Any, *, python: bool = True) -> Document:
        """The open document named by a command's argument object, or a RequestError."""
        uri = args.get("uri") if isinstance(args, dict) else None
        if not isinstance(uri, str) or not uri:
            raise RequestError("eager: the command needs a document `uri`.")
        doc = self.documents.get(uri)
        if doc is None or doc.closed:
            raise RequestError(f"eager: {uri} is not open in the editor.", "not_open")
        if python and not doc.python:
            raise RequestError(
                f"eager: {Path(doc.path).name} is not a Python document.", "not_python"
            )
        return doc

    async def ensure_interpreter(self, doc: Document) -> Interpreter:
        """The document's interpreter, started (RequestError if it cannot)."""
        interpreter = self.interpreter_for(doc)
        try:
            await interpreter.start()
        except Exception as exc:
            raise RequestError(
                f"eager: could not start the Python interpreter for {Path(doc.path).name}: {exc}",
                "interpreter",
            )
        return interpreter

    def interpreter_for(self, doc: Document) -> Interpreter:
        """The document's interpreter as it is (created, not started, if it has none)."""
        return self.interpreters.interpreter_for(doc, self.settings)

    def add_entry(self, doc: Document, entry: Entry) -> None:
        """A result (or syntax error) is ready in document lines: store, notify, publish."""
        if doc.closed:
            return
        error = entry.result.error if entry.result is not None else None
        if error is not None and error.state_lost and doc.store.clear():
            # The interpreter died or was killed (for the user's interrupt or stop): no value
            # shown holds any more, as after eager.restartInterpreter. Its own result follows.
            self.stale(doc, 0)
        doc.store.add(entry)
        if entry.result is not None:
            # Built from payloads.ChunkResultParams, then bounded (limits.PAYLOAD_CAP).
            self.protocol.notify_json(methods.CHUNK_RESULT, publish.chunk_result_json(doc, entry))
        self.publisher.schedule(doc)

    def resend_results(self, doc: Document) -> int:
        """`eager.results`: every result held for `doc` again, where it is now (a client's
        anchors can lose what the server kept: lines replaced by identical text)."""
        sent = 0
        for entry in doc.store.entries:
            if entry.result is not None:
                self.protocol.notify_json(
                    methods.CHUNK_RESULT, publish.chunk_result_json(doc, entry)
                )
                sent += 1
        return sent

    def live_output(self, doc: Document, first: int, last: int, output: ChunkOutput) -> None:
        """`eager/output`: a running statement's new output (its result follows with all)."""
        if doc.closed:
            return
        for params in publish.output_params(doc, first, last, output):
            self.notify(methods.OUTPUT, params)

    def republish(self, doc: Document, *, refresh: bool = True) -> None:
        """Diagnostics and hints of `doc` again (coalesced), after its results changed."""
        self.publisher.schedule(doc, refresh=refresh)

    def stale(self, doc: Document, from_line: int, to_line: int | None = None) -> None:
        to = payloads.OMIT if to_line is None else to_line
        self.notify(methods.STALE, payloads.StaleParams(uri=doc.uri, fromLine=from_line, toLine=to))

    def apply_edit_json(
        self, params_json: str
    ) -> concurrent.futures.Future[lsp.ApplyWorkspaceEditResult]:
        """`workspace/applyEdit` with its parameters as JSON text (protocol.request_json)."""
        return self.protocol.request_json(lsp.WORKSPACE_APPLY_EDIT, params_json)

    def request_json(self, method: str, params_json: str) -> concurrent.futures.Future[Any]:
        return self.protocol.request_json(method, params_json)

    def _send_diagnostics(self, params: lsp.PublishDiagnosticsParams) -> None:
        self.text_document_publish_diagnostics(params)

    def _refresh_hints(self) -> Any:
        if not self.client_supports("workspace", "inlay_hint", "refresh_support"):
            return None
        # Sent as JSON text (protocol.request_json) and awaited with `on_loop`, not pygls's
        # `*_async`: that encodes the request with cattrs, runs a task of its own, and wraps
        # the answer with `asyncio.wrap_future`, whose callback wakes the loop through its
        # self-pipe (two system calls and a turn; lsp/waits.py).
        return on_loop(self.protocol.request_json(lsp.WORKSPACE_INLAY_HINT_REFRESH, None))

    def _interpreter_listener(self, doc: Document) -> Any:
        def on_event(event: Event) -> None:
            if (
                isinstance(event, WorkerLost)
                and not doc.closed
                and not self.shutting_down
                and not _lost_on_request(doc)
            ):
                reason = event.reason.splitlines()[0:1]
                self.show(
                    f"eager: the interpreter for {Path(doc.path).name} stopped "
                    f"({reason[0] if reason else 'unknown reason'}); a fresh one replaces it "
                    "and its variables are lost.",
                    warn=True,
                )
            elif isinstance(event, ParallelUnavailable) and doc.uri not in self._parallel_told:
                self._parallel_told.add(doc.uri)  # once per document
                self.show(
                    f"eager: gate 'parallel' is not available with this interpreter backend "
                    f"(the Jupyter kernel); {Path(doc.path).name} runs one statement at a time.",
                    warn=True,
                )

        return on_event

    # -- background tasks ---------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if isinstance(exc, RequestError):
                self.show(exc.message, error=True)
            elif exc is not None:
                log.error("%s failed", what, exc_info=exc)
                self.show(f"eager: {what} failed: {type(exc).__name__}: {exc}", error=True)

        task.add_done_callback(done)
        return task

    def open_document(self, item: lsp.TextDocumentItem) -> Document:
        old = self.documents.get(item.uri)
        if old is not None:  # re-opened without a close: start over
            self.spawn(self.close_document(old), "closing a document")
        doc = Document(
            uri=item.uri,
            language_id=item.language_id,
            version=item.version,
            text=Text(item.text, self.encoding),
        )
        doc.observers.append(_StoreKeeper(self, doc))
        self.documents[item.uri] = doc
        if doc.python and self.settings.execution.start_on_open:
            self.spawn(self._start_interpreter(doc), "starting the interpreter")
        return doc

    async def _start_interpreter(self, doc: Document) -> None:
        try:
            await self.ensure_interpreter(doc)
        except RequestError as exc:
            if not doc.closed:
                raise exc

    def change_document(self, params: lsp.DidChangeTextDocumentParams) -> None:
        doc = self.documents.get(params.text_document.uri)
        if doc is None or doc.closed:
            return
        place_waiting(doc)
        edits = doc.apply_changes(params.text_document.version, params.content_changes)
        withdraw_edited(self, doc, edits)
        self.publisher.catch_up(doc)

    def forget_document(self, uri: str) -> None:
        doc = self.documents.pop(uri, None)
        if doc is None:
            return
        doc.closed = True
        self.publisher.clear(uri)
        self.spawn(self.close_document(doc), "closing a document")

    async def close_document(self, doc: Document) -> None:
        doc.closed = True
        if doc.follower is not None:
            await doc.follower.stop()
        if doc.activity is not None:
            await doc.activity.stop("document closed")
        await self.interpreters.close(doc)
        doc.running.clear()

    async def shutdown_all(self) -> None:
        """Stop every activity and interpreter, within the shutdown budget."""
        self.shutting_down = True
        docs = list(self.documents.values())

        async def close_all() -> None:
            await asyncio.gather(*(self.close_document(d) for d in docs), return_exceptions=True)
            await self.interpreters.close_pools()

        try:
            await asyncio.wait_for(close_all(), SHUTDOWN_BUDGET_S)
        except asyncio.TimeoutError:
            log.warning("shutdown took too long; killing interpreters")
        self.kill_all()
        for task in list(self.tasks):
            task.cancel()

    async def shutdown_answered(self) -> None:
        """Wait (bounded) until the `shutdown` requests being handled have answered: pygls
        sends an answer from its task's first done-callback, which runs before
        `asyncio.wait` wakes the waiter."""
        pending = [t for t in self.shutdown_tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_BUDGET_S + 1.0)

    def kill_all(self) -> None:
        """Last resort (exit without shutdown, or a slow shutdown): SIGKILL every worker's
        process group. Workers lead their own process group."""
        for doc in self.documents.values():
            pid = doc.interpreter.pid if doc.interpreter is not None else None
            if pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _lost_on_request(doc: Document) -> bool:
    """The interpreter was lost while an interrupt the user asked for was pending (an
    interrupt the code ignored past its grace period, a stop or a restart that had to kill
    it): the user's command says what happened, and the status ends `interpreter restarted`;
    a warning that "the interpreter stopped" too made three messages of one action. A loss
    nobody asked for (a crash, the memory limit) is still told."""
    run = doc.interpreter.run if doc.interpreter is not None else None
    return run is not None and run.interrupt_asked


class _StoreKeeper:
    """Keeps a document's results in step with its text: moved with edits, dropped (and
    reported stale) when their own lines change."""

    def __init__(self, server: EagerServer, doc: Document) -> None:
        self.server = server
        self.doc = doc

    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None:
        stale = self.doc.store.apply(edit)
        if stale:
            from_line = min(e.first for e in stale)
            last = max(e.last for e in stale)
            to_line = (
                last + edit.delta if last > edit.last else max(edit.last + edit.delta, from_line)
            )
            self.server.stale(self.doc, from_line, max(from_line, to_line))
        if stale or edit.delta:
            self.server.republish(self.doc, refresh=bool(stale))
        # The failing statement was edited away (an undo, say): the document has no error any
        # more, so neither has its status.
        doc = self.doc
        if (
            any(e.failed for e in stale)
            and doc.last_state == "error"
            and not doc.store.failing
            and (doc.activity is None or not doc.activity.running)
        ):
            self.server.status(doc, "idle", message="")
