"""eager.generate: the model's code streams into the document and runs while it arrives."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, client_capabilities

from eager_lsp.lsp import methods
from tests.support.lsp_session import shut_down
from tests.support.openai_server import FakeOpenAIServer

from .conftest import ClientDoc, Editor, _client_factory, _server_env, base_settings

PROGRAM = """\
import math
x = 6 * 7
print("x is", x)
values = [math.sqrt(v) for v in range(4)]
total = sum(values)
"""


async def test_generated_code_appears_and_runs(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    reply = fake_openai.enqueue(text=PROGRAM, chunk_chars=3, delay=0.005)
    uri = editor.open("gen.py", "# numbers\n", tmp_path)
    result = await editor.command(methods.GENERATE, uri=uri, prompt="compute things")
    assert result == {"started": True}
    summary = await editor.summary(uri)

    assert editor.docs[uri].source == "# numbers\n" + PROGRAM
    assert summary["error"] is None and summary["stoppedEarly"] is False
    assert summary["chunks"] == 5
    assert summary["tokens"] > 0

    labels = await editor.hint_labels(uri)
    assert labels[2] == "x = 42"
    assert labels[3] == "» x is 42"
    assert labels[5].startswith("total = ")

    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    assert sorted(r["chunk"]["startLine"] for r in results) == [1, 2, 3, 4, 5]
    assert all(r["ok"] for r in results)

    # Coalesced: far fewer edits than pieces, each labelled.
    pieces = len(reply.content_pieces())
    assert 1 <= len(editor.apply_requests) <= pieces // 3
    assert all(p.label == methods.EDIT_LABEL for p in editor.apply_requests)

    # The model saw the prompt and the document around the insertion point.
    body = fake_openai.chat_requests[0].body
    user = body["messages"][-1]["content"]
    assert "compute things" in user and "# numbers" in user

    statuses = [n["state"] for n in editor.notes_for(methods.STATUS, uri)]
    assert "generating" in statuses and statuses[-1] == "idle"
    reports = [v for values in editor.client.progress_reports.values() for v in values]
    assert any(isinstance(v, lsp.WorkDoneProgressBegin) and v.cancellable for v in reports)
    assert any(isinstance(v, lsp.WorkDoneProgressEnd) for v in reports)


FAILING = "a = 1\nb = a / 0\n" + "".join(f"v{i} = {i}\n" for i in range(60))


async def test_an_error_stops_the_stream_and_sits_on_its_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    reply = fake_openai.enqueue(text=FAILING, chunk_chars=2, delay=0.01)
    uri = editor.open("fail.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="divide")
    summary = await editor.summary(uri)

    assert summary["stoppedEarly"] is True
    assert summary["error"] == "ZeroDivisionError: division by zero"
    # The document ends with the failing statement: nothing after it is left behind.
    assert editor.docs[uri].source == "a = 1\nb = a / 0\n"
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    d = diags.diagnostics[0]
    assert (d.range.start.line, d.message, d.source, d.code) == (
        1,
        "ZeroDivisionError: division by zero",
        "eager",
        methods.CODE_RUNTIME,
    )
    assert diags.version == editor.docs[uri].version
    # The model stream was cut: the fake server saw the client leave early.
    request = fake_openai.chat_requests[0]
    assert request.wait_done()
    assert request.disconnected
    assert request.pieces_sent < len(reply.content_pieces())
    labels = await editor.hint_labels(uri)
    assert labels == {0: "a = 1"}


async def test_text_typed_above_the_insertion_point_survives(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=PROGRAM, chunk_chars=2, delay=0.01)
    uri = editor.open("above.py", "# header\n", tmp_path)
    typed = "# typed by the user while the model writes ✓\n"

    def type_above(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 2:
            ed.type(doc.uri, 0, 0, typed)

    # VS Code gets versioned edits: typing just before an edit lands makes it stale, so the
    # server must retry at the moved point. Neovim gets unversioned edits: type after one.
    if editor.kind == "vscode":
        editor.before_apply = type_above
    else:
        editor.after_apply = type_above
    await editor.command(methods.GENERATE, uri=uri, prompt="compute")
    summary = await editor.summary(uri)

    assert summary["error"] is None
    assert editor.docs[uri].source == typed + "# header\n" + PROGRAM
    labels = await editor.hint_labels(uri)
    assert labels[3] == "x = 42"  # results follow the lines they belong to
    assert labels[4] == "» x is 42"


async def test_editing_the_generated_text_stops_generation(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    reply = fake_openai.enqueue(text=FAILING.replace("a / 0", "a / 2"), chunk_chars=2, delay=0.01)
    uri = editor.open("conflict.py", "", tmp_path)

    def edit_generated(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 3:
            ed.replace(doc.uri, (0, 0), (0, 1), "z")  # "a = 1" becomes "z = 1"

    editor.after_apply = edit_generated
    await editor.command(methods.GENERATE, uri=uri, prompt="count")
    summary = await editor.summary(uri)
    edits_at_end = len(editor.apply_requests)

    assert summary["stoppedEarly"] is True
    assert "edited" in (summary["error"] or "")
    text = editor.docs[uri].source
    assert text.startswith("z = 1\n")
    assert FAILING.replace("a / 0", "a / 2").startswith("a" + text[1:])  # nothing overwritten
    assert any("edited" in m for m in editor.messages())
    request = fake_openai.chat_requests[0]
    assert request.wait_done() and request.disconnected
    assert request.pieces_sent < len(reply.content_pieces())
    assert edits_at_end == 3  # nothing was written after the conflict


async def _generated(
    editor: Editor, fake: FakeOpenAIServer, tmp_path: Path, text: str, reply: str, **where: Any
) -> str:
    """The document `text` after generating `reply` at `where` (`position=` or `range=`)."""
    fake.enqueue(text=reply, chunk_chars=3)
    uri = editor.open("where.py", text, tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="more", **where)
    await editor.summary(uri)
    return editor.docs[uri].source


async def test_a_point_inside_a_line_continues_after_that_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    at = {"line": 0, "character": 2}
    source = await _generated(
        editor, fake_openai, tmp_path, "x = 1\nprint(x)", "y = x + 1\n", position=at
    )
    assert source == "x = 1\ny = x + 1\nprint(x)"


async def test_a_selection_is_replaced(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="b = 2\n", chunk_chars=3)
    uri = editor.open("sel.py", "a = 1\nold = 0\nc = 3\n", tmp_path)
    rng = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
    await editor.command(methods.GENERATE, uri=uri, prompt="replace", range=rng)
    await editor.summary(uri)
    assert editor.docs[uri].source == "a = 1\nb = 2\nc = 3\n"
    # `a = 1` above had never run: it runs first, so the generated code can use it.
    assert (await editor.hint_labels(uri)) == {0: "a = 1", 1: "b = 2"}


@pytest.mark.parametrize("reply", ["new1 = 1\nnew2 = 2\n", "new1 = 1\nnew2 = 2"])
async def test_a_range_ending_at_a_line_end_is_replaced_without_a_blank_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path, reply: str
) -> None:
    """Neovim's `:'<,'>EagerGenerate` sends whole lines up to the end of the last one (not
    the start of the next): the code takes their place, with or without its own last
    newline, and no blank line is left before the text below (a user saw one)."""
    text = "# top\nold1 = 1\nold2 = 2\n# keep bottom\n"
    rng = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 8}}
    source = await _generated(editor, fake_openai, tmp_path, text, reply, range=rng)
    assert source == "# top\nnew1 = 1\nnew2 = 2\n# keep bottom\n"


async def test_a_point_at_the_end_of_a_line_leaves_no_blank_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The plugins send a point at the end of the cursor's line when it holds text: the code
    goes on a new line below it, as for a point inside the line, with no blank line after."""
    at = {"line": 0, "character": 5}
    source = await _generated(
        editor, fake_openai, tmp_path, "x = 1\nprint(x)\n", "y = x + 1\n", position=at
    )
    assert source == "x = 1\ny = x + 1\nprint(x)\n"


async def test_a_point_on_a_blank_line_keeps_that_line_after_the_code(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    at = {"line": 1, "character": 0}
    source = await _generated(
        editor, fake_openai, tmp_path, "x = 1\n\nprint(x)\n", "y = 2\n", position=at
    )
    assert source == "x = 1\ny = 2\n\nprint(x)\n"


async def test_stop_ends_generation_and_the_model_stream(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    reply = fake_openai.enqueue(text=FAILING.replace("a / 0", "a"), chunk_chars=2, delay=0.02)
    uri = editor.open("stop.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="slow")
    await editor.wait_for(lambda: len(editor.apply_requests) >= 2, "some text")
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    request = fake_openai.chat_requests[0]
    assert request.wait_done() and request.disconnected
    assert request.pieces_sent < len(reply.content_pieces())
    assert editor.docs[uri].source.startswith("a = 1\n")
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is False


async def test_cancelling_the_progress_stops_generation(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=FAILING.replace("a / 0", "a"), chunk_chars=2, delay=0.02)
    uri = editor.open("cancel.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="slow")
    await editor.wait_for(lambda: len(editor.apply_requests) >= 2, "some text")
    token = next(iter(editor.client.progress_reports))
    editor.client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=token))
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    assert fake_openai.chat_requests[0].wait_done()
    assert fake_openai.chat_requests[0].disconnected


async def test_a_second_generate_is_refused(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=FAILING.replace("a / 0", "a"), chunk_chars=2, delay=0.02)
    uri = editor.open("busy.py", "", tmp_path)
    assert (await editor.command(methods.GENERATE, uri=uri, prompt="one"))["started"] is True
    second = await editor.command(methods.GENERATE, uri=uri, prompt="two")
    assert second["started"] is False and second["reason"] == "busy"
    busy = [m for m in editor.messages() if "already generating" in m]
    # it names the stop command as each editor spells it (eager.stop is the server's)
    assert busy and ":EagerStop" in busy[0] and "Eager: Stop" in busy[0], busy
    await editor.wait_for(lambda: editor.apply_requests, "the first generation's text")
    await editor.command(methods.STOP, uri=uri)
    await editor.summary(uri)
    assert len(fake_openai.chat_requests) == 1


async def test_edits_echoed_as_whole_document_changes_are_recognised(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    # Some clients report an applied edit differently from how it was sent (a full-text
    # change, or Neovim's own line diff): the server must still see it as its own.
    fake_openai.enqueue(text=PROGRAM, chunk_chars=3, delay=0.005)
    editor.echo_full_text = True
    uri = editor.open("full.py", "# top\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="compute")
    summary = await editor.summary(uri)
    assert summary["error"] is None
    assert editor.docs[uri].source == "# top\n" + PROGRAM
    assert (await editor.hint_labels(uri))[2] == "x = 42"


@pytest.mark.settings({"execution": {"stopOnError": False}})
async def test_without_stop_on_error_generation_goes_on(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="a = 1\nb = a / 0\nc = 3\n", chunk_chars=3)
    uri = editor.open("goon.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="go on")
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is False
    assert editor.docs[uri].source == "a = 1\nb = a / 0\nc = 3\n"
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].range.start.line == 1
    assert (await editor.hint_labels(uri)) == {0: "a = 1", 2: "c = 3"}


async def test_the_api_key_never_reaches_the_log(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Its own server (a log file, debug logging) rather than the shared fixture."""
    secret = "sk-never-log-this-4242"
    log = tmp_path / "server.log"
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve", "--log-file", str(log)],
        client_factory=_client_factory,
        server_env={**_server_env(), "EAGER_LSP_LOG_LEVEL": "DEBUG"},
    )
    client = await config.start()
    editor: Editor = client.editor  # type: ignore[attr-defined]
    settings = base_settings(fake_openai)
    settings["llm"]["apiKey"] = secret
    try:
        client.set_configuration(settings, section=methods.SETTINGS_SECTION)
        await client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities("neovim"), initialization_options=settings
            )
        )
        fake_openai.enqueue(status=401, error_message=f"bad key {secret}")
        uri = editor.open("secret.py", "", tmp_path)
        await editor.command(methods.GENERATE, uri=uri, prompt="anything")
        await editor.summary(uri)
        assert fake_openai.chat_requests[0].headers["authorization"] == f"Bearer {secret}"
        await shut_down(client)
    finally:
        await client.stop()
    text = log.read_text()
    assert "generate" in text or "showMessage" in text  # the log did record the session
    assert secret not in text
    assert not any(secret in m for m in editor.messages())


async def test_edits_echoed_as_a_line_diff_batched_with_typing_are_recognised(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=PROGRAM, chunk_chars=3, delay=0.005)
    uri = editor.open("nvimstyle.py", "# top\n", tmp_path)

    def keystroke(ed: Editor, doc: ClientDoc, n: int) -> tuple[lsp.Range, str] | None:
        if n % 2:
            return None
        end = lsp.Position(line=0, character=len(doc.text.line(0)))
        return (lsp.Range(start=end, end=end), "!")  # the user types on line 0 meanwhile

    editor.echo_like_neovim = keystroke
    await editor.command(methods.GENERATE, uri=uri, prompt="compute")
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    text = editor.docs[uri].source
    assert text.split("\n", 1)[1] == PROGRAM
    assert text.startswith("# top!")
    assert (await editor.hint_labels(uri))[2] == "x = 42"


async def test_code_above_that_never_ran_runs_before_the_generated_code(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="answer = base + 2\n", chunk_chars=3)
    uri = editor.open("above.py", "base = 40\nprint('base ready')\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="use base")
    summary = await editor.summary(uri)
    assert summary["error"] is None
    labels = await editor.hint_labels(uri)
    assert labels == {0: "base = 40", 1: "» base ready", 2: "answer = 42"}


async def test_code_above_that_already_ran_is_not_run_again(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="count = count + 1\n", chunk_chars=3)
    fake_openai.enqueue(text="print('count', count)\n", chunk_chars=3)
    uri = editor.open("once.py", "count = 0\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="one")
    await editor.summary(uri)
    await editor.command(methods.GENERATE, uri=uri, prompt="two")
    await editor.summary(uri, count=2)
    # count = 0 ran once; had it run again before the second generation, count would be 0.
    labels = await editor.hint_labels(uri)
    assert labels[1] == "count = 1" and labels[2] == "» count 1"


ECHO_ABOVE = "calls = []\ncalls.append('above')\n"


async def test_the_models_opening_echo_of_the_code_above_is_neither_written_nor_run(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Small models restate the file before they answer (the bundled 1.5B did in 4 of 6 spot
    checks): run, the echo would do that code's work again; written, the file would have it
    twice. A repeat after the answer's first new statement is meant, and stays."""
    answer = (
        "calls = []\n\ncalls.append('above')\nprint(len(calls), calls)\ncalls.append('above')\n"
    )
    fake_openai.enqueue(text=answer, chunk_chars=3, delay=0.002)
    uri = editor.open("echo.py", ECHO_ABOVE, tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="count the calls")
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == (
        ECHO_ABOVE + "print(len(calls), calls)\ncalls.append('above')\n"
    )
    labels = await editor.hint_labels(uri)
    assert labels[2] == "» 1 ['above']", labels  # the code above ran once, the echo never


async def test_the_models_closing_echo_of_the_code_below_is_neither_written_nor_run(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Asked for code above the file's last lines, the model wrote them again at its end: the
    file would have them twice, and they would run twice."""
    below = "print('done', len(calls))\n"
    answer = "calls.append('new')\nprint('done', len(calls))\n"
    fake_openai.enqueue(text=answer, chunk_chars=3, delay=0.002)
    uri = editor.open("below.py", ECHO_ABOVE + below, tmp_path)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="one more call", position={"line": 2, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == ECHO_ABOVE + "calls.append('new')\n" + below
    printed = [r["stdout"] for r in editor.notes_for(methods.CHUNK_RESULT, uri) if r.get("stdout")]
    assert printed == [], printed  # the line below is the user's to run: the echo never ran


async def test_an_answer_that_only_echoes_the_code_above_says_so_and_writes_nothing(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=ECHO_ABOVE, chunk_chars=3)
    uri = editor.open("echo.py", ECHO_ABOVE, tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="count the calls")
    summary = await editor.summary(uri)
    assert summary["error"] == (
        "The model only wrote code that is already in the file (2 statements); nothing new "
        "was written"
    ), summary
    assert editor.docs[uri].source == ECHO_ABOVE


async def test_a_stream_that_broke_after_only_echoing_the_file_says_it_restated_it(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model did write before its stream broke: the file's own code, left out. "Failed
    before writing any code" would tell the user something false."""
    fake_openai.enqueue(pieces=["calls = []\n", "calls.append('above')\n", "x = "], drop_after=3)
    uri = editor.open("echo.py", ECHO_ABOVE, tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="count the calls")
    summary = await editor.summary(uri)
    error = summary["error"]
    assert error is not None and error.startswith(
        "the model stream broke after restating 2 of the file's statements (left out), before"
        " any new code: "
    ), summary
    assert editor.docs[uri].source == ECHO_ABOVE


async def test_interrupted_code_above_is_not_run_again(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Issue 9, part 6: an interrupted `while True:` counts as attempted. The next generation
    does not run it again by itself (it would hang), not even when other code above must run."""
    fake_openai.enqueue(text="start = 1\nwhile True:\n    pass\n", chunk_chars=4)
    fake_openai.enqueue(text="after = start + 1\n", chunk_chars=3)
    fake_openai.enqueue(text="more = extra + after\n", chunk_chars=3)
    uri = editor.open("loop.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="loop")
    loop_results = lambda: [  # noqa: E731  (the loop is the only two-line statement)
        r
        for r in editor.notes_for(methods.CHUNK_RESULT, uri)
        if r["chunk"]["endLine"] > r["chunk"]["startLine"]
    ]

    async def interrupted() -> bool:
        answer = await editor.command(methods.INTERRUPT, uri=uri)
        return bool(answer["interrupted"])

    for _ in range(600):  # bounded: until the loop is running and takes the interrupt
        if await interrupted():
            break
        await asyncio.sleep(0.1)
    summary = await editor.summary(uri)
    assert summary["error"] == "KeyboardInterrupt"
    assert len(loop_results()) == 1

    await editor.command(methods.GENERATE, uri=uri, prompt="after")
    summary = await editor.summary(uri, count=2)
    assert summary["error"] is None, summary
    assert (await editor.hint_labels(uri))[3] == "after = 2"

    # Code above that never ran must run first: it does, but the interrupted loop stays out.
    editor.type(uri, 0, 0, "extra = 5\n")
    await editor.command(methods.GENERATE, uri=uri, prompt="more")
    summary = await editor.summary(uri, count=3)
    assert summary["error"] is None, summary
    labels = await editor.hint_labels(uri)
    assert labels[0] == "extra = 5" and labels[5] == "more = 7"
    assert len(loop_results()) == 1  # never run again


async def test_stop_interrupts_the_code_the_generation_started(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The stream has ended and its last statement, an endless loop, is running: a stop
    must interrupt it too."""
    script = "x = 1\nwhile True:\n    x += 1\n"
    fake_openai.enqueue(text=script, chunk_chars=4, delay=0.005)
    uri = editor.open("loop.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="spin")
    await editor.wait_for(lambda: editor.docs[uri].source == script, "the whole loop")
    labels = await editor.hint_labels(uri)
    while labels.get(0) != "x = 1":
        await asyncio.sleep(0.05)
        labels = await editor.hint_labels(uri)
    await asyncio.sleep(0.3)  # the loop runs
    assert not editor.notes_for(methods.GENERATION_SUMMARY, uri)  # still running
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    # the KeyboardInterrupt the stop caused is not the run's error: the user asked for it
    assert summary["error"] is None, summary
    # nothing of it runs any more: an interrupt finds the interpreter idle
    assert await editor.command(methods.INTERRUPT, uri=uri) == {
        "interrupted": False,
        "stateLost": False,
    }


async def test_with_text_in_the_file_the_model_gets_no_built_in_example(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Small models pasted the prompt's worked example into the user's file; with text in the
    file, the file itself shows the style and no example is sent."""
    from eager_lsp.providers.prompts import EXAMPLE_ANSWER

    fake_openai.enqueue(text="y = x * 2\nprint(y)\n", chunk_chars=3)
    uri = editor.open("own.py", "x = 21\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="double x")
    await editor.summary(uri)
    messages = fake_openai.chat_requests[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(EXAMPLE_ANSWER.strip() not in m["content"] for m in messages)
    assert "statistics" not in editor.docs[uri].source
    assert editor.docs[uri].source == "x = 21\ny = x * 2\nprint(y)\n"


async def test_stop_during_a_loop_keeps_the_complete_lines_after_it(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Stopping interrupts the loop, and that interrupt is an error under stopOnError; but a
    stop keeps every complete line written so far (docs/configuration.md), including the
    ones after the loop that never ran; only the unfinished last line goes. (The interrupt's
    error used to cut the text after the loop, removing `b = 2`.)"""
    held = threading.Event()
    fake_openai.enqueue(
        pieces=["x = 1\nwhile True:\n    x += 1\nb = 2\nunfin", "ished = 3\n"],
        hold_after_first=held,
    )
    try:
        uri = editor.open("stoploop.py", "", tmp_path)
        await editor.command(methods.GENERATE, uri=uri, prompt="spin")
        await editor.wait_for(lambda: "unfin" in editor.docs[uri].source, "the partial line")
        labels = await editor.hint_labels(uri)
        while labels.get(0) != "x = 1":
            await asyncio.sleep(0.05)
            labels = await editor.hint_labels(uri)
        assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
        summary = await editor.summary(uri)
    finally:
        held.set()
    assert summary["stoppedEarly"] is True
    assert editor.docs[uri].source == "x = 1\nwhile True:\n    x += 1\nb = 2\n"
    assert await editor.command(methods.INTERRUPT, uri=uri) == {
        "interrupted": False,
        "stateLost": False,
    }


async def test_after_an_edit_stops_it_no_result_sits_on_a_line_that_was_never_written(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The server reads the stream ahead of what the editor has written, so statements can
    run before their text is in the document. When the user's edit stops the generation,
    nothing more is written, and those results must not be shown on whatever line is there
    (a user saw `g035 = 35` on the blank line after the code)."""
    script = "".join(f"v{i} = {i}\n" for i in range(60))
    fake_openai.enqueue(text=script, chunk_chars=14, delay=0.01)
    uri = editor.open("ahead.py", "top = 0\n\nend = 1\n", tmp_path)

    def edit_generated(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 2:
            ed.replace(doc.uri, (1, 0), (1, 1), "z")  # "v0 = 0" becomes "z0 = 0"

    editor.after_apply = edit_generated
    await editor.command(
        methods.GENERATE, uri=uri, prompt="count", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True and "edited" in (summary["error"] or "")
    await asyncio.sleep(0.3)  # results published after the summary, if any
    lines = editor.docs[uri].source.split("\n")
    for line, label in (await editor.hint_labels(uri)).items():
        name = label.split(" = ")[0]
        assert line < len(lines) and lines[line].startswith(name + " ="), (line, label, lines)


async def test_an_interrupted_generated_statement_ends_it_without_an_error(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Interrupting a generated statement while it runs ends the generation there: the status
    says "interrupted", not `error`, and no repair is offered for the KeyboardInterrupt."""
    code = "import time\nwhile True:\n    time.sleep(0.01)\nafter = 1\n"
    fake_openai.enqueue(text=code, chunk_chars=8, delay=0.005)
    uri = editor.open("spin.py", "", tmp_path)
    assert await editor.command(methods.GENERATE, uri=uri, prompt="spin") == {"started": True}
    await editor.wait_for(
        lambda: editor.notes_for(methods.CHUNK_RESULT, uri), "the import to have run"
    )
    nothing = {"interrupted": False, "stateLost": False}  # (until the loop runs)
    for _ in range(600):
        answer = await editor.command(methods.INTERRUPT, uri=uri)
        if answer != nothing:
            break
        await asyncio.sleep(0.1)
    assert answer == {"interrupted": True, "stateLost": False}
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True, summary
    last = editor.notes_for(methods.STATUS, uri)[-1]
    assert (last["state"], last["message"]) == ("idle", "interrupted"), last
    await asyncio.sleep(0.3)  # (the offer came after the summary)
    assert not [m for m in editor.messages() if methods.FIX_TITLE in m], editor.messages()
