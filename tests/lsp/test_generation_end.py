"""How a generation ends, as the editor is told: the model's failures are named, the time
counts from the request, and the code above is what was there when the user asked.

Real things throughout: the server over pytest-lsp, worker interpreters, the fake OpenAI
server on 127.0.0.1 (which drops the socket mid-stream or answers HTTP 500 when scripted).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor


def _progress_ends(editor: Editor) -> list[str | None]:
    return [
        v.message
        for values in editor.client.progress_reports.values()
        for v in values
        if isinstance(v, lsp.WorkDoneProgressEnd)
    ]


async def test_a_broken_model_stream_ends_with_the_models_error_never_done(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = editor.open("broken.py", "a = 1\n", tmp_path)

    # The socket drops after "z = ", an unfinished line.
    fake_openai.enqueue(pieces=["x = 1\n", "y = ", "2\n", "z = "], drop_after=4)
    assert (await editor.command(methods.GENERATE, uri=uri, prompt="go"))["started"]
    summary = await editor.summary(uri, 1)
    error = summary["error"]
    assert error is not None and error.startswith("the model stream broke after 2 lines: "), error
    assert "dropped mid-stream" in error
    assert _progress_ends(editor)[-1] == f"ended: {error}"
    status = editor.notes_for(methods.STATUS, uri)[-1]
    assert status["state"] == "error" and status["message"] == error
    assert any(m == f"eager: {error}" for m in editor.messages()), editor.messages()
    # What arrived complete stays and ran; the unfinished last line is gone (as after a stop).
    assert editor.docs[uri].source == "a = 1\nx = 1\ny = 2\n"
    labels = await editor.hint_labels(uri)
    assert labels[1] == "x = 1" and labels[2] == "y = 2"

    # The endpoint answers HTTP 500: nothing is written.
    fake_openai.enqueue(status=500, error_message="boom")
    assert (await editor.command(methods.GENERATE, uri=uri, prompt="go"))["started"]
    summary = await editor.summary(uri, 2)
    assert summary["error"] == "the model answered HTTP 500: boom"
    assert _progress_ends(editor)[-1] == "ended: the model answered HTTP 500: boom"
    assert all(end != "done" for end in _progress_ends(editor))
    assert editor.notes_for(methods.STATUS, uri)[-1]["state"] == "error"
    assert editor.docs[uri].source == "a = 1\nx = 1\ny = 2\n"


STREAM = ["r = base * 3\n", "print(r)\n", "s = r + 1\n", "t = s * 2\n", "u = t - 1\n"]
PIECE_DELAY_S = 0.15  # before each piece after the first: the stream takes at least 0.6 s
ABOVE_SLEEP_S = 1.0


async def test_the_summary_counts_from_the_request_when_the_code_above_ran_first(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    # The code above has not run in this interpreter: it runs first (taking at least
    # ABOVE_SLEEP_S) while the model streams meanwhile.
    above = f"import time\ntime.sleep({ABOVE_SLEEP_S})\nbase = 2\n"
    uri = editor.open("timed.py", above, tmp_path)
    fake_openai.enqueue(pieces=STREAM, delay=PIECE_DELAY_S)
    assert (await editor.command(methods.GENERATE, uri=uri, prompt="go"))["started"]
    summary = await editor.summary(uri)

    assert summary["error"] is None, summary
    stream_s = PIECE_DELAY_S * (len(STREAM) - 1)
    # Lower bounds only: both the stream and the code above happened after the request.
    assert summary["elapsedS"] >= stream_s, summary
    assert summary["elapsedS"] >= ABOVE_SLEEP_S, summary
    assert summary["lastTokenS"] >= stream_s, summary
    labels = await editor.hint_labels(uri)
    assert labels[2] == "base = 2"  # the code above did run first
    assert labels[3] == "r = 6"


async def test_a_line_typed_above_after_the_request_is_not_run_as_code_above(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = editor.open("typed.py", "a = 1\n", tmp_path)
    typed = "x = undefined_name\n"
    fake_openai.enqueue(pieces=["b = a + 1\n", "c = b * 2\n"], delay=0.02)
    # The user presses generate, then types a line above at once: the didChange follows the
    # request on the wire, and reaches the server while the generation is starting up.
    asked = asyncio.ensure_future(editor.command(methods.GENERATE, uri=uri, prompt="go"))
    await asyncio.sleep(0)  # the request is sent
    editor.type(uri, 0, 0, typed)
    assert (await asked)["started"]
    summary = await editor.summary(uri)

    assert summary["error"] is None, summary
    assert editor.docs[uri].source == typed + "a = 1\nb = a + 1\nc = b * 2\n"
    results: list[dict[str, Any]] = editor.notes_for(methods.CHUNK_RESULT, uri)
    assert not any("undefined_name" in str(r) for r in results), results
    assert all(r["ok"] for r in results), results
    labels = await editor.hint_labels(uri)
    assert 0 not in labels, labels  # nothing was published for the typed line
    assert labels[1] == "a = 1" and labels[2] == "b = 2" and labels[3] == "c = 4"
