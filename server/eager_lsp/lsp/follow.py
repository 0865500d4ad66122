"""Follow mode (work in progress)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eager_lsp.lsp.errors import RequestError

if TYPE_CHECKING:
    from eager_lsp.lsp.documents import Document
    from eager_lsp.lsp.server import EagerServer


async def set_follow(server: EagerServer, doc: Document, enabled: bool) -> dict[str, Any]:
    raise RequestError("eager: follow mode is not available in this build yet.", "unavailable")
