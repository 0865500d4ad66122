"""lsp/protocol.py's changes to pygls's dispatch, on the real server object: a message is
structured by pygls's own converter and handed to `handle_message`, as the stdio loop does.
(The wire itself is covered by every test that talks to a real `eager-lsp serve`.)"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest

from eager_lsp.lsp.server import build_server

URI = "file:///tmp/eager-protocol-test/doc.txt"  # not Python: no interpreter starts


def _started() -> tuple[Any, list[Any]]:
    """A server past `initialize` (capabilities {}), and the list of what it sends."""
    server = build_server()
    sent: list[Any] = []
    server.protocol._send_data = sent.append
    params = {"capabilities": {}, "processId": None, "rootUri": None}
    _deliver(server, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
    return server, sent


def _deliver(server: Any, msg: dict[str, Any]) -> None:
    protocol = server.protocol
    protocol.handle_message(json.loads(json.dumps(msg), object_hook=protocol.structure_message))


def _notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def _change(version: int, line: int, text: str) -> dict[str, Any]:
    at = {"line": line, "character": 0}
    return _notification(
        "textDocument/didChange",
        {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
        },
    )


async def test_document_notifications_reach_our_documents_and_leave_nothing_behind() -> None:
    """Open, a thousand changes, close: our document has every change, pygls's workspace
    holds no copy, and pygls's table of pending futures stays empty (pygls kept one entry per
    document notification, never removed)."""
    server, _ = _started()
    item = {"uri": URI, "languageId": "plaintext", "version": 1, "text": ""}
    _deliver(server, _notification("textDocument/didOpen", {"textDocument": item}))
    for i in range(1000):
        _deliver(server, _change(i + 2, i, f"line {i}\n"))
    await asyncio.sleep(0)
    doc = server.documents[URI]
    assert doc.text.source == "".join(f"line {i}\n" for i in range(1000))
    assert doc.version == 1001
    assert not server.workspace.text_documents
    _deliver(server, _notification("textDocument/didClose", {"textDocument": {"uri": URI}}))
    await asyncio.sleep(0)
    assert URI not in server.documents
    assert len(server.protocol._request_futures) == 0, len(server.protocol._request_futures)


async def test_an_error_in_a_notification_handler_is_reported_and_the_next_one_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = _started()
    reported: list[tuple[type, type]] = []
    monkeypatch.setattr(
        server, "report_server_error", lambda e, source: reported.append((type(e), source))
    )

    def broken(params: Any) -> None:
        raise ValueError("broken handler")

    monkeypatch.setattr(server, "change_document", broken)
    item = {"uri": URI, "languageId": "plaintext", "version": 1, "text": ""}
    _deliver(server, _notification("textDocument/didOpen", {"textDocument": item}))
    _deliver(server, _change(2, 0, "x\n"))  # raises inside our handler: reported, not raised
    _deliver(server, _notification("textDocument/didClose", {"textDocument": {"uri": URI}}))
    await asyncio.sleep(0)
    assert [(e.__name__, s.__name__) for e, s in reported] == [
        ("JsonRpcInternalError", "FeatureNotificationError")  # as pygls reports it
    ]
    assert URI not in server.documents  # the close after it was handled


async def test_shutdown_spares_a_pending_exit_but_cancels_other_pending_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pygls's shutdown cancels every handler still pending as it answers; ours leaves the
    `exit` handler alone (it waits for that answer; cancelled, the process lived on). pygls
    ends the process with `sys.exit` once the exit handler returns: recorded here instead."""
    server, sent = _started()
    protocol = server.protocol
    exits: list[int] = []
    monkeypatch.setattr(sys, "exit", exits.append)
    release = asyncio.Event()
    seen: list[str] = []

    async def slow_shutdown(params: Any) -> None:
        await release.wait()

    async def exit_handler(params: Any) -> None:
        seen.append("exit started")
        await release.wait()
        await asyncio.sleep(0.05)  # still pending when the shutdown finishes
        seen.append("exit finished")

    async def slow_request(params: Any) -> None:
        await asyncio.sleep(10)

    monkeypatch.setitem(protocol.fm.features, "shutdown", slow_shutdown)
    monkeypatch.setitem(protocol.fm.features, "exit", exit_handler)
    monkeypatch.setitem(protocol.fm.features, "test/slow", slow_request)
    _deliver(server, {"jsonrpc": "2.0", "id": 1, "method": "test/slow", "params": None})
    _deliver(server, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    _deliver(server, {"jsonrpc": "2.0", "method": "exit", "params": None})
    await asyncio.sleep(0.01)
    assert seen == ["exit started"] and not exits
    release.set()
    for _ in range(200):
        if exits:
            break
        await asyncio.sleep(0.01)
    assert seen == ["exit started", "exit finished"]
    assert exits == [0]  # after a shutdown: exit code 0
    answers = {m.id: m for m in sent if hasattr(m, "id")}
    assert answers[2].result is None  # the shutdown answered
    assert answers[1].error.code == -32800  # the other request: cancelled, as pygls does


async def test_a_document_notification_with_an_async_handler_is_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a plain function is called at once; any other handler of a document notification
    (none of ours today) takes pygls's own path instead of being taken for "no handler"."""
    server, _ = _started()
    seen: list[int] = []

    async def async_change(params: Any) -> None:
        seen.append(params.text_document.version)

    monkeypatch.setitem(server.protocol.fm.features, "textDocument/didChange", async_change)
    item = {"uri": URI, "languageId": "plaintext", "version": 1, "text": ""}
    _deliver(server, _notification("textDocument/didOpen", {"textDocument": item}))
    _deliver(server, _change(2, 0, "x\n"))
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert seen == [2]


def test_an_answer_to_a_request_of_our_own_stays_json() -> None:
    """And so do the params of our own notifications. pygls made every object of such an
    answer a named tuple (a new class each time, about a
    third of a millisecond per eager/streamEdit answer) and renamed keys that are not
    identifiers; LSP's own answers keep their lsprotocol types."""
    from lsprotocol import types as lsp
    from pygls.protocol import JsonRPCNotification, JsonRPCResponseMessage

    from eager_lsp.lsp.protocol import eager_converter

    converter = eager_converter()
    result = {"ok": True, "version": 3, "range": {"start": {"line": 0, "character": 0}}}
    result["class"] = {"0": 1}  # keys a named tuple cannot have
    msg = converter.structure({"jsonrpc": "2.0", "id": 7, "result": result}, JsonRPCResponseMessage)
    assert msg.result == result and type(msg.result) is dict
    cursor = {"uri": URI, "position": {"line": 1, "character": 2}, "class": 3}
    note = converter.structure(
        {"jsonrpc": "2.0", "method": "eager/cursor", "params": cursor}, JsonRPCNotification
    )
    assert note.params == cursor and type(note.params) is dict
    typed = converter.structure(
        {"jsonrpc": "2.0", "id": 8, "result": {"applied": True}},
        lsp.ApplyWorkspaceEditResponse,
    )
    assert typed.result == lsp.ApplyWorkspaceEditResult(applied=True)
