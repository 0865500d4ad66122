"""`eager.prepareModel` (sent by the clients when their prompt box opens): with an endpoint
there is nothing to prepare and nothing is sent to it; a document the server does not have is
answered, not shown as an error (the prompt box is open; the generation reports it). The bundled model's side is tested with the real model in
tests/providers/test_local_model.py."""

from __future__ import annotations

from pathlib import Path

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor


async def test_with_an_endpoint_there_is_nothing_to_prepare(
    editor: Editor, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    uri = editor.open("p.py", "import math\n", tmp_path)
    answer = await editor.command(
        methods.PREPARE_MODEL, uri=uri, position={"line": 1, "character": 0}
    )
    assert answer == {"preparing": False, "reason": "not_local"}, answer
    assert await editor.command(methods.PREPARE_MODEL, uri=uri) == answer  # default: the end
    assert fake_openai.chat_requests == []


async def test_a_document_the_server_does_not_have_is_refused(editor: Editor) -> None:
    answer = await editor.command(methods.PREPARE_MODEL, uri="file:///nowhere/x.py")
    assert answer.get("reason") == "not_open", answer
