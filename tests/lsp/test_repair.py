""" "Fix with AI": regenerate from the failing statement with the traceback as context."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

BROKEN = "items = [1, 2, 3]\ncount = 0\nmean = sum(items) / count\nprint(mean)\n"
FIXED = "mean = sum(items) / len(items)\nprint(mean)\n"


async def _code_actions(editor: Editor, uri: str, diag: lsp.Diagnostic) -> list[dict[str, Any]]:
    got = await editor.raw_request(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag]),
        ),
    )
    return list(got or [])


async def test_fix_with_ai_regenerates_from_the_failing_statement(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=BROKEN, chunk_chars=3, delay=0.005)
    fake_openai.enqueue(text=FIXED, chunk_chars=3, delay=0.005)
    uri = editor.open("fix.py", "# stats\n", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="mean of items")
    await editor.summary(uri)
    assert editor.docs[uri].source == "# stats\n" + BROKEN[: BROKEN.index("print")]
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    diag = diags.diagnostics[0]
    assert diag.range.start.line == 3

    actions = await _code_actions(editor, uri, diag)
    assert [(a["title"], a["kind"]) for a in actions] == [(methods.FIX_TITLE, "quickfix")]
    command = actions[0]["command"]
    assert command["command"] == methods.FIX_WITH_AI
    args = command["arguments"][0]
    assert args == {"uri": uri, "line": 3}
    assert await editor.command(methods.FIX_WITH_AI, **args) == {"started": True}
    summary = await editor.summary(uri, 2)

    assert summary["error"] is None
    assert editor.docs[uri].source == "# stats\nitems = [1, 2, 3]\ncount = 0\n" + FIXED
    labels = await editor.hint_labels(uri)
    # `items` and `count` were not re-run, yet the fix could use them: state was kept.
    assert labels[3] == "mean = 2.0"
    assert labels[4] == "» 2.0"
    diags = await editor.settle(uri, lambda ds: not ds)

    repair = fake_openai.chat_requests[1].body["messages"][-1]["content"]
    assert "mean of items" in repair  # the task
    assert "ZeroDivisionError" in repair  # the traceback
    assert "mean = sum(items) / count" in repair  # the failing statement
    assert "count = 0" in repair  # the code that ran


@pytest.mark.settings({"repair": {"mode": "auto", "maxAttempts": 1}})
async def test_auto_repair_runs_after_an_error(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text=BROKEN, chunk_chars=3)
    fake_openai.enqueue(text="mean = sum(items) / zero\n", chunk_chars=3)  # still broken
    uri = editor.open("auto.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="mean of items")
    await editor.summary(uri, 2)
    assert editor.docs[uri].source == "items = [1, 2, 3]\ncount = 0\nmean = sum(items) / zero\n"
    # One attempt allowed: the second failure is left for the user.
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert diags.diagnostics[0].message == "NameError: name 'zero' is not defined"
    assert len(fake_openai.chat_requests) == 2


@pytest.mark.settings({"repair": {"mode": "off"}})
async def test_no_code_action_when_repair_is_off(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("off.py", "x = 1 / 0\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    diags = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert await _code_actions(editor, uri, diags.diagnostics[0]) == []


async def test_fix_of_a_statement_not_written_by_a_generation(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3)
    uri = editor.open("own.py", "x = 4\ny = x / 0\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    result = await editor.command(methods.FIX_WITH_AI, uri=uri, line=0)
    assert result["started"] is False and result["reason"] == "no_error"
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    # Only the failing statement is replaced; the user's code after it stays.
    assert editor.docs[uri].source == "x = 4\ny = x / 2\nz = 1\n"
    assert (await editor.hint_labels(uri))[1] == "y = 2.0"


async def test_fix_plans_on_the_text_typed_while_it_started(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A line typed just after asking for the fix, while the server reads the runtime facts
    (a round trip to the interpreter), is kept, and the fix replaces the failing statement
    where it is now. (The old code took the statement's offsets before that await: the fix
    replaced the user's `x = 4` and left the failing `y = x / 0`.)"""
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3)
    uri = editor.open("typed.py", "x = 4\ny = x / 0\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    asked = asyncio.ensure_future(editor.command(methods.FIX_WITH_AI, uri=uri, line=1))
    await asyncio.sleep(0)  # the request is sent; the typing follows it on the wire
    editor.type(uri, 0, 0, "# mine\n")
    assert await asked == {"started": True}
    await editor.summary(uri, 2)
    assert editor.docs[uri].source == "# mine\nx = 4\ny = x / 2\nz = 1\n"
    assert (await editor.hint_labels(uri))[2] == "y = 2.0"


PRICES = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices['apple'] * 3\n"
    "print('total:', total)\n"
)
PRICES_RAN = PRICES[: PRICES.index("total =")]


async def _generate_and_fail(editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path) -> str:
    fake_openai.enqueue(text=PRICES, chunk_chars=3, delay=0.005)
    uri = editor.open("prices.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="price of 3 apples")
    await editor.summary(uri)
    assert editor.docs[uri].source == PRICES[: PRICES.index("print('total")]
    await editor.settle(uri, lambda ds: len(ds) == 1)
    return uri


async def test_fix_drops_the_statements_that_already_ran(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = await _generate_and_fail(editor, fake_openai, tmp_path)
    # The model repeats everything that ran before its fix.
    fake_openai.enqueue(
        text=PRICES_RAN + "total = prices['Apple'] * 3\nprint('total:', round(total, 2))\n",
        chunk_chars=3,
        delay=0.005,
    )
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=2)
    summary = await editor.summary(uri, 2)

    assert summary["error"] is None
    # The file did not grow: the repeats were neither written nor run.
    assert editor.docs[uri].source == (
        PRICES_RAN + "total = prices['Apple'] * 3\nprint('total:', round(total, 2))\n"
    )
    lines = [r["chunk"]["startLine"] for r in editor.notes_for(methods.CHUNK_RESULT, uri)]
    # The statements that ran before the error ran once; the fix ran from line 2 on.
    assert lines.count(0) == 1 and lines.count(1) == 1, lines
    assert lines.count(2) == 2 and 3 in lines, lines
    labels = await editor.hint_labels(uri)
    assert labels[3] == "» total: 3.6"


async def test_fix_refuses_an_unchanged_failing_statement(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = await _generate_and_fail(editor, fake_openai, tmp_path)
    before = editor.docs[uri].source
    fake_openai.enqueue(text=PRICES_RAN + "total = prices['apple'] * 3\n", chunk_chars=3)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=2)
    summary = await editor.summary(uri, 2)

    assert "unchanged" in (summary["error"] or "")
    assert any("unchanged; it was not run again" in m for m in editor.messages())
    # Nothing ran, and the user's text is as it was.
    assert editor.docs[uri].source == before
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    # The first generation's three statements, then its failing one shown again where it is
    # back (the same ledger record: nothing ran again).
    assert len(results) == 4, results
    assert results[3]["statementId"] == results[2]["statementId"], results
    assert results[3]["error"]["type"] == "KeyError" and results[3]["chunk"]["startLine"] == 2


async def test_fix_prompt_has_the_runtime_facts(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = await _generate_and_fail(editor, fake_openai, tmp_path)
    fake_openai.enqueue(text="total = prices['Apple'] * 3\n", chunk_chars=3)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=2)
    await editor.summary(uri, 2)
    messages = fake_openai.chat_requests[1].body["messages"]
    user = messages[-1]["content"]
    assert "prices = {'Apple': 1.2, 'banana': 0.5}  (dict)" in user
    assert "printed fruits: ['Apple', 'banana']" in user
    assert "KeyError: 'apple'" in user
    assert all(m["role"] != "assistant" for m in messages)


@pytest.mark.settings({"repair": {"mode": "auto", "maxAttempts": 1}})
async def test_a_failed_fix_is_repaired_again_with_the_code_above_in_the_prompt(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A "Fix with AI" is the first attempt of the loop; with `auto` its failure is repaired
    like a generation's, and that prompt still has the user's code above the fix."""
    fake_openai.enqueue(text="y = x / zero\n", chunk_chars=3)  # the fix: still broken
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3)
    uri = editor.open("again.py", "label = 'above'\nx = 4\ny = x / 0\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=2)
    summary = await editor.summary(uri, 3)
    assert summary["error"] is None
    assert editor.docs[uri].source == "label = 'above'\nx = 4\ny = x / 2\nz = 1\n"
    assert len(fake_openai.chat_requests) == 2
    second = fake_openai.chat_requests[1].body["messages"][-1]["content"]
    assert "NameError" in second and "y = x / zero" in second
    assert "label = 'above'" in second  # the code above the fix (not read by it)


SLOW_FACTS = (
    "import time\n"
    "class Slow:\n"
    "    def __repr__(self):\n"
    "        time.sleep(30)\n"  # cut short by the worker's repr deadline
    "        return 'slow'\n"
    "x = Slow()\n"
    "y = x / 0\n"
    "z = 1\n"
)


async def test_a_generation_asked_while_a_fix_starts_is_not_run_beside_it(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Reading the runtime facts of a fix takes a round trip to the interpreter (here a slow
    `__repr__`, cut by the worker's deadline); a generation asked meanwhile starts at once. The
    fix must then be refused as busy, not start a second generation in the same document and
    interpreter. (The old code started both: the two streams wrote into each other's text.)"""
    fake_openai.enqueue(text="w = 5\nv = 6\n", chunk_chars=2, delay=0.05)  # the first asked
    fake_openai.enqueue(text="y = 2\n", chunk_chars=3)
    uri = editor.open("both.py", SLOW_FACTS, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    fix = asyncio.ensure_future(editor.command(methods.FIX_WITH_AI, uri=uri, line=6))
    await asyncio.sleep(0)
    generate = await editor.command(methods.GENERATE, uri=uri, prompt="more")
    fixed = await fix
    assert [generate["started"], fixed["started"]].count(True) == 1, (generate, fixed)
    await editor.summary(uri, 2)
    assert len(fake_openai.chat_requests) == 1
    if generate["started"]:
        assert fixed["reason"] == "busy"
        assert editor.docs[uri].source == SLOW_FACTS + "w = 5\nv = 6\n"
    else:
        assert generate["reason"] == "busy"  # the fix was quicker after all


async def test_a_fix_of_a_document_closed_while_it_starts_is_refused(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The document is closed while the fix reads the runtime facts: nothing starts (the old
    code answered `started` and set up a generation, and its interpreter, for a closed
    document)."""
    uri = editor.open("closing.py", SLOW_FACTS, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    fix = asyncio.ensure_future(editor.command(methods.FIX_WITH_AI, uri=uri, line=6))
    await asyncio.sleep(0)
    editor.close(uri)
    result = await fix
    assert result["started"] is False and result["reason"] == "not_open", result
    assert fake_openai.chat_requests == []


async def test_a_fix_keeps_what_the_user_typed_while_it_was_setting_up(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The same, with the typing fixed in time: it reaches the server after the fix started
    and before its first edit (while the progress bar is created), so the fix plans on the
    old text and must see, before it writes, that the statement changed. (Under load the
    test above met this order by chance; the old code replaced the line, `  # mine`
    included.)"""
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3, delay=0.05)
    uri = editor.open("setup.py", "x = 4\ny = x / 0\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    typed: list[bool] = []

    def type_mine(ed: Editor) -> None:
        if not typed:
            typed.append(True)
            ed.type(uri, 1, 9, "  # mine")

    editor.on_progress_create = type_mine
    assert await editor.command(methods.FIX_WITH_AI, uri=uri, line=1) == {"started": True}
    summary = await editor.summary(uri, 2)
    assert typed, "the fix made no progress bar"
    assert editor.docs[uri].source == "x = 4\ny = x / 0  # mine\nz = 1\n", summary
    assert "edited" in (summary["error"] or ""), summary
    assert editor.apply_requests == []


async def test_a_fix_keeps_what_the_user_typed_inside_the_failing_statement(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user types into the failing statement after the fix was accepted, before its first
    edit (the interpreter and the progress bar are set up in between). The fix must not
    replace text the user typed: it stops with a message and changes nothing. (The old code
    replaced the line, `  # mine` included, and said nothing.)"""
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3, delay=0.05)
    uri = editor.open("inside.py", "x = 4\ny = x / 0\nz = 1\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    assert await editor.command(methods.FIX_WITH_AI, uri=uri, line=1) == {"started": True}
    editor.type(uri, 1, 9, "  # mine")
    summary = await editor.summary(uri, 2)
    assert editor.docs[uri].source == "x = 4\ny = x / 0  # mine\nz = 1\n", summary
    assert "edited" in (summary["error"] or ""), summary


async def test_a_stopped_fix_says_stopped_not_keyboard_interrupt(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Stopping a fix while its code runs interrupts that code; the summary says the fix was
    stopped (`stoppedEarly`), not that it failed with the interrupt's KeyboardInterrupt."""
    fake_openai.enqueue(text="x = 1\ny = x / 0\n", chunk_chars=4, delay=0.005)
    spin = "y = x\nwhile True:\n    x += 1\n"
    fake_openai.enqueue(text=spin, chunk_chars=4, delay=0.005)
    uri = editor.open("spin.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="divide")
    await editor.summary(uri)
    await editor.settle(uri, lambda ds: len(ds) == 1)
    assert await editor.command(methods.FIX_WITH_AI, uri=uri, line=1) == {"started": True}
    await editor.wait_for(lambda: editor.docs[uri].source == "x = 1\n" + spin, "the loop")
    await asyncio.sleep(0.3)  # the loop runs
    assert len(editor.notes_for(methods.GENERATION_SUMMARY, uri)) == 1  # the fix still runs
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri, 2)
    assert summary["stoppedEarly"] is True
    assert summary["error"] is None, summary


async def test_a_fix_of_one_statement_asks_for_that_statement_only(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The code below a statement the fix replaces alone stays: the prompt shows it as staying
    and asks for the statement only (it asked for "the rest of the solution", which the model
    wrote above the code that stayed: the rest twice, both run)."""
    fake_openai.enqueue(text="y = x / 2\n", chunk_chars=3)
    uri = editor.open("own.py", "x = 4\ny = x / 0\nz = y + 1\nprint(z)\n", tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    assert editor.docs[uri].source == "x = 4\ny = x / 2\nz = y + 1\nprint(z)\n"
    system, user = (m["content"] for m in fake_openai.chat_requests[0].body["messages"])
    assert "the code after it stays as it is" in system, system
    assert "The code after it, which stays as it is (do not write it):\nz = y + 1\nprint(z)" in user
    assert "rest of the solution" not in user, user


@pytest.mark.settings({"execution": {"stopOnError": False}})
async def test_a_line_opened_below_the_generated_code_keeps_the_fix_of_the_rest(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A line the user opens below the generated code's last line, reported the way Neovim
    diffs lines (a line break and the text inserted before that line's own line break), is
    below the code, not an edit inside it: Fix with AI still rewrites from the failing
    statement to the end of the generated code, and the user's line stays once, below."""
    script = "x = 10\ny = x / 0\nz = y + 1\n"
    fake_openai.enqueue(text=script, chunk_chars=3)
    fake_openai.enqueue(text="y = x / 2\nz = y + 1\n", chunk_chars=3)
    uri = editor.open("gen.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="halve")
    await editor.summary(uri)
    assert editor.docs[uri].source == script, editor.docs[uri].source
    editor.type(uri, 2, len("z = y + 1"), "\nprint('mine')")
    await editor.settle(uri, lambda ds: len(ds) >= 1)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    assert editor.docs[uri].source == "x = 10\ny = x / 2\nz = y + 1\nprint('mine')\n"
    user = fake_openai.chat_requests[1].body["messages"][-1]["content"]
    assert "the rest of the solution" in user and "stays as it is" not in user, user


async def test_a_statement_only_fix_does_not_write_the_code_after_it_again(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model is asked for the statement only, but writes the code that follows it too:
    those statements are dropped as repeats (they were written and run twice)."""
    fake_openai.enqueue(text="y = x / 2\nz = y + 1\nprint(z)\n", chunk_chars=3)
    text = "x = 4\ny = x / 0\nz = y + 1\nprint(z)\n"
    uri = editor.open("again.py", text, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    await editor.command(methods.FIX_WITH_AI, uri=uri, line=1)
    await editor.summary(uri, 2)
    assert editor.docs[uri].source == "x = 4\ny = x / 2\nz = y + 1\nprint(z)\n"
