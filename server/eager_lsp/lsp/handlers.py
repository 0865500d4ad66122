"""All LSP wiring in one place; each handler only forwards to the code that does the work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types as lsp

from eager_lsp.lsp import execution, exit_deadline, generation, hover, methods, publish
from eager_lsp.lsp.errors import RequestError
from eager_lsp.lsp.follow import set_cursor, set_follow
from eager_lsp.lsp.language_server import EagerServer
from eager_lsp.lsp.payloads import (
    OMIT,
    FollowResult,
    InfoResult,
    InterruptResult,
    PrepareResult,
    Refusal,
    RestartResult,
    ResultsResult,
    StartedResult,
    StopResult,
    to_wire,
)

log = logging.getLogger(__name__)

Command = Callable[[EagerServer, dict[str, Any]], Awaitable[Any]]


def register(server: EagerServer) -> None:
    _lifecycle(server)
    _documents(server)
    _results(server)
    _commands(server)


def _lifecycle(server: EagerServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        server.set_client_features(params.capabilities, params.initialization_options)
        server.set_initialization_options(params.initialization_options)
        if params.root_uri or params.root_path:
            from eager_lsp.lsp.documents import uri_to_path

            server.interpreters.root = (
                uri_to_path(params.root_uri) if params.root_uri else params.root_path
            )

    @server.feature(lsp.INITIALIZED)
    def initialized(params: lsp.InitializedParams) -> None:
        server.spawn(server.pull_configuration(), "reading settings")
        server.spawn(server.warm_up(), "loading the model layer")
        server.spawn(server.unload_idle_model(), "unloading the idle bundled model")

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(params: lsp.DidChangeConfigurationParams) -> None:
        server.spawn(server.configuration_changed(params.settings), "reading settings")

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(params: None) -> None:
        task = asyncio.current_task()
        if task is not None:
            server.shutdown_tasks.append(task)
        await server.shutdown_all()

    @server.feature(lsp.EXIT)
    async def exit_(params: None) -> None:
        # A client that sends `exit` without waiting for the answer to `shutdown` (both in
        # one write) still gets that answer: pygls exits the process when this returns.
        await server.shutdown_answered()
        server.kill_all()
        exit_deadline.arm()  # whatever is left running, the process ends (exit_deadline.py)

    @server.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(params: lsp.WorkDoneProgressCancelParams) -> None:
        owner = server.progress_owners.get(str(params.token))
        if owner is not None:
            server.spawn(owner.stop("cancelled from the progress bar"), "stopping")


def _documents(server: EagerServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        server.open_document(params.text_document)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        server.change_document(params)

    @server.feature(methods.CURSOR)
    def cursor(params: Any) -> None:
        set_cursor(server, params)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        server.forget_document(params.text_document.uri)


def _results(server: EagerServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
    def inlay_hint(params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or server.settings.client_draws_values:
            return []
        return publish.inlay_hints(doc, params.range, server.settings.inline_max_length)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_VALUE)
    def inline_value(params: lsp.InlineValueParams) -> list[lsp.InlineValue]:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or server.settings.client_draws_values:
            return []
        return publish.inline_values(doc, params.range, server.settings.inline_max_length)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover_(params: lsp.HoverParams) -> lsp.Hover | None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or server.settings.client_draws_values:
            return None
        text = hover.markdown_at(doc, params.position.line)
        if text is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return generation.fix_actions(server, params)


def _commands(server: EagerServer) -> None:
    def command(name: str, refused: Any = None) -> Callable[[Command], Command]:
        """Register `fn(server, args)`; its result (a payloads.COMMANDS result) goes out as
        JSON. A RequestError becomes a showMessage plus the command's refusal object
        (`refused` + payloads.Refusal's `error` and `reason`)."""

        def decorate(fn: Command) -> Command:
            async def handler(*args: Any) -> Any:
                arg = _to_dict(args[0]) if args else {}
                try:
                    return to_wire(await fn(server, arg))
                except RequestError as exc:
                    server.show(exc.message, error=exc.reason != "busy", warn=True)
                    refusal = Refusal(error=exc.message, reason=exc.reason)  # type: ignore[arg-type]
                    return {**(to_wire(refused) or {}), **to_wire(refusal)}

            server.command(name)(handler)
            return fn

        return decorate

    @command(methods.GENERATE, StartedResult(started=False))
    async def generate(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await generation.start_generate(server, server.document(arg), arg)

    @command(methods.FIX_WITH_AI, StartedResult(started=False))
    async def fix(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await generation.start_fix(server, server.document(arg), arg)

    @command(methods.STOP, StopResult(stopped=False))
    async def stop(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await generation.stop(server, server.document(arg))

    @command(methods.RUN_DOCUMENT, StartedResult(started=False))
    async def run_document(server: EagerServer, arg: dict[str, Any]) -> Any:
        doc = server.document(arg)
        await execution.replace_activity(doc, "run")
        execution.DocumentRun(server, doc).start()
        return StartedResult(started=True)

    @command(methods.FOLLOW, FollowResult(enabled=False))
    async def follow(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await set_follow(server, server.document(arg), bool(arg.get("enabled", True)))

    @command(methods.INTERRUPT, InterruptResult(interrupted=False, stateLost=False))
    async def interrupt(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await execution.interrupt(server.document(arg))

    @command(methods.RESTART_INTERPRETER, RestartResult(restarted=False))
    async def restart(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await execution.restart(server, server.document(arg))

    @command(methods.RESULT_DETAIL)
    async def result_detail(server: EagerServer, arg: dict[str, Any]) -> Any:
        doc, line = server.document(arg), arg.get("line")
        running = hover.running_detail(doc, line)  # a statement running there, first
        return running if running is not None else publish.detail_at(doc, line)

    @command(methods.INFO)
    async def info(server: EagerServer, arg: dict[str, Any]) -> Any:
        """The server's version and the provider and model a generation would use."""
        import asyncio
        import importlib

        await asyncio.to_thread(importlib.import_module, "eager_lsp.providers")
        from eager_lsp import __version__

        llm = server.llm_info()
        info = InfoResult(
            version=__version__,
            provider=llm.get("provider", OMIT),
            model=llm.get("model", OMIT),
            baseUrl=llm.get("baseUrl", OMIT),
        )
        if info.provider == "local":
            from eager_lsp.providers.local_model import local_server_ready

            info.modelLoaded = local_server_ready()
        return info

    @command(methods.RESULTS)
    async def results(server: EagerServer, arg: dict[str, Any]) -> Any:
        return ResultsResult(sent=server.resend_results(server.document(arg)))

    @command(methods.PREPARE_MODEL)
    async def prepare_model(server: EagerServer, arg: dict[str, Any]) -> Any:
        # Silent: the prompt box is open, and the generation that follows reports any problem.
        try:
            return generation.prepare_model(server, server.document(arg), arg)
        except RequestError as exc:
            return PrepareResult(preparing=False, reason=exc.reason)

    @command(methods.DEBUG_ATTACH_INFO)
    async def debug_attach_info(server: EagerServer, arg: dict[str, Any]) -> Any:
        return await execution.debug_attach_info(server, server.document(arg))


def _to_dict(value: Any) -> dict[str, Any]:
    """Command arguments arrive as plain JSON, or as attrs objects in some pygls paths."""
    if isinstance(value, dict):
        return value
    try:
        from lsprotocol.converters import get_converter

        out = get_converter().unstructure(value)
        return out if isinstance(out, dict) else {}
    except Exception:
        return {}
