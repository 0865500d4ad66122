"""Open documents: the server's copy of each text, its results, and its interpreter.

A document's text changes only through `apply_changes` (didChange), which is where the pieces
that depend on positions learn about edits, one change at a time and in order: the result
store, line maps of runs in flight, and a generation's insertion point. Edits the server made
itself (applyEdit, echoed back by the client) are recognised so they do not stop a generation.

Every didChange is also kept, as offset changes, in a short history (`map_offset`): a client
that applies generated text itself (eager/streamEdit) answers with where the text is in the
version it had then, and the server rebases that answer over whatever arrived since.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp

from eager_lsp.core.interpreter import Interpreter, InterpreterConfig
from eager_lsp.core.types import ChunkResult, Event
from eager_lsp.executors.backend import SharedSources
from eager_lsp.lsp.config import Settings
from eager_lsp.lsp.least_edits import least_edits
from eager_lsp.lsp.running import RunningStatements
from eager_lsp.lsp.store import ResultStore
from eager_lsp.lsp.text import LineEdit, Text
from eager_lsp.lsp.waits import wait_done

log = logging.getLogger(__name__)

PYTHON_LANGUAGE_IDS = frozenset({"python", "py"})
HISTORY = 512  # didChanges kept for rebasing a client's answer (a few seconds of fast typing)


class ChangeObserver(Protocol):
    def on_change(self, start: int, end: int, text: str, edit: LineEdit, own: bool) -> None: ...


class OwnEdits(Protocol):
    """Whoever is writing into the document (a generation): recognises its own edits."""

    def claims(self, start: int, end: int, text: str) -> tuple[int, int, str] | None: ...

    def expected_source(self) -> str | None: ...

    def own_edit(self) -> tuple[int, int, str] | None: ...

    def after_did_change(self, previous_version: int, claimed: bool) -> None: ...


class RunCounts(Protocol):
    """The run an activity feeds, as the document's status reads it (lsp/runs.py RunBinding)."""

    @property
    def cancelled(self) -> bool: ...

    @property
    def ran(self) -> int: ...

    @property
    def failed(self) -> ChunkResult | None:
        """Its first failing statement (one the user interrupted included)."""
        ...

    def counts(self) -> dict[str, int]: ...

    def elapsed(self) -> float: ...


class ProgressReport(Protocol):
    def report(self, message: str, *, force: bool = False) -> None: ...


class ActivityHandle(Protocol):
    """Whatever feeds the document's interpreter now: a generation, a whole-document run, a
    follow-mode stream (lsp/execution.py `Activity` and its kinds). One at a time."""

    @property
    def kind(self) -> str: ...  # "generate" | "fix" | "run" | "follow"

    @property
    def running(self) -> bool: ...

    @property
    def binding(self) -> RunCounts | None: ...  # None until its run began

    @property
    def tokens(self) -> int: ...  # model pieces received so far (0: none, or not a model)

    @property
    def progress(self) -> ProgressReport | None: ...

    async def stop(self, reason: str) -> None: ...

    async def wait_done(self, timeout: float) -> None: ...


class FollowHandle(Protocol):
    """Follow mode on a document (lsp/follow.py `Follower`): what other activities tell it."""

    def suspend(self) -> None: ...  # another activity feeds the interpreter now

    def resume_after_run(self) -> None: ...  # that activity ran the document's text

    def rebuild_soon(self) -> None: ...  # the interpreter was replaced

    def cursor_moved(self) -> None: ...

    async def stop(self) -> None: ...


class GeneratedRegion(Protocol):
    """Where the last generation's text is (lsp/edits.py `Region`), for "Fix with AI"."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def intact(self) -> bool: ...

    def detach(self) -> None: ...


def uri_to_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return path


def is_python(uri: str, language_id: str | None) -> bool:
    if language_id:
        return language_id.lower() in PYTHON_LANGUAGE_IDS
    return uri.endswith((".py", ".pyw"))


@dataclass
class Document:
    uri: str
    language_id: str
    version: int
    text: Text
    store: ResultStore = field(default_factory=ResultStore)
    # statements running now and the end of their output, until their results are in the store
    running: RunningStatements = field(default_factory=RunningStatements)
    interpreter: Interpreter | None = None
    closed: bool = False
    observers: list[ChangeObserver] = field(default_factory=list)
    writer: OwnEdits | None = None
    activity: ActivityHandle | None = None  # what feeds the interpreter now (lsp/execution.py)
    follower: FollowHandle | None = None  # while follow mode is on (lsp/follow.py)
    last_prompt: str | None = None
    last_region: GeneratedRegion | None = None  # of the last generation, for "Fix with AI"
    repair_attempts: int = 0
    last_state: str = "idle"  # the last eager/status state sent (server.status)
    version_waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(
        default_factory=list
    )
    # (version before, version after, [(start, end, text)] in order) of recent didChanges
    history: deque[tuple[int, int, list[tuple[int, int, str]]]] = field(
        default_factory=lambda: deque(maxlen=HISTORY)
    )
    cursor: tuple[int, int] | None = None  # (line, character) from eager/cursor
    cursor_version: int | None = None  # the document version that cursor was sent with

    @property
    def path(self) -> str:
        return uri_to_path(self.uri) or self.uri

    @property
    def python(self) -> bool:
        return is_python(self.uri, self.language_id)

    def apply_changes(
        self, version: int, changes: Sequence[lsp.TextDocumentContentChangeEvent]
    ) -> list[LineEdit]:
        """Apply didChange content changes in order, telling every observer about each one."""
        edits: list[LineEdit] = []
        applied: list[tuple[int, int, str]] = []
        claimed = False
        writer = self.writer
        # One ranged change (what clients send for our edits) is recognised by `claims` below
        # without rebuilding the text; several, or a whole-text one, are compared as a result.
        single = len(changes) == 1 and isinstance(changes[0], lsp.TextDocumentContentChangePartial)
        after = None if single else self._after(changes)  # (the text they make, once)
        whole = None if after is None else self._as_own_edit(after)
        merged = (
            None if after is None or whole is not None else least_edits(self.text.source, after)
        )
        if merged is not None and (merged[0][0] != merged[0][1] or merged[0][2]) and self._busy():
            # The text changed while a generation starts or writes here (`_busy`): where each
            # change lands matters (a region's boundaries, the point a
            # generation was asked at), and one merged edit can move it within identical
            # text: change by change. (The same text in the end, `:%!cat` or an undo that put
            # back what it took, is one empty edit.)
            merged = None
        if whole is not None:
            edits.append(self._apply(*whole, own=True))
            applied.append(whole)
            claimed = True
        elif merged is not None:
            for one in merged:
                edits.append(self._apply(*one, own=False))
                applied.append(one)
        else:
            for change in changes:
                if isinstance(change, lsp.TextDocumentContentChangePartial):
                    start = self.text.offset(change.range.start)
                    end = self.text.offset(change.range.end)
                else:
                    start, end = 0, len(self.text.source)
                ours = writer.claims(start, end, change.text) if writer else None
                if ours is not None:
                    edits.append(self._apply(*ours, own=True))
                    applied.append(ours)
                    claimed = True
                else:
                    edits.append(self._apply(start, end, change.text, own=False))
                    applied.append((start, end, change.text))
        previous, self.version = self.version, version
        self.history.append((previous, version, applied))
        if writer is not None:
            writer.after_did_change(previous, claimed)
        self.wake_waiters()
        return edits

    def map_offset(self, offset: int, since: int, *, stay_before: bool) -> int | None:
        """Where `offset` of document version `since` is now (None: too old to know).
        Text inserted exactly at the offset goes after it when `stay_before` (an end that
        does not grow with other people's text), else before it (a start that moves)."""
        if since == self.version:
            return offset
        entries = [h for h in self.history if h[1] > since]
        if not entries or entries[0][0] > since:
            return None
        for _, _, changes in entries:
            for s, e, text in changes:
                if e < offset or (e == offset and (s < e or not stay_before)):
                    offset += len(text) - (e - s)
                elif s < offset:  # the offset's own text was replaced: clamp into the change
                    offset = s if stay_before else s + len(text)
        return offset

    def _as_own_edit(self, after: str) -> tuple[int, int, str] | None:
        """A client may report our applyEdit differently (Neovim diffs lines; a full-sync
        client sends the whole text): if the text its changes make (`after`) is exactly what
        our edit produces, it was our edit."""
        if self.writer is None:
            return None
        expected = self.writer.expected_source()
        if expected is None:
            return None
        return self.writer.own_edit() if after == expected else None

    def _after(self, changes: Sequence[lsp.TextDocumentContentChangeEvent]) -> str:
        """The text these changes make, applied in order to a copy."""
        scratch = Text(self.text.source, self.text.encoding)
        for change in changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                s, e = scratch.offset(change.range.start), scratch.offset(change.range.end)
            else:
                s, e = 0, len(scratch.source)
            scratch.replace(s, e, change.text)
        return scratch.source

    def _busy(self) -> bool:
        """A generation writes here or is starting (see `apply_changes`: its region and the
        point it was asked at need each change where it landed). A document run or follow
        mode is not: their lines follow the least edits as well (lsp/runs.py `LineMap`), and
        a filter taken change by change during a run marked every statement edited (a
        review: the write below a running loop was taken back by a `:%!` that changed line 1)."""
        if self.writer is not None:
            return True
        activity = self.activity
        generating = getattr(activity, "kind", None) in ("generate", "fix")
        return (generating and bool(getattr(activity, "running", False))) or any(
            getattr(o, "writing", False) for o in self.observers
        )

    def _apply(self, start: int, end: int, text: str, *, own: bool) -> LineEdit:
        edit = self.text.replace(start, end, text)
        for observer in list(self.observers):
            try:
                observer.on_change(start, end, text, edit, own)
            except Exception:
                log.exception("change observer failed")
        return edit

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (bounded) until a didChange makes `predicate` true."""
        if predicate():
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self.version_waiters.append(entry)
        try:
            return await wait_done(fut, timeout) or predicate()
        finally:
            if entry in self.version_waiters:
                self.version_waiters.remove(entry)

    def wake_waiters(self) -> None:
        for predicate, fut in list(self.version_waiters):
            if not fut.done() and predicate():
                fut.set_result(None)


class Interpreters:
    """One Interpreter per document; their executors come from shared sources (one warm-spare
    worker pool per set of worker options: eager_lsp.executors.SharedSources)."""

    def __init__(self, listener_for: Callable[[Document], Callable[[Event], None]]) -> None:
        self._sources = SharedSources()
        self._listener_for = listener_for
        self.root: str | None = None

    def interpreter_for(self, doc: Document, settings: Settings) -> Interpreter:
        """The document's interpreter, created (not yet started) if it has none."""
        if doc.interpreter is None:
            ex = settings.execution
            path = doc.path
            cwd = self.root or (os.path.dirname(path) if os.path.isabs(path) else None)
            config = InterpreterConfig(
                path=path,
                cwd=cwd if cwd and os.path.isdir(cwd) else None,
                python=ex.python,
                debug=settings.debug_enabled,
                gate=ex.gate_policy(),
                stop_on_error=ex.stop_on_error,
                interrupt_grace_s=ex.interrupt_grace_s,
                env_allow=ex.env_allow,
                env_deny_patterns=ex.env_deny_patterns,
                memory_limit_mb=ex.memory_limit_mb,
                backend=ex.backend,
                kernel=ex.kernel,
            )
            source, owned = self._sources.source_for(config)
            doc.interpreter = Interpreter(
                config, source, listener=self._listener_for(doc), own_pool=owned
            )
            doc.store.ledger = doc.interpreter.ledger  # the store is a view of it
        return doc.interpreter

    def apply_settings(self, doc: Document, settings: Settings) -> None:
        """Settings a running interpreter can take without a new process."""
        if doc.interpreter is not None:
            ex = settings.execution
            doc.interpreter.config.gate = ex.gate_policy()
            doc.interpreter.config.stop_on_error = ex.stop_on_error
            doc.interpreter.config.interrupt_grace_s = ex.interrupt_grace_s

    async def close(self, doc: Document) -> None:
        interpreter, doc.interpreter = doc.interpreter, None
        if interpreter is not None:
            await interpreter.close()

    async def close_pools(self) -> None:
        await self._sources.close()
