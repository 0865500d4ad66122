"""What each feature of the language server may use of it: small Protocols, no server class.

Rules:
- A feature (a whole-document run, follow mode, a generation, the writers that put text into
  the document, the cursor) is handed the server typed as the narrow context below that it
  needs, never `EagerServer` itself; mypy checks at the wiring (lsp/server.py) that the
  server satisfies each one. So a feature's reach is visible in its signature, and the
  features import this module, not the server: the import graph of lsp/ has no cycle
  (tests/core/test_import_graph.py).
- A feature changes another feature's state only through methods (lsp/documents.py types
  what hangs off a document: its activity, its follower, its last generated region).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lsprotocol import types as lsp
    from pygls.progress import Progress as WorkDoneProgress

    from eager_lsp.core.interpreter import Interpreter
    from eager_lsp.core.types import ChunkOutput
    from eager_lsp.lsp.config import Settings
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.edit_pace import EditPace
    from eager_lsp.lsp.store import Entry


class Tasks(Protocol):
    """Background work the server tracks: a failure is logged and shown, shutdown stops it."""

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]: ...


class Messages(Protocol):
    """The user (showMessage) and the client's custom notifications (docs/protocol.md)."""

    def show(self, message: str, *, error: bool = False, warn: bool = False) -> None: ...

    def notify(self, method: str, payload: Any) -> None: ...  # an lsp/payloads.py type

    def status(self, doc: Document, state: str, **fields: Any) -> None: ...


class Results(Protocol):
    """Where results go once they are in document lines."""

    def add_entry(self, doc: Document, entry: Entry) -> None: ...

    # a running statement's new output, at its document lines now (runs.OutputSink)
    def live_output(self, doc: Document, first: int, last: int, output: ChunkOutput) -> None: ...

    def stale(self, doc: Document, from_line: int, to_line: int | None = None) -> None: ...

    def republish(self, doc: Document, *, refresh: bool = True) -> None: ...


class InterpreterAccess(Protocol):
    """A document's interpreter: started (RequestError if it cannot), or as it is."""

    async def ensure_interpreter(self, doc: Document) -> Interpreter: ...

    def interpreter_for(self, doc: Document) -> Interpreter: ...


class ProgressClient(Protocol):
    """`$/progress`, when the client supports it; a cancelled bar stops its owner."""

    def client_supports(self, *path: str) -> bool: ...

    @property
    def work_done_progress(self) -> WorkDoneProgress: ...

    @property
    def progress_owners(self) -> dict[str, Any]: ...


class ExecutionContext(Tasks, Messages, Results, InterpreterAccess, ProgressClient, Protocol):
    """What an activity feeding a document's interpreter needs (lsp/execution.py,
    lsp/follow.py): the above and the settings."""

    @property
    def settings(self) -> Settings: ...


class EditClient(Protocol):
    """Writing with `workspace/applyEdit` (lsp/edits.py)."""

    def client_supports(self, *path: str) -> bool: ...

    def apply_edit_json(
        self, params_json: str
    ) -> concurrent.futures.Future[lsp.ApplyWorkspaceEditResult]:
        """`workspace/applyEdit` with its parameters as JSON text."""


class StreamEditClient(Protocol):
    """Writing with `eager/streamEdit` requests the client answers (lsp/stream_edits.py)."""

    def request_json(self, method: str, params_json: str) -> concurrent.futures.Future[Any]:
        """A request with its parameters as JSON text (lsp/protocol.py `request_json`)."""


class OpenDocuments(Protocol):
    """The documents the client has open, by URI."""

    @property
    def documents(self) -> Mapping[str, Document]: ...


class GenerationContext(ExecutionContext, EditClient, StreamEditClient, OpenDocuments, Protocol):
    """A generation (lsp/generation.py): an activity that also writes into the document, with
    `eager/streamEdit` when the client applies it itself."""

    @property
    def stream_edits(self) -> bool: ...

    @property
    def edit_pace(self) -> EditPace: ...
