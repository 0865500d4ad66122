"""Every custom LSP payload, defined once: the eager/* notifications and requests, the
`workspace/executeCommand` commands with their arguments and results, and the diagnostic `data`.

Rules, and why:
- The server builds these objects and sends `to_wire(obj)`; it never hand-builds one of these
  dicts, so a field cannot be misspelt in one place and right in another.
- Field names are the wire names (camelCase, as the clients spell them), so a search for
  `chunksDone` finds the Python, the TypeScript and the Lua side alike.
- A field whose default is `OMIT` is left out of the message when not set (the protocol's
  "optional"); a field typed `X | None` is always sent, `null` when empty.
- `describe()` is the JSON description of all of it; `payload_export.py` prints it and writes
  the Neovim plugin's annotations (`nvim/lua/eager/protocol.lua`) and docs/protocol.md's
  "Payload definitions" from it. tests/lsp/test_payloads.py checks the VS Code extension
  (`vscode-extension/src/methods.ts`) and the Neovim plugin (`nvim/lua/eager/*.lua`) against it.
- Plain dataclasses, no LSP types: these are JSON shapes; pygls gets the dicts.
- What a client sends back (the answer to eager/streamEdit, eager/cursor) is read with
  `from_wire(Type, data)`, which checks it against the same definition: a malformed message is
  a `PayloadError` that names the field, never a KeyError deep inside a feature.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from eager_lsp.lsp import methods

T = TypeVar("T")


class _Omit:
    """The value of an optional field that is not set: the field is not sent."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"

    def __bool__(self) -> bool:
        return False


OMIT: Any = _Omit()


def to_wire(value: Any) -> Any:
    """The JSON value of a payload: dataclasses become dicts of their set fields."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if cls is list or cls is tuple:
            return [to_wire(v) for v in value]
        if cls is dict:
            return {k: to_wire(v) for k, v in value.items()}
        if not dataclasses.is_dataclass(cls):
            if isinstance(value, (list, tuple)):
                return [to_wire(v) for v in value]
            if isinstance(value, dict):
                return {k: to_wire(v) for k, v in value.items()}
            return value
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    out: dict[str, Any] = {}
    for name in names:
        v = getattr(value, name)
        if v is OMIT:
            continue
        out[name] = v if type(v) in _SCALARS else to_wire(v)
    return out


# Per-payload field names, looked up once: `dataclasses.fields()` on every object was a third of
# the cost of a chunk result on a server that sends thousands a second.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})


class PayloadError(ValueError):
    """A client's message does not match its definition (the message says which field)."""


def from_wire(cls: type[T], data: Any) -> T:
    """A payload read from a client's JSON (`plain` data: dicts, lists, scalars), checked
    against its definition: a missing required field, a value of the wrong type or a string
    outside its `Literal` is a `PayloadError` naming the field; unknown fields are ignored (a
    newer client may send more); an optional field that is absent or null is `OMIT`."""
    return typing.cast(T, _read_value(cls, data, cls.__name__))


_READ_PLAN: dict[type, list[tuple[str, Any, Any]]] = {}  # class → (name, default, type) per field


def _read_plan(cls: type) -> list[tuple[str, Any, Any]]:
    """Each field's name, default and type, worked out once per class: `typing.get_type_hints`
    evaluates each annotation's text (this module's annotations are strings), about 0.1 ms a
    class, which was paid on every answer read."""
    fields = _READ_PLAN.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = _READ_PLAN[cls] = [
            (f.name, f.default, hints[f.name]) for f in dataclasses.fields(cls)
        ]
    return fields


def _read_object(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise PayloadError(f"{where}: expected an object, got {_json_type(data)}")
    values: dict[str, Any] = {}
    for name, default, tp in _read_plan(cls):
        value = data.get(name)
        if value is None and default is OMIT:
            values[name] = OMIT
            continue
        if name not in data and default is not dataclasses.MISSING:
            continue
        if name not in data:
            raise PayloadError(f"{where}.{name} is missing")
        values[name] = _read_value(tp, value, f"{where}.{name}")
    return cls(**values)


def _read_value(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if tp is type(None):
        if value is None:
            return None
    elif origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        expected = " | ".join(json.dumps(a) for a in args)
        raise PayloadError(f"{where}: expected {expected}, got {json.dumps(value)[:80]}")
    elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        problems = []
        for option in args:
            try:
                return _read_value(option, value, where)
            except PayloadError as exc:
                problems.append(str(exc))
        raise PayloadError("; or ".join(problems))
    elif origin is list:
        if isinstance(value, list):
            return [_read_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            return value
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _read_object(tp, value, where)
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        raise PayloadError(f"{where}: cannot read a value of type {_type_text(tp)}")
    raise PayloadError(f"{where}: expected {_type_text(tp)}, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# -- shared shapes ------------------------------------------------------------------------------


@dataclass
class Position:
    line: int
    character: int


@dataclass
class Range:
    start: Position
    end: Position


# -- eager/chunkResult (also the answer of eager.resultDetail) ----------------------------------


@dataclass
class ValueInfo:
    name: str
    type: str
    repr: str
    summary: str
    table: str = OMIT  # a data frame's head as a Markdown table


@dataclass
class ImageInfo:
    path: str
    label: str
    size: int


@dataclass
class FrameInfo:
    path: str
    line: int | None  # 0-based; null: a line of the document that is gone
    function: str
    inDocument: bool
    repeated: int


@dataclass
class ErrorInfo:
    type: str
    message: str
    line: int | None  # 0-based document line
    traceback: str
    stateLost: bool
    # The user ended it (core/run.py `ended_by_user`): its KeyboardInterrupt, or its
    # interpreter killed for an interrupt, a stop or a restart the user asked for. Clients
    # head it "interrupted", not "error" (its diagnostic is Information); `stateLost` alone
    # cannot tell such a kill from a crash.
    byUser: bool
    frames: list[FrameInfo]
    framesOmitted: int


@dataclass
class Timings:
    """Milliseconds since the start of the generation/run."""

    releasedMs: float = OMIT
    dispatchedMs: float = OMIT
    startMs: float = OMIT
    endMs: float = OMIT
    resultMs: float = OMIT
    elapsedMs: float = OMIT
    # first lines (0-based, as published) of the statements that ran at the same time
    # as this one (gate `parallel`); empty otherwise
    parallelWith: list[int] = OMIT


@dataclass
class ChunkInfo:
    index: int
    startLine: int  # 0-based
    endLine: int
    range: Range


@dataclass
class ChunkResultParams:
    uri: str
    version: int | None
    chunk: ChunkInfo
    ok: bool
    skipped: bool
    values: list[ValueInfo]
    expr: ValueInfo | None
    stdout: str
    stderr: str
    error: ErrorInfo | None
    images: list[ImageInfo]
    timings: Timings
    # The ledger's statement id (core/ledger.py): a result with the same id is the same
    # statement run again, and replaces the earlier one wherever the client has moved it.
    statementId: int = OMIT
    truncated: bool = OMIT  # set once the payload has been bounded


@dataclass
class OutputParams:
    """`eager/output`: what a statement that is still running wrote since the last one (once
    it has run 0.25 s, at most every 0.25 s; several when the text is long: each holds at most
    4096 characters). Its `eager/chunkResult` (same `uri` and `chunk.index`) follows and holds
    all the output, which starts with these texts joined (docs/protocol.md says when not)."""

    uri: str
    version: int | None
    chunk: ChunkInfo
    stdout: str
    stderr: str


@dataclass
class SyntaxErrorInfo:
    line: int
    column: int
    message: str


@dataclass
class SyntaxErrorDetail:
    """`eager.resultDetail` on a syntax error."""

    uri: str
    version: int | None
    syntaxError: SyntaxErrorInfo


@dataclass
class RunningDetail:
    """`eager.resultDetail` on a statement still running (it has no result yet): for how long,
    and the end of what it printed so far (its eager/chunkResult, once it ends, has it all)."""

    uri: str
    version: int | None
    running: Literal[True]  # tells this answer from a result's
    startLine: int  # 0-based: its lines now
    endLine: int
    elapsedS: float  # seconds it has run so far
    stdout: str  # the end of its stdout so far
    stderr: str
    stdoutBefore: int  # characters of stdout it printed before `stdout` (not kept)
    stderrBefore: int


# -- other notifications ------------------------------------------------------------------------

StatusState = Literal["idle", "generating", "running", "error"]


@dataclass
class StatusParams:
    uri: str
    state: StatusState
    tokens: int = OMIT
    tokensPerSecond: float = OMIT
    chunksDone: int = OMIT
    chunksRunning: int = OMIT
    chunksPending: int = OMIT
    chunksTotal: int = OMIT
    # first lines (0-based) of the statements executing now: more than one when they run in
    # parallel (gate `parallel`)
    runningLines: list[int] = OMIT
    # The safe gate holds the statements from this (0-based) line on until the generation or
    # stream ends, and why ("calls os.remove"): they are among `chunksPending`.
    heldLine: int = OMIT
    heldReason: str = OMIT
    message: str = OMIT
    provider: str = OMIT
    model: str = OMIT
    baseUrl: str = OMIT


@dataclass
class StaleParams:
    uri: str
    fromLine: int
    toLine: int = OMIT


@dataclass
class GenerationSummaryParams:
    uri: str
    elapsedS: float
    lastTokenS: float | None
    execTotalS: float
    serialEstimateS: float | None
    savedS: float | None
    chunks: int
    tokens: int
    stoppedEarly: bool
    error: str | None


# -- eager/streamEdit (server → client request) -------------------------------------------------


@dataclass
class StreamEditBase:
    uri: str
    generationId: str
    seq: int
    op: str


@dataclass
class StreamBeginParams(StreamEditBase):
    position: Position
    version: int
    replace: Range = OMIT
    before: str = OMIT
    after: str = OMIT
    trimTrailing: bool = OMIT  # what `end` will ask for (an unfinished line dropped on "edited")


@dataclass
class StreamInsertParams(StreamEditBase):
    text: str


@dataclass
class StreamEndParams(StreamEditBase):
    trimTrailing: bool = OMIT
    keepLines: int = OMIT
    complete: bool = OMIT  # the model's text has ended: its last line is finished, it ran


STREAM_OPS: dict[str, type[StreamEditBase]] = {
    "begin": StreamBeginParams,
    "insert": StreamInsertParams,
    "end": StreamEndParams,
}


@dataclass
class StreamEditResult:
    """The client's answer: `ok` with the region's `version`/`range`, or a `reason` (an
    insert declined with `conflict` has `version`/`range` too: the region is kept)."""

    ok: bool
    version: int = OMIT
    range: Range = OMIT
    reason: Literal["edited", "closed", "conflict"] = OMIT
    message: str = OMIT


# -- eager/cursor (client → server) -------------------------------------------------------------


@dataclass
class CursorParams:
    uri: str
    position: Position
    version: int = OMIT


# -- commands: arguments ------------------------------------------------------------------------


@dataclass
class UriArgs:
    uri: str


@dataclass
class GenerateArgs:
    uri: str
    prompt: str
    position: Position = OMIT
    range: Range = OMIT


@dataclass
class PrepareArgs:
    uri: str
    position: Position = OMIT  # where the generation will write (default: end of document)


@dataclass
class LineArgs:
    uri: str
    line: int  # 0-based


@dataclass
class FollowArgs:
    uri: str
    enabled: bool


@dataclass
class InfoArgs:
    pass


# -- commands: results --------------------------------------------------------------------------


@dataclass
class Refusal:
    """Added to a command's result when it was refused (also shown with showMessage)."""

    error: str
    reason: Literal["invalid", "not_open", "not_python", "busy", "no_error", "settings", "debugger"]


@dataclass
class StartedResult:
    started: bool


@dataclass
class StopResult:
    stopped: bool
    # The code it was running was interrupted (its statement shows `byUser`); `stateLost`:
    # the code ignored the interrupt and the interpreter was killed and restarted for it.
    interrupted: bool = False
    stateLost: bool = False


@dataclass
class FollowResult:
    enabled: bool


@dataclass
class InterruptResult:
    interrupted: bool
    stateLost: bool
    # The code ignored the interrupt and may not be killed (an attached Jupyter kernel, which
    # is the user's): it is still running, with its state.
    stillRunning: bool = OMIT


@dataclass
class RestartResult:
    restarted: bool


@dataclass
class DebugAttachInfo:
    host: str
    port: int


@dataclass
class InfoResult:
    version: str
    provider: str = OMIT  # "openai" | "local"; absent until the model layer has loaded
    model: str = OMIT
    baseUrl: str = OMIT
    # provider "local": its server runs now, the model loaded (it loads for a generation or an
    # opened prompt box, and is unloaded after `llm.localIdleMinutes` unused)
    modelLoaded: bool = OMIT


@dataclass
class ResultsResult:
    """`eager.results`: how many results were sent again as `eager/chunkResult` (sent before
    this answer)."""

    sent: int


@dataclass
class PrepareResult:
    """`eager.prepareModel`: `preparing` true when the bundled model is being started (or is
    running) and the prompt's fixed part is evaluated in the background; false with `reason`
    "not_local" when generations go to an endpoint (nothing to prepare)."""

    preparing: bool
    reason: str = OMIT


# -- diagnostics --------------------------------------------------------------------------------


@dataclass
class DiagnosticData:
    """`Diagnostic.data` of eager's diagnostics."""

    kind: str  # "runtime" | "syntax"
    line: int
    statementLine: int


# -- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    arguments: type
    result: tuple[type, ...]  # any of these (None: `null`)
    nullable: bool = False


COMMANDS: dict[str, Command] = {
    methods.GENERATE: Command(GenerateArgs, (StartedResult,)),
    methods.STOP: Command(UriArgs, (StopResult,)),
    methods.RUN_DOCUMENT: Command(UriArgs, (StartedResult,)),
    methods.FOLLOW: Command(FollowArgs, (FollowResult,)),
    methods.INTERRUPT: Command(UriArgs, (InterruptResult,)),
    methods.RESTART_INTERPRETER: Command(UriArgs, (RestartResult,)),
    methods.DEBUG_ATTACH_INFO: Command(UriArgs, (DebugAttachInfo,), nullable=True),
    methods.FIX_WITH_AI: Command(LineArgs, (StartedResult,)),
    methods.RESULT_DETAIL: Command(
        LineArgs, (ChunkResultParams, SyntaxErrorDetail, RunningDetail), True
    ),
    methods.INFO: Command(InfoArgs, (InfoResult,)),
    methods.RESULTS: Command(UriArgs, (ResultsResult,)),
    methods.PREPARE_MODEL: Command(PrepareArgs, (PrepareResult,)),
}

# Server → client notifications.
NOTIFICATIONS: dict[str, type] = {
    methods.CHUNK_RESULT: ChunkResultParams,
    methods.STATUS: StatusParams,
    methods.STALE: StaleParams,
    methods.GENERATION_SUMMARY: GenerationSummaryParams,
    methods.OUTPUT: OutputParams,
}

# Server → client requests: params (any of) and the client's result.
REQUESTS: dict[str, tuple[tuple[type, ...], type]] = {
    methods.STREAM_EDIT: (
        (StreamBeginParams, StreamInsertParams, StreamEndParams),
        StreamEditResult,
    ),
}

# Client → server notifications.
CLIENT_NOTIFICATIONS: dict[str, type] = {methods.CURSOR: CursorParams}


def notify_params(method: str, payload: Any) -> dict[str, Any]:
    """The wire form of a notification, checked against its definition."""
    expected = NOTIFICATIONS[method]
    if not isinstance(payload, expected):
        raise TypeError(f"{method} takes {expected.__name__}, not {type(payload).__name__}")
    out: dict[str, Any] = to_wire(payload)
    return out


def status_params(uri: str, state: str, fields: dict[str, Any]) -> StatusParams:
    """`eager/status` from keyword fields; an unknown field name is a TypeError at once."""
    return StatusParams(uri=uri, state=typing.cast(StatusState, state), **fields)


# -- the description ----------------------------------------------------------------------------


def _types() -> list[type]:
    mod = sys.modules[__name__]
    return [
        obj
        for obj in vars(mod).values()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == __name__
        and obj is not Command
    ]


def _type_text(tp: Any) -> str:
    """A short, language-neutral spelling of a field's type: `int`, `list[FrameInfo]`,
    `ErrorInfo | null`, `"idle" | "error"`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "null"
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(_type_text(a) for a in args)
    if origin is list:
        return f"list[{_type_text(args[0])}]"
    if origin is dict:
        return "object"
    if isinstance(tp, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(
            tp.__name__, tp.__name__
        )
    return str(tp)


def _fields(cls: type) -> dict[str, dict[str, Any]]:
    return {
        name: {"type": _type_text(tp), "optional": default is OMIT}
        for name, default, tp in _read_plan(cls)
    }


def describe() -> dict[str, Any]:
    """Every custom method with its payload types, and every type with its fields."""

    def names(types: tuple[type, ...]) -> list[str]:
        return [t.__name__ for t in types]

    return {
        "commands": {
            name: {
                "arguments": c.arguments.__name__,
                "result": names(c.result) + (["null"] if c.nullable else []),
                "refusal": Refusal.__name__,
            }
            for name, c in COMMANDS.items()
        },
        "notifications": {name: cls.__name__ for name, cls in NOTIFICATIONS.items()},
        "requests": {
            name: {"params": names(params), "result": result.__name__}
            for name, (params, result) in REQUESTS.items()
        },
        "clientNotifications": {name: cls.__name__ for name, cls in CLIENT_NOTIFICATIONS.items()},
        "capabilities": {
            "experimental": methods.STREAM_EDITS_CAPABILITY,
            "initializationOption": methods.STREAM_EDITS_OPTION,
        },
        "types": {cls.__name__: _fields(cls) for cls in _types()},
    }
