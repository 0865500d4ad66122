"""pytest-lsp fixtures: the real server in a subprocess, driven like an editor would drive it.

Every test runs twice, with VS Code's and with Neovim's client capabilities (they differ in
what matters here: position encoding, versioned workspace edits, inlay-hint refresh). The
client answers `workspace/applyEdit` by applying the edit to its own copy of the document and
sending didChange back, as a real editor does, so the server's insertion-point tracking is
exercised for real. The model is the fake OpenAI server on 127.0.0.1; the interpreters are
real worker subprocesses.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eager_lsp.lsp import methods  # noqa: E402
from eager_lsp.lsp.text import Text  # noqa: E402
from tests.support.jupyter import jupyter_server  # noqa: E402,F401  (re-exported fixture)
from tests.support.lsp_session import shut_down  # noqa: E402
from tests.support.openai_server import FakeOpenAIServer  # noqa: E402

CLIENTS = ["visual-studio-code", "neovim"]
WAIT_S = 60.0  # generous: a slow CI box must not fail a test that would pass

pytestmark = pytest.mark.slow


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(obj): `eager` settings merged for this test")


class ClientDoc:
    def __init__(self, uri: str, text: str, encoding: str) -> None:
        self.uri = uri
        self.text = Text(text, encoding)
        self.version = 1

    @property
    def source(self) -> str:
        return self.text.source


class Editor:
    """The test's editor: documents, workspace edits applied for real, recorded messages."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.kind = "?"
        self.encoding = "utf-16"
        self.docs: dict[str, ClientDoc] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        # every custom notification in the order it came: (method, params)
        self.sequence: list[tuple[str, dict[str, Any]]] = []
        self.diagnostics: dict[str, list[lsp.PublishDiagnosticsParams]] = {}
        self.apply_requests: list[lsp.ApplyWorkspaceEditParams] = []
        self.refreshes = 0
        self.before_apply: Callable[[Editor, ClientDoc, int], None] | None = None
        self.after_apply: Callable[[Editor, ClientDoc, int], None] | None = None
        self.reject_edits = False
        # Called when the server asks to create a progress bar, before the client answers.
        self.on_progress_create: Callable[[Editor], None] | None = None
        self.skipped_edits = 0  # versioned edits the "neovim" client skipped (stale)
        # (doc, start, end, text) of every change, before it is applied (marks follow them)
        self.change_listeners: list[Callable[[ClientDoc, int, int, str], None]] = []
        self.echo_full_text = False  # report applied edits as whole-document changes
        # Report an insertion at a line start as Neovim's line diff may: a newline-led
        # insertion at the end of the previous line, after a keystroke of the user's that
        # went out in the same didChange (Neovim batches changes).
        self.echo_like_neovim: (
            Callable[[Editor, ClientDoc, int], tuple[lsp.Range, str] | None] | None
        ) = None

    # -- what the server sends ------------------------------------------------------------------
    def install(self) -> None:
        c = self.client
        for method in (
            methods.CHUNK_RESULT,
            methods.STATUS,
            methods.STALE,
            methods.GENERATION_SUMMARY,
            methods.OUTPUT,
        ):
            c.feature(method)(self._recorder(method))

        @c.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics.setdefault(params.uri, []).append(params)
            c.diagnostics[params.uri] = params.diagnostics

        @c.feature(lsp.WORKSPACE_INLAY_HINT_REFRESH)
        def refresh(params: None) -> None:
            self.refreshes += 1

        default_create = DEFAULT_CLIENT_FEATURES[lsp.WINDOW_WORK_DONE_PROGRESS_CREATE]

        @c.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: lsp.WorkDoneProgressCreateParams) -> None:
            if self.on_progress_create is not None:
                self.on_progress_create(self)
            return default_create(c, params)

        @c.feature(lsp.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
            return self._apply_workspace_edit(params)

    def _recorder(self, method: str) -> Callable[[Any], None]:
        def record(params: Any) -> None:
            note = _plain(params)
            self.notes.setdefault(method, []).append(note)
            self.sequence.append((method, note))

        return record

    def _apply_workspace_edit(
        self, params: lsp.ApplyWorkspaceEditParams
    ) -> lsp.ApplyWorkspaceEditResult:
        self.apply_requests.append(params)
        n = len(self.apply_requests)
        if self.reject_edits:
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="user said no")
        edit = params.edit
        items: list[tuple[str, int | None, list[lsp.TextEdit]]] = []
        # Both editors use documentChanges when present, else changes.
        for dc in edit.document_changes or []:
            assert isinstance(dc, lsp.TextDocumentEdit), dc
            edits = [e for e in dc.edits if isinstance(e, lsp.TextEdit)]
            items.append((dc.text_document.uri, dc.text_document.version, edits))
        if not items:
            for uri, edits in (edit.changes or {}).items():
                items.append((uri, None, list(edits)))
        for uri, _, _ in items:
            if self.before_apply is not None:
                self.before_apply(self, self.docs[uri], n)
        for uri, version, _ in items:
            doc = self.docs[uri]
            if version is not None and version != doc.version:
                if self.kind == "neovim":
                    # vim.lsp.util.apply_text_document_edit: "Buffer … newer than edits."
                    # The edit is skipped, yet the handler answers applied = true.
                    self.skipped_edits += 1
                    return lsp.ApplyWorkspaceEditResult(applied=True)
                return lsp.ApplyWorkspaceEditResult(
                    applied=False, failure_reason=f"version {version} != {doc.version}"
                )
        for uri, _, edits in items:
            doc = self.docs[uri]
            # All ranges refer to the text before the edit: apply from the end.
            ordered = sorted(edits, key=lambda e: doc.text.offset(e.range.start), reverse=True)
            changes = [(e.range, e.new_text) for e in ordered]
            if self.echo_like_neovim is not None:
                changes = self._neovim_style(doc, changes, n)
            self._change(doc, changes, full=self.echo_full_text)
            if self.after_apply is not None:
                self.after_apply(self, doc, n)
        return lsp.ApplyWorkspaceEditResult(applied=True)

    def _neovim_style(
        self, doc: ClientDoc, changes: list[tuple[lsp.Range, str]], n: int
    ) -> list[tuple[lsp.Range, str]]:
        assert self.echo_like_neovim is not None
        keystroke = self.echo_like_neovim(self, doc, n)
        out: list[tuple[lsp.Range, str]] = []
        if keystroke is not None:
            out.append(keystroke)  # on a line above: our edit's line numbers still hold
        for rng, text in changes:
            at = rng.start
            if rng.start == rng.end and at.character == 0 and at.line > 0 and text.endswith("\n"):
                prev = at.line - 1
                length = len(doc.text.line(prev)) + (
                    len(keystroke[1]) if keystroke and keystroke[0].start.line == prev else 0
                )
                pos = lsp.Position(line=prev, character=length)  # ASCII test text
                out.append((lsp.Range(start=pos, end=pos), "\n" + text[:-1]))
            else:
                out.append((rng, text))
        return out

    # -- what the user does ---------------------------------------------------------------------
    def open(self, name: str, text: str, tmp_path: Path, language_id: str = "python") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        self.docs[uri] = ClientDoc(uri, text, self.encoding)
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id=language_id, version=1, text=text
                )
            )
        )
        return uri

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        self.docs.pop(uri, None)

    def type(self, uri: str, line: int, character: int, text: str) -> None:
        pos = lsp.Position(line=line, character=character)
        self._change(self.docs[uri], [(lsp.Range(start=pos, end=pos), text)])

    def replace(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        rng = lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end))
        self._change(self.docs[uri], [(rng, text)])

    def _change(
        self, doc: ClientDoc, changes: list[tuple[lsp.Range, str]], *, full: bool = False
    ) -> None:
        events: list[lsp.TextDocumentContentChangeEvent] = []
        for rng, text in changes:
            s, e = doc.text.offset(rng.start), doc.text.offset(rng.end)
            # Positions sent are the ones the edit was given with (sequential semantics).
            events.append(lsp.TextDocumentContentChangePartial(range=rng, text=text))
            for listener in list(self.change_listeners):
                listener(doc, s, e, text)
            doc.text.replace(s, e, text)
        if full:
            events = [lsp.TextDocumentContentChangeWholeDocument(text=doc.source)]
        doc.version += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
                content_changes=events,
            )
        )

    def cursor(self, uri: str, line: int, character: int, *, version: bool = True) -> None:
        """eager/cursor, as a client that reports its cursor does."""
        payload: dict[str, Any] = {
            "uri": uri,
            "position": {"line": line, "character": character},
        }
        if version:
            payload["version"] = self.docs[uri].version
        self.client.protocol.notify(methods.CURSOR, payload)

    # -- asking ------------------------------------------------------------------------------------
    async def command(self, name: str, **arg: Any) -> Any:
        result = await self.client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=name, arguments=[arg])
        )
        return _plain(result)

    async def raw_request(self, method: str, params: Any) -> Any:
        """A request whose result is returned as plain JSON data. Needed for
        textDocument/codeAction: the client-side converter turns the (Command | CodeAction)
        union into a Command, losing the CodeAction the server sent."""
        protocol = self.client.protocol
        original = protocol.get_result_type
        protocol.get_result_type = lambda m: None if m == method else original(m)  # type: ignore[method-assign]
        try:
            return _plain(await protocol.send_request_async(method, params))
        finally:
            protocol.get_result_type = original  # type: ignore[method-assign]

    async def hints(self, uri: str) -> list[lsp.InlayHint]:
        doc = self.docs[uri]
        end = lsp.Position(line=doc.text.line_count, character=0)
        result = await self.client.text_document_inlay_hint_async(
            lsp.InlayHintParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(start=lsp.Position(0, 0), end=end),
            )
        )
        return list(result or [])

    async def hint_labels(self, uri: str) -> dict[int, str]:
        return {h.position.line: _label(h) for h in await self.hints(uri)}

    def latest_diagnostics(self, uri: str) -> lsp.PublishDiagnosticsParams | None:
        got = self.diagnostics.get(uri)
        return got[-1] if got else None

    def notes_for(self, method: str, uri: str) -> list[dict[str, Any]]:
        return [n for n in self.notes.get(method, []) if n.get("uri") == uri]

    def messages(self) -> list[str]:
        return [m.message for m in self.client.messages]

    async def wait_for(self, predicate: Callable[[], Any], what: str = "condition") -> Any:
        """Poll until `predicate()` is truthy (bounded; no timing is asserted)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def wait_hints(
        self, uri: str, ok: Callable[[dict[int, str]], bool], what: str = "the hints"
    ) -> dict[int, str]:
        """Ask for the inlay hints until `ok(labels)` (bounded; no timing is asserted)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            labels = await self.hint_labels(uri)
            if ok(labels):
                return labels
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; hints: {labels}")
            await asyncio.sleep(0.05)

    async def summary(self, uri: str, count: int = 1) -> dict[str, Any]:
        """Wait for the `count`-th eager/generationSummary of this document."""
        got = await self.wait_for(
            lambda: (
                len(self.notes_for(methods.GENERATION_SUMMARY, uri)) >= count
                and self.notes_for(methods.GENERATION_SUMMARY, uri)
            ),
            "eager/generationSummary",
        )
        return got[count - 1]

    async def settle(
        self, uri: str, where: Callable[[list[lsp.Diagnostic]], bool] | None = None
    ) -> lsp.PublishDiagnosticsParams:
        """Wait until the latest diagnostics are for the editor's current version (and, with
        `where`, until they satisfy it)."""
        doc = self.docs[uri]

        def current() -> lsp.PublishDiagnosticsParams | None:
            d = self.latest_diagnostics(uri)
            if d is None or d.version != doc.version:
                return None
            return d if where is None or where(list(d.diagnostics)) else None

        return await self.wait_for(current, "diagnostics for the current version")


def _label(hint: lsp.InlayHint) -> str:
    if isinstance(hint.label, str):
        return hint.label
    return "".join(part.value for part in hint.label)


def _plain(value: Any) -> Any:
    """Notification params as plain JSON data."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):  # pygls hands unknown params over as named tuples
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value


def _client_factory() -> LanguageClient:
    from pygls.protocol import default_converter

    client = LanguageClient(converter_factory=default_converter)
    own = {lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, lsp.WINDOW_WORK_DONE_PROGRESS_CREATE}
    register_lsp_features(
        client, {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k not in own}
    )
    editor = Editor(client)
    editor.install()
    client.editor = editor  # type: ignore[attr-defined]
    return client


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "server"), env.get("PYTHONPATH")]))
    env.setdefault("EAGER_LSP_LOG_LEVEL", "INFO")
    return env


@pytest.fixture
def fake_openai() -> Any:
    with FakeOpenAIServer() as srv:
        yield srv


def base_settings(fake: FakeOpenAIServer) -> dict[str, Any]:
    return {
        "llm": {"provider": "openai", "baseUrl": fake.url, "apiKey": "sk-test", "model": "fake"},
        "execution": {"gate": "eager", "stopOnError": True},
        "debug": {"enabled": False},
        "repair": {"mode": "ask"},
    }


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return out


@pytest_lsp.fixture(
    params=CLIENTS,
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve"],
        client_factory=_client_factory,
        server_env=_server_env(),
    ),
)
async def client(lsp_client: LanguageClient, request: Any, fake_openai: Any, tmp_path: Path):
    settings = base_settings(fake_openai)
    marker = request.node.get_closest_marker("settings")
    if marker is not None:
        settings = _merge(settings, marker.args[0])
    editor: Editor = lsp_client.editor  # type: ignore[attr-defined]
    editor.kind = "neovim" if request.param == "neovim" else "vscode"
    lsp_client.set_configuration(settings, section=methods.SETTINGS_SECTION)
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities(request.param),
            initialization_options=settings,
            root_uri=tmp_path.as_uri(),
        )
    )
    enc = result.capabilities.position_encoding
    editor.encoding = str(getattr(enc, "value", enc) or "utf-16")
    yield
    await shut_down(lsp_client)


@pytest.fixture
def editor(client: LanguageClient) -> Editor:
    return client.editor  # type: ignore[attr-defined]
