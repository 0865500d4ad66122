"""Issue 10: an edit inside the generated text stops the generation; statements that ran but
were never written must leave the interpreter, and what they changed must be undone.

The client implements eager/streamEdit (as the Neovim plugin and the VS Code extension do) and
holds back its answer to the second insert until the server reports that the statements of
that insert ran; then the user types inside the generated text and the client answers
`edited`. So `y = 2` and `x = 5` ran, and their text never reaches the document. The namespace
is read afterwards by a second generation at the top of the document (no code above it: it
runs in the namespace as it is, nothing is run first).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from eager_lsp.lsp import methods
from eager_lsp.lsp.unwritten import note
from tests.support.lsp_session import shut_down
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor, _client_factory, _plain, _server_env
from .test_write_path import StreamEdits, _stream_session

WRITTEN = "x = 1\nz = x + 1\n"
UNWRITTEN = "y = 2\nx = 5\n"
CHECK = "check = f\"{x} {z} {'y' in dir()} {'typed' in dir()}\"\n"


class TypeInside:
    """Answers eager/streamEdit like the plugins; before answering the second insert it waits
    until all four statements ran, then `user_types` edits inside the generated text."""

    def __init__(self, editor: Editor, streams: StreamEdits) -> None:
        self.editor = editor
        self.streams = streams
        self.released = threading.Event()  # lets the model server send the rest
        self.user_types: Callable[[str, dict[str, Any]], None] | None = None
        self.inserts = 0

    async def handle(self, params: Any) -> dict[str, Any]:
        p = _plain(params)
        uri = p["uri"]
        if p["op"] == "insert":
            self.inserts += 1
            if self.inserts == 2 and self.user_types is not None:
                await self.editor.wait_for(
                    lambda: any(
                        n.get("chunksDone", 0) >= 4
                        for n in self.editor.notes_for(methods.STATUS, uri)
                    ),
                    "the unwritten statements to run",
                )
                region = self.streams.regions[p["generationId"]]
                self.user_types(uri, region)
                self.user_types = None
        answer = self.streams.handle(params)
        if p["op"] == "insert" and self.inserts == 1:
            self.released.set()
        return answer


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve"],
        client_factory=_client_factory,
        server_env=_server_env(),
    ),
)
async def typing_client(lsp_client: LanguageClient, fake_openai: Any, tmp_path: Path):
    editor: Editor = lsp_client.editor  # type: ignore[attr-defined]
    streams = StreamEdits(editor)
    inside = TypeInside(editor, streams)

    async def stream_edit(params: Any) -> dict[str, Any]:
        return await inside.handle(params)

    await _stream_session(lsp_client, fake_openai, tmp_path, streams, stream_edit)
    lsp_client.inside = inside  # type: ignore[attr-defined]
    yield
    inside.released.set()
    await shut_down(lsp_client)


async def _stopped_by_typing(
    client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path, typed: str
) -> tuple[Editor, str, dict[str, Any], int]:
    """Generate WRITTEN + UNWRITTEN into an empty document; the user types `typed` at the end
    of the first generated line once everything ran and only WRITTEN is in the document.
    Returns the editor, the document, the summary, and how many chunkResults the editor had
    when the user typed."""
    editor: Editor = client.editor  # type: ignore[attr-defined]
    inside: TypeInside = client.inside  # type: ignore[attr-defined]
    fake.enqueue(pieces=[WRITTEN, UNWRITTEN], hold_after_first=inside.released)
    typed_at: list[int] = []  # chunkResults the editor had when the user typed

    def user_types(uri: str, region: dict[str, Any]) -> None:
        typed_at.append(len(editor.notes_for(methods.CHUNK_RESULT, uri)))
        doc = editor.docs[uri]
        pos = doc.text.position(region["start"] + len("x = 1"))
        editor.type(uri, pos.line, pos.character, typed)

    inside.user_types = user_types
    uri = editor.open("typed.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="numbers")
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True and "edited" in (summary["error"] or ""), summary
    return editor, uri, summary, typed_at[0]


async def _namespace(editor: Editor, fake: FakeOpenAIServer, uri: str, check: str = CHECK) -> str:
    """The label of `check`, generated at the top of the document and run in the namespace."""
    fake.enqueue(text=check, chunk_chars=8)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="check", position={"line": 0, "character": 0}
    )
    summary = await editor.summary(uri, count=2)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source.startswith(check)
    return (await editor.hint_labels(uri))[0]


async def test_statements_that_ran_but_were_not_written_leave_the_interpreter(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`y = 2` ran and is gone; `x = 5` overwrote the written `x = 1`, which runs again (and
    `z = x + 1`, which reads it, too)."""
    editor, uri, summary, _ = await _stopped_by_typing(
        typing_client, fake_openai, tmp_path, "  # the user's note"
    )
    assert editor.docs[uri].source == "x = 1  # the user's note\nz = x + 1\n"
    said = "removed 2 statements that ran but were not written; re-ran 2 they changed"
    assert said in summary["error"], summary
    assert any(said in m for m in editor.messages())
    # the user's own edit stopped it and what is left runs: no error state (it read "error"
    # with nothing failing: user-tour helpers in Neovim and VS Code)
    assert editor.notes_for(methods.STATUS, uri)[-1]["state"] == "idle"
    assert await _namespace(editor, fake_openai, uri) == "check = '1 2 False False'"


async def test_the_users_half_typed_text_inside_the_region_is_not_run(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The cleanup runs the text as the generation wrote it, never the user's: the lines
    typed inside the generated text (`typed = 9`, a half-typed `w = [`) do not run."""
    editor, uri, summary, typed_at = await _stopped_by_typing(
        typing_client, fake_openai, tmp_path, "\ntyped = 9\nw = ["
    )
    assert editor.docs[uri].source == "x = 1\ntyped = 9\nw = [\nz = x + 1\n"
    assert "re-ran 2 they changed" in summary["error"], summary
    since = editor.notes_for(methods.CHUNK_RESULT, uri)[typed_at:]
    # `x = 1` ran again on its line; `z = x + 1` too, shown on its line, two down since the
    # user's lines came above it (where its earlier result had moved); nothing ran on the
    # user's lines.
    assert [(r["chunk"]["startLine"], r["ok"]) for r in since] == [(0, True), (3, True)], since
    assert await _namespace(editor, fake_openai, uri) == "check = '1 2 False False'"


async def test_stop_interrupts_the_cleanup_and_nothing_runs_after(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The cleanup re-runs a written statement that takes long (it reads `n`, which the
    unwritten `n = 1` changed, and a delay the test raises before the user types); eager.stop
    interrupts it at once instead of leaving it running beside whatever comes next."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    delay = tmp_path / "delay"
    delay.write_text("0")
    written = f"import time\nn = 0\nwait = time.sleep(n + float(open({str(delay)!r}).read()))\n"
    fake_openai.enqueue(pieces=[written, "n = 1\n"], hold_after_first=inside.released)
    typed_at: list[int] = []

    def user_types(uri: str, region: dict[str, Any]) -> None:
        delay.write_text("600")
        typed_at.append(len(editor.notes_for(methods.CHUNK_RESULT, uri)))
        pos = editor.docs[uri].text.position(region["start"] + len("import time"))
        editor.type(uri, pos.line, pos.character, ", sys")

    inside.user_types = user_types
    uri = editor.open("slow.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="wait")
    await editor.wait_for(
        lambda: (
            typed_at
            and any(
                r["chunk"]["startLine"] == 1
                for r in editor.notes_for(methods.CHUNK_RESULT, uri)[typed_at[0] :]
            )
        ),
        "`n = 0` to run again",
    )
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert "stopped while removing statements that ran but were not written" in summary["error"]
    assert await editor.command(methods.INTERRUPT, uri=uri) == {
        "interrupted": False,
        "stateLost": False,
    }


async def test_a_written_statement_the_user_deleted_is_not_run_again(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The edit that stops the generation deletes a written statement (`log(x)`, which reads
    `x`, which the unwritten `x = 5` changed). The cleanup must not run the deleted statement
    again: the user removed it, and code runs only when the user asks."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    ran = tmp_path / "ran.txt"
    logged = f"z = open({str(ran)!r}, 'a').write(f'{{x}}\\n')\n"
    fake_openai.enqueue(pieces=["x = 1\n" + logged, UNWRITTEN], hold_after_first=inside.released)

    def user_deletes(uri: str, region: dict[str, Any]) -> None:
        doc = editor.docs[uri]
        start = doc.text.position(region["start"] + len("x = 1\n"))
        end = doc.text.position(region["start"] + len("x = 1\n") + len(logged))
        editor._change(doc, [(lsp.Range(start=start, end=end), "")])

    inside.user_types = user_deletes
    uri = editor.open("deleted.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="numbers")
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True and "edited" in (summary["error"] or ""), summary
    assert editor.docs[uri].source == "x = 1\n"
    assert ran.read_text() == "1\n", summary  # it ran once, while it was in the document
    said = "removed 2 statements that ran but were not written and 1 you deleted; re-ran"
    assert said in summary["error"], summary
    # `z` left with the deleted statement; `x` is the written `x = 1` again.
    check = "check = f\"{x} {'z' in dir()} {'y' in dir()}\"\n"
    assert await _namespace(editor, fake_openai, uri, check) == "check = '1 False False'"


def _report(removed: int, deleted: int, ran: int = 0) -> Any:
    records = [SimpleNamespace(attempted=True) for _ in range(removed)]
    plan = SimpleNamespace(removed=records, reason="")
    return SimpleNamespace(plan=plan, deleted=deleted, ran=ran, failed=None)


@pytest.mark.parametrize(
    ("removed", "deleted", "said"),
    [
        (2, 0, "removed 2 statements that ran but were not written; re-ran 1 they changed"),
        (1, 0, "removed 1 statement that ran but was not written; re-ran 1 it changed"),
        (3, 1, "removed 2 statements that ran but were not written and 1 you deleted; re-ran"),
        # only deletions: no "0 statements that were not written"
        (1, 1, "removed 1 statement you deleted; re-ran 1 it changed"),
        (2, 2, "removed 2 statements you deleted; re-ran 1 they changed"),
    ],
)
def test_the_summary_names_what_was_removed(removed: int, deleted: int, said: str) -> None:
    assert note(_report(removed, deleted, ran=1)).startswith(said)


def _hold_until_written(
    inside: TypeInside, fake: FakeOpenAIServer, pieces: list[str], partial: str
) -> Callable[[], None]:
    """The model sends `pieces[0]` (ending in the partial line `partial`), then the rest once
    the partial line was written; TypeInside acts on the insert after it. Returns the undo of
    this set-up."""
    streams: StreamEdits = inside.streams
    released = threading.Event()
    fake.enqueue(pieces=pieces, hold_after_first=released)
    inside.inserts = -1  # (it acts on its second insert: here the third, after the partial line)
    inserts: list[str] = []
    original = streams.before_op

    def before_op(p: dict[str, Any]) -> None:
        if p["op"] == "insert":
            inserts.append(p.get("text", ""))
            if partial in "".join(inserts) and not released.is_set():
                released.set()

    streams.before_op = before_op

    def undo() -> None:
        streams.before_op = original
        released.set()

    return undo


async def test_a_statement_that_ran_while_only_part_of_its_line_was_written_shows_nowhere(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`w = x + 1` ran while the document held only `w = x` (a partial line is written after
    a short wait); the user deletes that line, which stops the generation. Its result has no
    line: it sat on whatever line came next (a user's own line, in a real editor: found by a
    user-tour helper in Neovim, the hover said so too)."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    undo = _hold_until_written(
        inside, fake_openai, ["x = 1\nw = x", " + 1\nz = 2\ny = 3\n"], "w = x"
    )

    def user_deletes(uri: str, region: dict[str, Any]) -> None:
        doc = editor.docs[uri]
        assert doc.source.endswith("w = x"), doc.source  # (the partial line is written)
        start = doc.text.position(len("x = 1\n"))
        editor._change(doc, [(lsp.Range(start=start, end=doc.text.position(len(doc.source))), "")])

    inside.user_types = user_deletes
    try:
        uri = editor.open("partial.py", "", tmp_path)
        await editor.command(methods.GENERATE, uri=uri, prompt="numbers")
        summary = await editor.summary(uri)
    finally:
        undo()
    assert summary["stoppedEarly"] is True and "edited" in (summary["error"] or ""), summary
    assert editor.docs[uri].source == "x = 1\n"
    labels = await editor.hint_labels(uri)
    assert labels == {0: "x = 1"}, labels


async def test_a_statement_re_run_after_a_line_above_it_was_deleted_shows_its_new_result(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The edit that stops the generation deletes `a = 6`, which `c = a + 1` read: the
    cleanup runs `c` again (NameError). Its result goes on its line, one up since the
    deletion; it was placed by the lines as written, found another text there and was
    dropped: the old `c = 7` stayed and no error was shown (a user-tour helper, Neovim)."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    fake_openai.enqueue(pieces=["a = 6\nc = a + 1\n", UNWRITTEN], hold_after_first=inside.released)

    def user_deletes(uri: str, region: dict[str, Any]) -> None:
        doc = editor.docs[uri]
        start = doc.text.position(region["start"])
        end = doc.text.position(region["start"] + len("a = 6\n"))
        editor._change(doc, [(lsp.Range(start=start, end=end), "")])

    inside.user_types = user_deletes
    uri = editor.open("above.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="numbers")
    summary = await editor.summary(uri)
    assert "re-ran 1 they changed (NameError" in (summary["error"] or ""), summary
    assert editor.docs[uri].source == "c = a + 1\n"
    await editor.wait_for(
        lambda: any(
            d.range.start.line == 0 and "NameError" in d.message
            for d in (getattr(editor.latest_diagnostics(uri), "diagnostics", None) or [])
        ),
        "the NameError on `c = a + 1`",
    )
    labels = await editor.hint_labels(uri)
    assert "c = 7" not in labels.values(), labels
    assert editor.notes_for(methods.STATUS, uri)[-1]["state"] == "error"  # c fails now


async def test_a_re_run_result_never_goes_to_a_users_line_with_the_same_text(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Above the generated code the user's own `z = x + 1` shows `z = 1`. The user edits the
    generated `z = x + 1` (to `+ 2`), which stops the generation; the cleanup runs the
    generated `z` again, and its text is no longer on its line. Its result is not shown
    rather than put on the user's line of the same text (a reviewing helper saw `z = 2`
    there)."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    fake_openai.enqueue(pieces=["x = 1\nz = x + 1\n", UNWRITTEN], hold_after_first=inside.released)

    def user_edits(uri: str, region: dict[str, Any]) -> None:
        doc = editor.docs[uri]
        at = region["start"] + len("x = 1\nz = x + ")
        rng = lsp.Range(start=doc.text.position(at), end=doc.text.position(at + 1))
        editor._change(doc, [(rng, "2")])

    inside.user_types = user_edits
    uri = editor.open("same.py", "x = 0\nz = x + 1\n", tmp_path)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="n", position={"line": 2, "character": 0}
    )
    await editor.summary(uri)
    assert editor.docs[uri].source == "x = 0\nz = x + 1\nx = 1\nz = x + 2\n"
    labels = await editor.hint_labels(uri)
    assert labels.get(1) == "z = 1", labels


async def test_a_statement_written_whole_but_for_its_newline_keeps_its_result(
    typing_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`w = x + 1` is in the document, all but its newline, when the user types on line 0,
    which stops the generation: its result stays on its line (the first fix for a partly
    written line dropped it: a reviewing helper)."""
    editor: Editor = typing_client.editor  # type: ignore[attr-defined]
    inside: TypeInside = typing_client.inside  # type: ignore[attr-defined]
    undo = _hold_until_written(
        inside, fake_openai, ["x = 1\nw = x + 1", "\nz = 2\ny = 3\n"], "w = x + 1"
    )

    def user_types(uri: str, region: dict[str, Any]) -> None:
        assert editor.docs[uri].source.endswith("w = x + 1"), editor.docs[uri].source
        editor.type(uri, 0, 5, "  # note")

    inside.user_types = user_types
    try:
        uri = editor.open("nl.py", "", tmp_path)
        await editor.command(methods.GENERATE, uri=uri, prompt="numbers")
        await editor.summary(uri)
    finally:
        undo()
    assert editor.docs[uri].source == "x = 1  # note\nw = x + 1"
    labels = await editor.hint_labels(uri)
    assert labels.get(1) == "w = 2", labels
