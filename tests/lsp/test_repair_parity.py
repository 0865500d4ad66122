"""The language server and `eager-lsp generate --repair` run the same generate-and-repair loop
(app.generate.repair_loop): on the same scripted model (a real local HTTP server speaking the
OpenAI streaming format) they ask the same things, in the same order, and keep the same code.

The script is the case where the two used to differ: the first repair gives the failing
statement back unchanged. The CLI asked once more, telling the model its answer was rejected;
the server stopped there."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.lsp import methods
from tests.cli.test_generate import generate as cli_generate
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

BROKEN = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices['apple'] * 3\n"
    "print('total:', total)\n"
)
UNCHANGED = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices[ 'apple' ] * 3  # same statement\n"
    "print('total:', total)\n"
)
FIXED = "total = prices['Apple'] * 3\nprint('total:', total)\n"
SCRIPT = [BROKEN, UNCHANGED, FIXED, "never_asked = 1\n"]
TASK = "do the task"  # what tests/cli/test_generate.generate asks


def _enqueue(srv: FakeOpenAIServer) -> None:
    for text in SCRIPT:
        srv.enqueue(text=text, chunk_chars=5, delay=0.002)


def _repair_prompt(request: Any) -> str:
    """The repair request's prompt, without what names the file (the CLI has none)."""
    content = str(request.body["messages"][-1]["content"])
    return re.sub(r'File "[^"]*"', 'File "…"', content)


@pytest.mark.settings({"repair": {"mode": "auto", "maxAttempts": 2}})
async def test_server_and_cli_run_the_same_repair_loop(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The terminal.
    _enqueue(fake_openai)
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    out = await asyncio.to_thread(cli_generate, fake_openai, cli_dir, "--repair", "2", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    cli = json.loads(out.stdout)
    cli_requests = list(fake_openai.chat_requests)
    assert len(cli_requests) == 3
    fake_openai.script([])  # the reply never asked for

    # The language server, on an empty document.
    _enqueue(fake_openai)
    uri = editor.open("parity.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt=TASK)
    await editor.summary(uri, 3)
    summaries = editor.notes_for(methods.GENERATION_SUMMARY, uri)
    server_requests = list(fake_openai.chat_requests)[len(cli_requests) :]

    # Three model requests each: the generation, the unchanged answer, the retry.
    assert len(server_requests) == len(cli_requests) == 3
    # The same code kept.
    assert editor.docs[uri].source == cli["code"] == BROKEN[: BROKEN.index("total =")] + FIXED
    # The same repair prompts: the failing statement, its error, the code that ran; and the
    # retry is told the previous answer was rejected.
    for i in (1, 2):
        assert _repair_prompt(server_requests[i]) == _repair_prompt(cli_requests[i])
    assert "Your previous answer began with this same failing statement" in _repair_prompt(
        server_requests[2]
    )
    assert "previous answer" not in _repair_prompt(server_requests[1])
    # The same outcome per attempt: an error, an unchanged answer, success.
    assert cli["repairs"] == [
        {"dropped": 2, "unchanged": True},
        {"dropped": 0, "unchanged": False},
    ]
    assert [s["error"] for s in summaries[:1]] == ["KeyError: 'apple'"]
    assert "unchanged" in summaries[1]["error"]
    assert summaries[2]["error"] is None
    labels = await editor.hint_labels(uri)
    assert labels[2].startswith("total = 3.")  # the fix ran, with `prices` kept
