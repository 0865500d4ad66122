"""The hot messages read and written without pygls's cattrs (lsp/protocol.py): the two an
editor sends per edit (a didChange, the answer to applyEdit) must be built as cattrs builds
them, anything unusual must take pygls's way (which reports what is wrong), and a `$/progress`
report must go out as pygls writes it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from eager_lsp.lsp.protocol import EagerProtocol, eager_converter
from eager_lsp.lsp.server import build_server


def _change(version: Any, *changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "textDocument/didChange",
        "params": {
            "textDocument": {"uri": "file:///t/é.py", "version": version},
            "contentChanges": list(changes),
        },
    }


def _at(l0: int, c0: int, l1: int, c1: int) -> dict[str, Any]:
    return {"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}}


DID_CHANGES = [
    _change(3, {"range": _at(0, 0, 0, 0), "text": "x = 1\n"}),
    _change(4, {"range": _at(2, 5, 3, 0), "rangeLength": 4, "text": "😀"}, {"text": "whole\n"}),
    _change(5),
    _change(6, {"text": "", "range": _at(1, 0, 1, 2), "extra": True}),
]
ODD_DID_CHANGES = [
    _change("7", {"range": _at(0, 0, 0, 0), "text": "a"}),  # cattrs reads "7" as 7
    _change(8, {"range": _at(0, 0, 0, 0), "text": 5}),  # not text
    _change(None, {"text": "a"}),  # no version
    _change(9, {"range": _at(-1, 0, 0, 0), "text": "a"}),  # a negative line
    _change(10, "text"),  # type: ignore[arg-type]  # not an object
    _change(11, {"range": None, "rangeLength": 3, "text": "x"}),  # a null range: not "whole"
]


@pytest.fixture
def protocol() -> EagerProtocol:
    return build_server().protocol


def _pygls(data: dict[str, Any], cls: type) -> Any:
    return eager_converter().structure(copy.deepcopy(data), cls)


@pytest.mark.parametrize("data", DID_CHANGES)
def test_a_did_change_is_what_cattrs_builds(
    protocol: EagerProtocol, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _pygls(data, lsp.DidChangeTextDocumentNotification)
    monkeypatch.setattr(protocol, "_converter", None)  # built without it
    built = protocol.structure_message(copy.deepcopy(data))
    assert built == expected
    assert type(built) is lsp.DidChangeTextDocumentNotification


@pytest.mark.parametrize("data", ODD_DID_CHANGES)
def test_an_odd_did_change_takes_pyglss_way(protocol: EagerProtocol, data: dict[str, Any]) -> None:
    try:
        expected: Any = _pygls(data, lsp.DidChangeTextDocumentNotification)
    except Exception:
        with pytest.raises(JsonRpcInvalidParams):  # pygls's error for it, as before
            protocol.structure_message(copy.deepcopy(data))
    else:
        assert protocol.structure_message(copy.deepcopy(data)) == expected


@pytest.mark.parametrize(
    "result",
    [
        {"applied": True},
        {"applied": False, "failureReason": "user said no", "failedChange": 0},
        {"applied": True, "other": 1},
        {"applied": 1},  # cattrs reads 1 as True
        None,
        {"failureReason": "no applied"},
    ],
)
def test_an_apply_edit_answer_is_what_cattrs_builds(
    protocol: EagerProtocol, result: dict[str, Any] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    future = protocol.request_json(lsp.WORKSPACE_APPLY_EDIT, "{}")  # (no writer: not sent)
    assert not future.done()
    msg_id = next(iter(protocol._request_futures))
    data = {"jsonrpc": "2.0", "id": msg_id, "result": result}
    try:
        expected: Any = _pygls(data, lsp.ApplyWorkspaceEditResponse)
    except Exception:
        with pytest.raises(JsonRpcInvalidParams):
            protocol.structure_message(copy.deepcopy(data))
    else:
        if result is not None and type(result.get("applied")) is bool:
            monkeypatch.setattr(protocol, "_converter", None)  # built without it
        assert protocol.structure_message(copy.deepcopy(data)) == expected
    assert msg_id not in protocol._result_types  # read once


class _Writer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass


def _bodies(writer: _Writer) -> list[Any]:
    return [json.loads(chunk.split(b"\r\n\r\n", 1)[1]) for chunk in writer.sent]


@pytest.mark.parametrize(
    "value",
    [
        lsp.WorkDoneProgressReport(message="12 chunks run"),
        lsp.WorkDoneProgressReport(message="m", percentage=40, cancellable=True),
        lsp.WorkDoneProgressReport(),
        lsp.WorkDoneProgressBegin(title="eager", cancellable=True),
        lsp.WorkDoneProgressEnd(message="done"),
    ],
)
def test_a_progress_report_is_what_pygls_writes(protocol: EagerProtocol, value: Any) -> None:
    """A generation's `$/progress` report (every 100 ms) is written without cattrs; begin and
    end keep pygls's way. What goes out is the same JSON either way."""
    params = lsp.ProgressParams(token="tok-1", value=value)
    ours, pygls_own = _Writer(), _Writer()
    protocol.set_writer(ours)
    protocol.notify(lsp.PROGRESS, params)
    protocol.set_writer(pygls_own)
    super(EagerProtocol, protocol).notify(lsp.PROGRESS, params)  # pygls's own
    assert _bodies(ours) == _bodies(pygls_own)


def test_a_client_request_cannot_take_the_answer_to_the_servers_own_request(
    protocol: EagerProtocol,
) -> None:
    """pygls keeps the futures of the requests it handles and of those it sends in one map by
    id: a client request with the id of a request the server sent and still awaits replaced
    it, and the editor's answer then found nothing (an edit waited for its timeout). Our
    request ids carry a random part per server; `eager-1` is what the first one was called."""
    writer = _Writer()
    protocol.set_writer(writer)
    future = protocol.request_json(lsp.WORKSPACE_APPLY_EDIT, '{"edit":{}}')
    sent_id = _bodies(writer)[0]["id"]
    for client_id in ("eager-1", "eager-2", 1):
        request = {"jsonrpc": "2.0", "id": client_id, "method": "workspace/executeCommand"}
        request["params"] = {"command": "no.such.command", "arguments": []}
        protocol.handle_message(protocol.structure_message(request))
    answer = {"jsonrpc": "2.0", "id": sent_id, "result": {"applied": True}}
    protocol.handle_message(protocol.structure_message(answer))
    assert future.done() and future.result().applied is True
    other = _Writer()
    second = build_server().protocol
    second.set_writer(other)
    second.request_json(lsp.WORKSPACE_APPLY_EDIT, "{}")
    assert _bodies(other)[0]["id"] != sent_id  # another server's first id differs
