"""Generation inside the editor (work in progress: the minimal server only runs documents)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.server import EagerServer


async def start_generate(server: EagerServer, doc: Document, arg: dict[str, Any]) -> Any:
    from eager_lsp.lsp.server import RequestError

    raise RequestError("eager: generation is not available in this build yet.", "unavailable")


async def start_fix(server: EagerServer, doc: Document, arg: dict[str, Any]) -> Any:
    return await start_generate(server, doc, arg)


async def stop(server: EagerServer, doc: Document) -> dict[str, Any]:
    if doc.activity is None or not doc.activity.running:
        return {"stopped": False}
    await doc.activity.stop("stopped on request")
    return {"stopped": True}


def fix_actions(server: EagerServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    return []
