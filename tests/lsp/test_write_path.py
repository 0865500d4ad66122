"""The write path while the user types (issue 10): generated text lands whole and in order.

A typist task types whole lines (a change per character, like keystrokes) above the generated
code, below it and at its insertion point while 150 short lines stream in fast, concurrently
with the server's edits, so didChanges and the server's edits cross on the wire.

- Generic clients (`workspace/applyEdit`), with VS Code's and Neovim's capabilities: VS Code
  refuses an edit for an older version; Neovim skips it but answers `applied: true`. Either
  way the server must rebase and resend, never lose or duplicate text.
- A client with `experimental.eagerStreamEdits` that implements eager/streamEdit the way
  docs/protocol.md says (a region of two marks that move with edits), like the Neovim plugin
  and the VS Code extension do.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from eager_lsp.lsp import methods
from tests.support.lsp_session import shut_down
from tests.support.openai_server import FakeOpenAIServer

from .conftest import (
    ClientDoc,
    Editor,
    _client_factory,
    _plain,
    _server_env,
    base_settings,
)

SCRIPT = "".join(f"v{i}={i}\n" for i in range(150))
CODE = SCRIPT.splitlines()
START_TEXT = "start = 0\n\nend = 1\n"  # generated on the empty line 1 (0-based)
WHERES = ("point", "above", "below")


def move(mark: int, s: int, e: int, text: str, right: bool) -> int:
    """Where a mark at `mark` is after [s, e) became `text` (extmark rules: an insertion
    exactly at the mark goes before it when it has right gravity, after it otherwise)."""
    if mark < s or (mark == s == e and not right):
        return mark
    if mark >= e:
        return mark + len(text) - (e - s)
    return s + len(text) if right else s


class Typist:
    """Types `# note N where` lines at rotating places until `done()`."""

    def __init__(
        self, editor: Editor, uri: str, seed: int, point: Callable[[], int], offset: int = 0
    ) -> None:
        self.editor = editor
        self.uri = uri
        self.rnd = random.Random(seed)
        self.point = point  # offset of the insertion point now
        self.offset = offset  # rotate where the first line goes
        self.typed: list[str] = []
        self._cursor: int | None = None
        editor.change_listeners.append(self._follow)

    def _follow(self, doc: ClientDoc, s: int, e: int, text: str) -> None:
        if self._cursor is not None and doc.uri == self.uri:
            self._cursor = move(self._cursor, s, e, text, right=True)

    def _type_at(self, offset: int, text: str) -> None:
        doc = self.editor.docs[self.uri]
        p = doc.text.position(offset)
        self.editor.type(self.uri, p.line, p.character, text)

    async def run(self, done: Callable[[], bool], limit: int = 120) -> None:
        n = 0
        while not done() and n < limit:
            n += 1
            where = WHERES[(n - 1 + self.offset) % len(WHERES)]
            doc = self.editor.docs[self.uri]
            if where == "above":
                at = 0
            elif where == "below":
                at = len(doc.source)  # the document ends with a newline: a new last line
            else:
                at = self.point()
            text = f"# note {n} {where}"
            self._type_at(at, "\n")  # open a line: the typist's line is the one at `at`
            # ...or, after a partial line the server wrote, the new line below it
            self._cursor = at if at == 0 or doc.source[at - 1] == "\n" else at + 1
            for ch in text:
                await asyncio.sleep(0.001)
                assert self._cursor is not None
                self._type_at(self._cursor, ch)  # the cursor moves past it (_follow)
            self._cursor = None
            self.typed.append(text)
            await asyncio.sleep(self.rnd.uniform(0.02, 0.07))


def check_layout(lines: list[str], typed: list[str]) -> None:
    notes = [ln for ln in lines if ln.startswith("# note")]
    assert sorted(notes) == sorted(typed), (notes, typed)  # every typed line, intact, once
    rest = [ln for ln in lines if not ln.startswith("# note")]
    assert rest == ["start = 0", *CODE, "", "end = 1", ""], lines  # nothing lost or moved
    first = lines.index(CODE[0])
    assert lines[first : first + len(CODE)] == CODE, lines  # no typed line inside the code
    above = [n for n in typed if n.endswith(" above")]
    below = [n for n in typed if n.endswith(" below")]
    assert lines[: len(above)] == above[::-1], lines
    assert lines[len(lines) - 1 - len(below) : len(lines) - 1] == below, lines


def code_point(editor: Editor, uri: str, asked: list[int]) -> Callable[[], int]:
    """The generic client's idea of the insertion point: after the last generated line, or
    (nothing generated yet) the place the generation was asked for, followed through edits.
    A partial line the server wrote (a line that waited PARTIAL_LINE_WAIT_S, as under load)
    is generated text too: the point is at its end, not at its start (typing there would be
    typing inside the generated code, which stops the generation by design)."""

    def follow(doc: ClientDoc, s: int, e: int, text: str) -> None:
        if doc.uri == uri:
            asked[0] = move(asked[0], s, e, text, right=True)

    editor.change_listeners.append(follow)

    def point() -> int:
        doc = editor.docs[uri]
        lines = doc.source.split("\n")
        last = max((i for i, ln in enumerate(lines) if ln in CODE), default=None)
        if last is None:
            return asked[0]
        nxt = lines[last + 1] if last + 1 < len(lines) else ""
        following = CODE.index(lines[last]) + 1  # the next generated line, when complete
        if nxt and following < len(CODE) and CODE[following].startswith(nxt):
            return doc.text.line_start(last + 1) + len(nxt)  # after a partial line
        return doc.text.line_start(last + 1)

    return point


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_applyedit_typing_above_below_and_at_the_point_loses_nothing(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path, seed: int
) -> None:
    fake_openai.enqueue(text=SCRIPT, chunk_chars=4, delay=0.003)
    uri = editor.open(f"generic{seed}.py", START_TEXT, tmp_path)
    asked = [editor.docs[uri].text.line_start(1)]
    typist = Typist(editor, uri, seed, code_point(editor, uri, asked), offset=seed)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summaries = lambda: editor.notes_for(methods.GENERATION_SUMMARY, uri)  # noqa: E731
    await typist.run(lambda: bool(summaries()))
    summary = await editor.summary(uri)
    assert summary["error"] is None and summary["stoppedEarly"] is False, summary
    assert typist.typed
    check_layout(editor.docs[uri].source.split("\n"), typist.typed)
    assert all(
        p.edit.document_changes and p.edit.document_changes[0].text_document.version
        for p in editor.apply_requests
    )  # always versioned


async def _expect_v3_held_back(
    editor: Editor, uri: str, held: threading.Event, typed: list[int], script: str
) -> None:
    """Generate on line 1; once the user's `# mine` is typed, the partial line `v3=` stays
    out for four times PARTIAL_LINE_WAIT_S (the old writer wrote it then); then the model
    goes on (`held`), and the user's line follows the code."""
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: typed, "the user's line")
        await asyncio.sleep(1.0)
        source = editor.docs[uri].source
        assert "\n# mine\n" in source and "v3=" not in source, source
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert summary["error"] is None and summary["stoppedEarly"] is False, summary
    assert editor.docs[uri].source == "start = 0\n" + script + "# mine\n\nend = 1\n"


@pytest.mark.parametrize("last_newline", [True, False], ids=["ends-with-newline", "no-newline"])
async def test_a_partial_line_is_not_glued_to_a_line_typed_at_the_insertion_point(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path, last_newline: bool
) -> None:
    """The model stalls mid-line (`v3=`) just after the user typed a line of their own at the
    insertion point (the end of the generated text, at a line start). The partial line that
    is written after a stall (edits.PARTIAL_LINE_WAIT_S) would sit in front of their text,
    `v3=# mine`, until its newline came, and the user's next keystroke on that line would be
    inside the generated code: it waits for the whole line instead. The typing happens in
    the client's edit handler right after `v2=2` landed, so the order is fixed. (Under load
    the typing tests above met this stall by chance; the old writer fails this test.) When the
    model's last line has no newline, the end of the generation ends it, for the same reason
    (the writer before stop 26 left `v7=7# mine`)."""
    held = threading.Event()
    lines = [f"v{i}={i}\n" for i in range(8)]
    first = "".join(lines[:3]) + "v3="
    rest = "".join(lines)[len(first) :]
    if not last_newline:
        rest = rest[:-1]
    fake_openai.enqueue(pieces=[first, rest], hold_after_first=held)
    uri = editor.open("glue.py", START_TEXT, tmp_path)
    typed: list[int] = []

    def type_mine(ed: Editor, doc: ClientDoc, n: int) -> None:
        at = doc.source.find("v2=2\n")
        if not typed and at >= 0:
            typed.append(at)
            end = at + len("v2=2\n")  # the end of the generated text: a line start
            p = doc.text.position(end)
            ed.type(uri, p.line, p.character, "# mine\n")

    editor.after_apply = type_mine
    await _expect_v3_held_back(editor, uri, held, typed, "".join(lines))


def _stalled_mid_line(fake_openai: FakeOpenAIServer) -> tuple[threading.Event, str]:
    """`v0=0` to `v2=2`, then `v3=` and a stall (until the event), then the rest."""
    held = threading.Event()
    script = "".join(f"v{i}={i}\n" for i in range(8))
    first = script[: script.index("v3=") + 3]
    fake_openai.enqueue(pieces=[first, script[len(first) :]], hold_after_first=held)
    return held, script


def _types_mine_after_v2(uri: str, typed: list[int]) -> Callable[[Editor, ClientDoc, int], None]:
    """An edit hook: once `v2=2` is in, the user opens `# mine` at the end of the generated
    text (a line start), once; `typed` records where."""

    def type_mine(ed: Editor, doc: ClientDoc, n: int) -> None:
        end = doc.source.find("v2=2\n") + len("v2=2\n")
        if not typed and end >= len("v2=2\n"):
            typed.append(end)
            p = doc.text.position(end)
            ed.type(uri, p.line, p.character, "# mine\n")

    return type_mine


async def test_applyedit_a_partial_line_raced_by_a_line_typed_at_the_point_waits_for_it_whole(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """As above, but the user's line reaches the client just before the edit writing the
    partial line `v3=` does (the server did not know it yet): that edit is for an older
    version, and rebased it would be glued in front of their text, `v3=# mine`; it waits for
    the whole line instead (the writer before stop 38 wrote it there)."""
    held, script = _stalled_mid_line(fake_openai)
    uri = editor.open("glue_race.py", START_TEXT, tmp_path)
    typed: list[int] = []
    editor.before_apply = _types_mine_after_v2(uri, typed)
    await _expect_v3_held_back(editor, uri, held, typed, script)


async def test_applyedit_a_last_line_without_a_line_break_raced_by_a_typed_line_is_ended(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model's text ends with `v3=3` (no line break) while the client is still busy with
    the edit before (it types `# mine` at the insertion point meanwhile): the last edit is for
    an older version, and rebased it would give `v3=3# mine`; the line is ended instead."""
    fake_openai.enqueue(pieces=["v0=0\nv1=1\nv2=2\n", "v3=3"])
    uri = editor.open("glue_end.py", START_TEXT, tmp_path)
    typed: list[int] = []

    def type_mine(ed: Editor, doc: ClientDoc, n: int) -> None:
        end = doc.source.find("v2=2\n") + len("v2=2\n")
        if not typed and end >= len("v2=2\n"):
            typed.append(end)
            time.sleep(1.5)  # the stream ends and the server sends its last piece meanwhile
            p = doc.text.position(end)
            ed.type(uri, p.line, p.character, "# mine\n")

    editor.after_apply = type_mine
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    expected = "start = 0\nv0=0\nv1=1\nv2=2\nv3=3\n# mine\n\nend = 1\n"
    assert editor.docs[uri].source == expected


async def _error_on_an_unended_last_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    held = threading.Event()
    fake_openai.enqueue(
        pieces=["v0=0\nv1=1\nv2=2\n", "raise ValueError('x')"], hold_after_first=held
    )
    uri = editor.open("fail_end.py", START_TEXT, tmp_path)
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: "v2=2\n" in editor.docs[uri].source, "the whole lines")
        end = editor.docs[uri].source.index("v2=2\n") + len("v2=2\n")
        p = editor.docs[uri].text.position(end)
        editor.type(uri, p.line, p.character, "# mine\n")
        await asyncio.sleep(0.5)  # the server knows the line before the last piece comes
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert "ValueError" in (summary["error"] or ""), summary
    expected = "start = 0\nv0=0\nv1=1\nv2=2\nraise ValueError('x')\n# mine\n\nend = 1\n"
    assert editor.docs[uri].source == expected


async def test_applyedit_an_error_on_an_unended_last_line_keeps_it_ended_above_a_typed_line(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The last line, `raise ValueError('x')` without a line break, fails: the code is kept up
    to its end, and the user's line follows the insertion point, so the line is ended; the
    line break added was past the kept code, and the writer before stop 38 wrote
    `raise ValueError('x')# mine`."""
    await _error_on_an_unended_last_line(editor, fake_openai, tmp_path)


async def test_a_partial_line_held_back_by_a_typed_line_shows_once_that_line_is_deleted(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user's line at the insertion point holds the stalled `v3=` back; they delete it
    during the stall: the partial line shows (it waited for the model's next text: a
    didChange does not wake the writer; a user's tour found it)."""
    held, script = _stalled_mid_line(fake_openai)
    uri = editor.open("unhold.py", START_TEXT, tmp_path)
    typed: list[int] = []
    editor.after_apply = _types_mine_after_v2(uri, typed)
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: typed, "the user's line")
        await asyncio.sleep(0.6)
        assert "v3=" not in editor.docs[uri].source
        line = editor.docs[uri].source.split("\n").index("# mine")
        editor.replace(uri, (line, 0), (line + 1, 0), "")
        await editor.wait_for(lambda: "\nv3=\n" in editor.docs[uri].source, "the partial line")
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == "start = 0\n" + script + "\nend = 1\n"


async def test_applyedit_an_edit_made_stale_every_time_is_rebased(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Deterministic races: the user types just before the client applies every third edit,
    so that edit is for an older version (refused by VS Code, skipped by Neovim)."""
    fake_openai.enqueue(text=SCRIPT[:400], chunk_chars=4, delay=0.003)
    uri = editor.open("stale.py", START_TEXT, tmp_path)
    typed: list[str] = []

    def race(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n % 3 == 0:
            text = f"# note {n} above"
            ed.type(doc.uri, 0, 0, text + "\n")
            typed.append(text)

    editor.before_apply = race
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    lines = editor.docs[uri].source.split("\n")
    assert lines[: len(typed)] == typed[::-1]
    code = SCRIPT[:400].splitlines()
    assert lines[len(typed) :] == ["start = 0", *code, "", "end = 1", ""], lines
    if editor.kind == "neovim":
        assert editor.skipped_edits > 0  # skipped with applied: true, caught and resent


async def test_applyedit_a_refusal_waits_for_a_didchange_held_back_by_the_client(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user types before the client applies the second edit, and the client sends that
    change 1.5 s later (Neovim holds didChange back while typing goes on, until it first sent
    one). The refused edit waits for it and is rebased; the generation was ended after 0.5 s
    with everything it had run removed."""
    text = "".join(SCRIPT.splitlines(keepends=True)[:12])
    fake_openai.enqueue(text=text, chunk_chars=4, delay=0.003)
    uri = editor.open("held.py", START_TEXT, tmp_path)
    loop = asyncio.get_running_loop()
    send = editor.client.text_document_did_change

    def race(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 2:
            ed.client.text_document_did_change = lambda params: loop.call_later(  # type: ignore[method-assign]
                1.5, send, params
            )
            try:
                ed.type(doc.uri, 0, 0, "# typed\n")
            finally:
                ed.client.text_document_did_change = send  # type: ignore[method-assign]

    editor.before_apply = race
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    code = text.splitlines()
    lines = editor.docs[uri].source.split("\n")
    assert lines == ["# typed", "start = 0", *code, "", "end = 1", ""], lines


async def test_applyedit_a_stop_during_a_refusal_wait_still_writes_the_refused_lines(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user types before the client applies the second edit, whose didChange the client
    sends 0.3 s later; the user stops the generation meanwhile. The stop cuts the refusal's
    wait to 0.5 s, so the change still comes in time: the refused edit is rebased and its
    complete lines are written, with no failure (ending the wait at once gave those lines up)."""
    text = "".join(SCRIPT.splitlines(keepends=True)[:12])
    fake_openai.enqueue(text=text, chunk_chars=4, delay=0.02)
    uri = editor.open("stop_held.py", START_TEXT, tmp_path)
    loop = asyncio.get_running_loop()
    send = editor.client.text_document_did_change
    refused: list[str] = []  # the text of the edit the user's typing beat
    stops: list[asyncio.Future[Any]] = []

    def race(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 2:
            changes = ed.apply_requests[-1].edit.document_changes or []
            refused.append("".join(e.new_text for dc in changes for e in dc.edits))  # type: ignore[union-attr]
            ed.client.text_document_did_change = lambda params: loop.call_later(  # type: ignore[method-assign]
                0.3, send, params
            )
            try:
                ed.type(doc.uri, 0, 0, "# typed\n")
            finally:
                ed.client.text_document_did_change = send  # type: ignore[method-assign]
            # the stop reaches the server while the refused edit waits for that change
            stops.append(asyncio.ensure_future(ed.command(methods.STOP, uri=doc.uri)))

    editor.before_apply = race
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert refused and stops, "the second edit was never refused"
    assert (await stops[0])["stopped"] is True
    assert summary["stoppedEarly"] is True and summary["error"] is None, summary
    lines = editor.docs[uri].source.split("\n")
    assert lines[:2] == ["# typed", "start = 0"], lines
    code = [ln for ln in lines[2:] if ln not in ("", "end = 1")]
    assert code and code == text.splitlines()[: len(code)], lines
    # The refused edit's text is written: its whole lines as they are, and an unfinished last
    # line as the start of the line it became (on a slow host the refused edit was only
    # "v1=", written and then finished as "v1=1": the test took whole lines for granted).
    *whole, unfinished = refused[0].split("\n")
    assert whole or unfinished, refused
    assert all(ln in code for ln in whole), (refused, lines)
    assert not unfinished or any(ln.startswith(unfinished) for ln in code), (refused, lines)
    assert lines[-3:] == ["", "end = 1", ""], lines


async def test_applyedit_typing_at_the_end_of_the_unfinished_line_stops_the_generation(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model stalls in the middle of `e = d - 100` (`e = d` is written); the user types
    ` + 5` at its end. That is on the model's line: the generation stops there, and the rest of
    the model's line does not go between (it made `e = d - 100` and ` + 5` two broken lines,
    a user tour in both editors). At the insertion point after a whole line, text typed goes
    after the generated code as before (the other tests of this file)."""
    held = threading.Event()
    fake_openai.enqueue(
        pieces=["a = 1\nb = 2\ne = d", " - 100\nf = e\n"], delay=0.01, hold_after_first=held
    )
    uri = editor.open("typed_at_end.py", "# top\n\n# end\n", tmp_path)
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="p", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: "e = d" in editor.docs[uri].source, "the partial line")
        editor.type(uri, 3, 5, " + 5")
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True and "edited" in (summary["error"] or ""), summary
    assert editor.docs[uri].source == "# top\na = 1\nb = 2\ne = d + 5\n# end\n"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve"],
        client_factory=_client_factory,
        server_env={**_server_env(), "EAGER_LSP_REFUSAL_WAIT": "60"},
    ),
)
async def long_refusal_editor(lsp_client: LanguageClient, fake_openai: Any, tmp_path: Path):
    """A VS Code-like client (workspace/applyEdit, stale edits refused), the server's wait
    for the didChange behind a refusal made 60 s: a stop held up by it would show."""
    settings = base_settings(fake_openai)
    editor: Editor = lsp_client.editor  # type: ignore[attr-defined]
    editor.kind = "vscode"
    lsp_client.set_configuration(settings, section=methods.SETTINGS_SECTION)
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=settings,
            root_uri=tmp_path.as_uri(),
        )
    )
    yield
    await shut_down(lsp_client)


async def test_applyedit_a_stop_is_not_held_up_by_a_refusal_wait(
    long_refusal_editor: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The client refuses every edit from the third on, for good; a stop then ends the
    generation within a short wait instead of waiting out the refusal's (a reviewing helper:
    4.9 s with the 5 s default); the refusal is then final, as it was before the long wait."""
    editor: Editor = long_refusal_editor.editor  # type: ignore[attr-defined]
    fake_openai.enqueue(text=SCRIPT, chunk_chars=6, delay=0.01)
    uri = editor.open("refusing.py", START_TEXT, tmp_path)
    refused = asyncio.Event()

    def refuse(ed: Editor, doc: ClientDoc, n: int) -> None:
        if n == 3:
            ed.reject_edits = True
            refused.set()

    editor.before_apply = refuse
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    await asyncio.wait_for(refused.wait(), 30)
    await asyncio.sleep(0.5)  # the refusal reaches the server, which starts waiting
    began = time.monotonic()
    await editor.command(methods.STOP, uri=uri)
    summary = await editor.summary(uri)
    assert time.monotonic() - began < 30, "the stop waited for the refusal's 60 s"
    assert summary["stoppedEarly"] is True, summary
    assert "the editor refused the edit" in (summary["error"] or ""), summary


# -- a client that applies eager/streamEdit itself --------------------------------------------------


class StreamEdits:
    """eager/streamEdit as docs/protocol.md describes it, on the test editor's documents."""

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.regions: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.before_op: Callable[[dict[str, Any]], None] | None = None
        editor.change_listeners.append(self._follow)

    def _follow(self, doc: ClientDoc, s: int, e: int, text: str) -> None:
        for r in self.regions.values():
            if r["uri"] == doc.uri:
                empty = r["start"] == r["end"]
                r["start"] = move(r["start"], s, e, text, right=True)
                r["end"] = move(r["end"], s, e, text, right=empty)
                r["anchor"] = move(r["anchor"], s, e, text, right=False)

    def end_of(self, uri: str) -> int | None:
        for r in self.regions.values():
            if r["uri"] == uri:
                return int(r["end"])
        return None

    def _edit(self, doc: ClientDoc, s: int, e: int, text: str) -> None:
        self.editor._change(doc, [(doc.text.range(s, e), text)])

    def _answer(self, doc: ClientDoc, r: dict[str, Any]) -> dict[str, Any]:
        rng = doc.text.range(r["start"], r["end"])
        return {
            "ok": True,
            "version": doc.version,
            "range": {
                "start": {"line": rng.start.line, "character": rng.start.character},
                "end": {"line": rng.end.line, "character": rng.end.character},
            },
        }

    def handle(self, params: Any) -> dict[str, Any]:
        p = _plain(params)
        self.requests.append(p)
        if self.before_op is not None:
            self.before_op(p)
        doc = self.editor.docs.get(p["uri"])
        gid = p["generationId"]
        if doc is None:
            self.regions.pop(gid, None)
            return {"ok": False, "reason": "closed"}
        if p["op"] == "begin":
            if p["version"] != doc.version:
                return {"ok": False, "reason": "conflict"}
            s = e = doc.text.offset(lsp.Position(**p["position"]))
            if p.get("replace"):
                s = doc.text.offset(lsp.Position(**p["replace"]["start"]))
                e = doc.text.offset(lsp.Position(**p["replace"]["end"]))
            eol = _eol(doc.source)
            before = (p.get("before") or "").replace("\n", eol)
            after = (p.get("after") or "").replace("\n", eol)
            if s != e or before or after:
                self._edit(doc, s, e, before + after)
            at = s + len(before)
            r = {"uri": doc.uri, "start": at, "end": at, "text": "", "anchor": at}
            self.regions[gid] = r
            return self._answer(doc, r)
        r = self.regions.get(gid)
        if r is None:
            return {"ok": False, "reason": "closed"}
        if doc.source[r["start"] : r["end"]] != r["text"]:
            del self.regions[gid]
            return {"ok": False, "reason": "edited"}
        if p["op"] == "insert":
            if not r["text"] and r["start"] > r["anchor"]:
                # settle: an unfinished line typed at the empty region's point goes below it
                typed = doc.source[r["anchor"] : r["start"]]
                if typed[-1:] not in ("\n", "\r"):
                    cut = max(typed.rfind("\n"), typed.rfind("\r")) + 1
                    r["start"] = r["end"] = r["anchor"] + cut
            start, end = r["start"], r["end"]
            if p["text"][-1:] not in ("\n", "\r") and doc.source[end : end + 1] not in (
                "",
                "\r",
                "\n",
            ):
                # a partial line would be glued in front of the user's text: declined
                return {**self._answer(doc, r), "ok": False, "reason": "conflict"}
            text = p["text"].replace("\n", _eol(doc.source))  # as the editors do (withEol)
            self._edit(doc, end, end, text)
            r["start"], r["end"] = start, end + len(text)
            r["text"] += text
            return self._answer(doc, r)
        assert p["op"] == "end", p
        keep = p.get("keepLines")
        if keep is not None:
            cut = 0
            for _ in range(keep):
                cut = r["text"].index("\n", cut) + 1
            self._edit(doc, r["start"] + cut, r["end"], "")
            r["end"] = r["start"] + cut
            r["text"] = r["text"][:cut]
        trim = p.get("trimTrailing") and r["text"].endswith("\n")
        after = doc.source[r["end"] : r["end"] + 2]
        if trim and (after[:1] == "\n" or after == "\r\n"):
            self._edit(doc, r["end"], r["end"] + (2 if after == "\r\n" else 1), "")
        answer = self._answer(doc, r)
        del self.regions[gid]
        return answer


def _eol(source: str) -> str:
    """The document's line break, as an editor keeps it (VS Code: `TextDocument.eol`)."""
    return "\r\n" if "\r\n" in source else "\n"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve"],
        client_factory=_client_factory,
        server_env=_server_env(),
    ),
)
async def stream_client(lsp_client: LanguageClient, fake_openai: Any, tmp_path: Path):
    streams = StreamEdits(lsp_client.editor)  # type: ignore[attr-defined]

    def stream_edit(params: Any) -> dict[str, Any]:
        return streams.handle(params)

    await _stream_session(lsp_client, fake_openai, tmp_path, streams, stream_edit)
    yield
    await shut_down(lsp_client)


async def _stream_session(
    lsp_client: LanguageClient,
    fake_openai: Any,
    tmp_path: Path,
    streams: StreamEdits,
    handler: Callable[[Any], Any],
) -> None:
    """Initialize a session as a client with eager/streamEdit, answered by `handler`."""
    settings = base_settings(fake_openai)
    editor: Editor = lsp_client.editor  # type: ignore[attr-defined]
    editor.kind = "stream"
    lsp_client.feature(methods.STREAM_EDIT)(handler)
    lsp_client.streams = streams  # type: ignore[attr-defined]
    lsp_client.set_configuration(settings, section=methods.SETTINGS_SECTION)
    caps = attrs.evolve(
        client_capabilities("neovim"), experimental={methods.STREAM_EDITS_CAPABILITY: True}
    )
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=caps, initialization_options=settings, root_uri=tmp_path.as_uri()
        )
    )
    enc = result.capabilities.position_encoding
    editor.encoding = str(getattr(enc, "value", enc) or "utf-16")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_stream_edits_typing_above_below_and_at_the_point_loses_nothing(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path, seed: int
) -> None:
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    fake_openai.enqueue(text=SCRIPT, chunk_chars=4, delay=0.003)
    uri = editor.open(f"stream{seed}.py", START_TEXT, tmp_path)
    asked = [editor.docs[uri].text.line_start(1)]
    generic = code_point(editor, uri, asked)

    def point() -> int:
        end = streams.end_of(uri)
        return generic() if end is None else end

    typist = Typist(editor, uri, seed, point, offset=seed)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summaries = lambda: editor.notes_for(methods.GENERATION_SUMMARY, uri)  # noqa: E731
    await typist.run(lambda: bool(summaries()))
    summary = await editor.summary(uri)
    assert summary["error"] is None and summary["stoppedEarly"] is False, summary
    assert editor.apply_requests == []  # no workspace/applyEdit for generated text
    ops = [r["op"] for r in streams.requests]
    assert ops[-1] == "end" and ops.count("insert") >= 2, ops
    assert [r["seq"] for r in streams.requests if r["op"] != "begin"] == sorted(
        r["seq"] for r in streams.requests if r["op"] != "begin"
    )
    check_layout(editor.docs[uri].source.split("\n"), typist.typed)
    labels = await editor.hint_labels(uri)
    lines = editor.docs[uri].source.split("\n")
    assert labels[lines.index("v149=149")] == "v149 = 149"  # results sit on their lines


@pytest.mark.parametrize("reply", ["new1 = 1\nnew2 = 2\n", "new1 = 1\nnew2 = 2"])
async def test_stream_edits_a_range_ending_at_a_line_end_leaves_no_blank_line(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path, reply: str
) -> None:
    """`:'<,'>EagerGenerate` in Neovim: the selected lines up to the end of the last one are
    replaced by the code; `end` drops that line's break when the code ends with its own."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    fake_openai.enqueue(text=reply, chunk_chars=3)
    uri = editor.open("eol.py", "# top\nold1 = 1\nold2 = 2\n# keep bottom\n", tmp_path)
    rng = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 8}}
    await editor.command(methods.GENERATE, uri=uri, prompt="replace", range=rng)
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == "# top\nnew1 = 1\nnew2 = 2\n# keep bottom\n"


async def test_stream_edits_typing_inside_stops_cleanly_and_keeps_both_texts(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    reply = fake_openai.enqueue(text=SCRIPT, chunk_chars=4, delay=0.01)
    uri = editor.open("inside.py", START_TEXT, tmp_path)

    def edit_inside(p: dict[str, Any]) -> None:
        if p["op"] == "insert" and p["seq"] == 3:
            r = next(iter(streams.regions.values()))
            doc = editor.docs[uri]
            pos = doc.text.position(r["start"] + 1)  # inside `v0=0`
            editor.type(uri, pos.line, pos.character, "X")

    streams.before_op = edit_inside
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    assert "edited" in (summary["error"] or ""), summary
    text = editor.docs[uri].source
    assert text.startswith("start = 0\nvX0=0\n")  # the user's X and the generated text
    lines = text.split("\n")
    written = lines[1 : lines.index("")]
    assert [ln.replace("X", "") for ln in written] == CODE[: len(written)]
    assert lines[lines.index("") :] == ["", "end = 1", ""]
    request = fake_openai.chat_requests[0]
    assert request.wait_done() and request.disconnected  # the model stream was stopped
    assert request.pieces_sent < len(reply.content_pieces())
    assert [r["op"] for r in streams.requests].count("end") == 0  # nothing after the refusal


async def test_stream_edits_a_line_being_typed_at_the_point_when_begin_is_refused_stays_whole(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user starts a line at the insertion point just before `begin` reaches the client,
    which answers `conflict`; the server rebases the point past that text and retries. The
    generated text goes above the unfinished line, never joined to its end."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    script = "".join(f"{ln}\n" for ln in CODE[:25])
    fake_openai.enqueue(text=script, chunk_chars=4, delay=0.005)
    uri = editor.open("typing_at_begin.py", START_TEXT, tmp_path)

    def type_first(p: dict[str, Any]) -> None:
        if p["op"] == "begin" and len(streams.requests) == 1:
            editor.type(uri, 1, 0, "# pr")  # the begin is for the version before this

    streams.before_op = type_first
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert [r["op"] for r in streams.requests].count("begin") == 2  # refused once, retried
    lines = editor.docs[uri].source.split("\n")
    code = script.splitlines()
    assert lines[: len(code) + 1] == ["start = 0", *code], lines
    assert "# pr" in lines and lines.index("# pr") == len(code) + 1, lines


async def test_stream_edits_a_partial_line_raced_by_a_line_typed_at_the_point_waits_for_it_whole(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The user opens a line at the insertion point just before the `insert` of the partial
    line `v3=` reaches the client (the server did not know it): the client declines it
    (`conflict`), as it would be glued in front of their text, `v3=# mine`; the server
    catches up and writes the line once whole, and the generation goes on. (The server
    before stop 38 stopped the generation there; Neovim's plugin wrote `v3=# mine`, and the
    next keystroke on that line stopped it as an edit of the generated text.)"""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    held, script = _stalled_mid_line(fake_openai)
    uri = editor.open("glue_race.py", START_TEXT, tmp_path)
    typed: list[int] = []

    def type_mine(p: dict[str, Any]) -> None:
        end = streams.end_of(uri)
        if p["op"] == "insert" and p["text"] == "v3=" and not typed and end is not None:
            typed.append(end)
            pos = editor.docs[uri].text.position(end)
            editor.type(uri, pos.line, pos.character, "# mine\n")

    streams.before_op = type_mine
    await _expect_v3_held_back(editor, uri, held, typed, script)
    assert [r["text"] for r in streams.requests if r["op"] == "insert"].count("v3=") == 1


async def test_stream_edits_an_error_on_an_unended_last_line_keeps_it_ended_above_a_typed_line(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """As with applyEdit: the client would decline the failing line unended (it would be
    glued in front of the user's line), and an earlier version of this fix then dropped it."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    await _error_on_an_unended_last_line(editor, fake_openai, tmp_path)


async def test_stream_edits_a_conflict_to_an_insert_without_a_range_stops_at_once(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`conflict` without the region's range is no decline (VS Code answers so for a
    generation it does not know): the generation stops at once, not after many resends, and
    so do the model and the code (the server before stop 38 went on running statements it
    could not write: all eight, once the model went on)."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    held, _ = _stalled_mid_line(fake_openai)
    uri = editor.open("no_range.py", START_TEXT, tmp_path)
    handle = streams.handle

    def forgetful(params: Any) -> dict[str, Any]:
        p = _plain(params)
        if p["op"] == "insert" and p["text"] == "v3=":
            streams.requests.append(p)
            return {"ok": False, "reason": "conflict", "message": "unknown generation"}
        return handle(params)

    streams.handle = forgetful  # type: ignore[method-assign]
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
        )
        summary = await editor.summary(uri)
    finally:
        held.set()
    assert "kept changing" in summary["error"], summary
    assert [r.get("text") for r in streams.requests].count("v3=") == 1, streams.requests
    assert summary["chunks"] == 3, summary  # v0 to v2: the model was held meanwhile


async def test_stream_edits_a_line_being_typed_at_the_point_before_the_first_text_goes_below_it(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """`begin` was answered; the user starts a line at the insertion point before the model's
    first text comes: the empty region's point moves past it, and the first generated line
    would be joined to its end (`# prv0=0`). The code goes above that line instead (`settle`,
    as VS Code did already; the test client before stop 38 and Neovim glued it). (The first
    text is always a whole line: the model's first line is held until it is whole, in case
    it opens a code fence.)"""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    held = threading.Event()
    fake_openai.enqueue(pieces=["v0=0\n", "v1=1\n"], hold_after_first=held)
    uri = editor.open("typed_first.py", START_TEXT, tmp_path)
    typed: list[int] = []

    def type_first(p: dict[str, Any]) -> None:
        end = streams.end_of(uri)
        if p["op"] == "insert" and not typed and end is not None:
            typed.append(end)
            pos = editor.docs[uri].text.position(end)
            editor.type(uri, pos.line, pos.character, "# pr")

    streams.before_op = type_first
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: typed, "the user's text")
        await asyncio.sleep(0.5)  # twice PARTIAL_LINE_WAIT_S
        assert "v0=# pr" not in editor.docs[uri].source, editor.docs[uri].source
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == "start = 0\nv0=0\nv1=1\n# pr\nend = 1\n"


async def test_stream_edits_an_answer_sent_before_its_didchange_is_read_when_it_arrives(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """A client whose answer overtakes the didChange of the version it names (VS Code sends it
    anyway when that didChange is late): the server reads the range once the didChange is
    there, and the generation goes on, instead of losing track of the text."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    script = "".join(f"{ln}\n" for ln in CODE[:25])
    fake_openai.enqueue(text=script, chunk_chars=4, delay=0.005)
    uri = editor.open("late_change.py", START_TEXT, tmp_path)
    client = editor.client
    send = client.text_document_did_change
    late: list[Any] = []

    def late_once(p: dict[str, Any]) -> None:
        if p["op"] == "insert" and not late:
            loop = asyncio.get_running_loop()

            def defer(params: Any) -> None:
                late.append(params)
                client.text_document_did_change = send  # type: ignore[method-assign]
                loop.call_later(0.3, send, params)

            client.text_document_did_change = defer  # type: ignore[method-assign]

    streams.before_op = late_once
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert late, "no didChange was held back"
    assert summary["error"] is None, summary
    lines = editor.docs[uri].source.split("\n")
    assert lines == ["start = 0", *script.splitlines(), "", "end = 1", ""], lines


async def test_stream_edits_an_error_keeps_the_code_up_to_it_in_one_end(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    fake_openai.enqueue(text="a = 1\nb = a / 0\n" + SCRIPT, chunk_chars=40, delay=0.005)
    uri = editor.open("err.py", "x = 5\nprint(x)", tmp_path)
    # a point inside a line: continues on a new line below it, opened with `after`
    await editor.command(
        methods.GENERATE, uri=uri, prompt="divide", position={"line": 0, "character": 2}
    )
    summary = await editor.summary(uri)
    assert summary["error"] == "ZeroDivisionError: division by zero"
    assert editor.docs[uri].source == "x = 5\na = 1\nb = a / 0\nprint(x)"
    begin = streams.requests[0]
    assert begin["op"] == "begin" and begin["position"] == {"line": 1, "character": 0}
    # what `end` asks for is told at `begin` too (an unfinished line the client drops on
    # "edited" takes the opened line break with it, docs/protocol.md)
    assert begin.get("trimTrailing") is True, begin
    assert streams.requests[-1]["op"] == "end"
    assert streams.requests[-1].get("trimTrailing") is True, streams.requests[-1]


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
async def test_stream_edits_code_at_the_end_of_a_line_leaves_no_blank_line_in_either_eol(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path, eol: str
) -> None:
    """At the end of `x = 1`, the code goes on a line opened after it, and that line's own
    line break follows the code: `end` takes the one the code no longer needs, in a CRLF
    document as in an LF one (the "\r" counted as text left a blank line there); the line's
    result stays on it."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    fake_openai.enqueue(text="a = 6 * 7\nb = a + 1\n", chunk_chars=40, delay=0.005)
    uri = editor.open("eol.py", eol.join(["x = 1", "y = 2", ""]), tmp_path)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="more", position={"line": 0, "character": 5}
    )
    summary = await editor.summary(uri)
    assert summary["error"] is None, summary
    assert editor.docs[uri].source == eol.join(["x = 1", "a = 6 * 7", "b = a + 1", "y = 2", ""])
    assert streams.requests[0].get("trimTrailing") is True, streams.requests[0]
    assert streams.requests[-1].get("trimTrailing") is True, streams.requests[-1]
    assert streams.requests[-1].get("complete") is True, streams.requests[-1]  # text ended whole
    labels = await editor.wait_hints(uri, lambda h: 0 in h and 2 in h)
    assert labels[0] == "x = 1" and labels[2] == "b = 43", labels


async def test_stream_edits_stop_removes_an_unfinished_last_line(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    # one long last line that never ends: written as a partial line after a while
    fake_openai.enqueue(text="a = 1\nb = 2\n" + "c = [" + "1, " * 400, chunk_chars=3, delay=0.01)
    uri = editor.open("partial.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="p")
    await editor.wait_for(lambda: "c = [1, 1" in editor.docs[uri].source, "a partial line")
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True
    assert editor.docs[uri].source == "a = 1\nb = 2\n"  # the unfinished line was removed
    assert "trimTrailing" not in streams.requests[0], streams.requests[0]  # nothing opened
    end = streams.requests[-1]
    assert end["op"] == "end" and "complete" not in end, end  # stopped: its last line is cut


async def test_stream_edits_a_stop_after_the_stream_ended_does_not_call_the_cut_line_complete(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The stream ended whole, but the code still runs when the user stops: the last line,
    written without a line break, never runs and is cut (`keepLines`); `end` does not say
    `complete`, so a client that found the text edited drops it too (a reviewing helper)."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    fake_openai.enqueue(text="import time\ntime.sleep(3)\nx = 1", chunk_chars=40, delay=0.005)
    uri = editor.open("cut.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="p")
    await editor.wait_for(lambda: editor.docs[uri].source.endswith("x = 1"), "the last line")
    assert (await editor.command(methods.STOP, uri=uri))["stopped"] is True
    await editor.summary(uri)
    end = streams.requests[-1]
    assert end["op"] == "end" and end.get("keepLines") == 2 and "complete" not in end, end
    assert editor.docs[uri].source == "import time\ntime.sleep(3)\n"


async def test_stream_edits_an_error_from_a_statement_never_written_shows_nowhere(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The model stalls in the middle of `e = d - 100` (`e = d` is written) and the user edits
    above it; the model goes on, `e = d - 100` runs and raises, and the client refuses the
    rest ("edited"). The statement's text never reached the document, so its error shows
    nowhere: it sat on line 4, a blank or a user's line (a user tour, both editors)."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    held = threading.Event()
    fake_openai.enqueue(
        pieces=["a = 1\nb = 2\ne = d", " - 100\nf = e\n"], delay=0.01, hold_after_first=held
    )
    uri = editor.open("err_unwritten.py", "# top\n\n# end\n", tmp_path)
    try:
        await editor.command(
            methods.GENERATE, uri=uri, prompt="p", position={"line": 1, "character": 0}
        )
        await editor.wait_for(lambda: "e = d" in editor.docs[uri].source, "the partial line")
        editor.replace(uri, (1, 0), (1, 5), "a = 10")  # inside the generated text, above
    finally:
        held.set()
    summary = await editor.summary(uri)
    assert summary["stoppedEarly"] is True, summary
    assert editor.docs[uri].source.startswith("# top\na = 10\nb = 2\ne = d"), editor.docs[uri]
    await editor.settle(uri)
    diagnostics = editor.latest_diagnostics(uri)
    assert diagnostics is None or not diagnostics.diagnostics, diagnostics
    labels = await editor.hint_labels(uri)
    assert not any("NameError" in label for label in labels.values()), labels


async def test_stream_edits_an_error_on_a_last_line_without_a_line_break_calls_it_complete(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The stream ends whole with `e = d` (no line break), which runs and raises: the error
    keeps the code up to that line, all of it, so `end` says `complete` (without it a client
    that found the text edited removed the failing line and left its error on a blank one)."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    fake_openai.enqueue(text="a = 1\nb = 2\ne = d", chunk_chars=40, delay=0.005)
    uri = editor.open("last_error.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="p")
    summary = await editor.summary(uri)
    assert "NameError" in (summary["error"] or ""), summary
    end = streams.requests[-1]
    assert end["op"] == "end" and end.get("complete") is True and "keepLines" not in end, end


async def test_stream_edits_a_malformed_answer_stops_cleanly_naming_the_field(
    stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The answer is read with its definition (payloads.StreamEditResult): a wrong field
    stops the generation with a message that names it, and the server goes on working."""
    editor: Editor = stream_client.editor  # type: ignore[attr-defined]
    streams: StreamEdits = stream_client.streams  # type: ignore[attr-defined]
    handle = streams.handle

    def mangled(params: Any) -> dict[str, Any]:
        answer = handle(params)
        if streams.requests[-1]["op"] == "insert":
            answer["version"] = str(answer.get("version"))
        return answer

    streams.handle = mangled  # type: ignore[method-assign]
    fake_openai.enqueue(text="a = 1\nb = 2\n", chunk_chars=40, delay=0.005)
    uri = editor.open("bad.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri, prompt="two names")
    summary = await editor.summary(uri)
    assert "StreamEditResult.version: expected integer, got a string" in summary["error"]
    streams.handle = handle  # type: ignore[method-assign]
    fake_openai.enqueue(text="c = 3\n", chunk_chars=40, delay=0.005)
    uri2 = editor.open("good.py", "", tmp_path)
    await editor.command(methods.GENERATE, uri=uri2, prompt="one name")
    summary = await editor.summary(uri2)
    assert summary["error"] is None
    assert editor.docs[uri2].source == "c = 3\n"


# -- an editor that answers late ---------------------------------------------------------------------


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "eager_lsp", "serve"],
        client_factory=_client_factory,
        server_env={**_server_env(), "EAGER_LSP_EDIT_TIMEOUT": "3"},
    ),
)
async def slow_stream_client(lsp_client: LanguageClient, fake_openai: Any, tmp_path: Path):
    """A stream-edit client whose answers to chosen requests come late (`delay_seq`), with the
    server's wait for an answer cut to 3 s (EAGER_LSP_EDIT_TIMEOUT; 1 s was short for the other
    edits on a loaded host: the client shares its process with the model server)."""
    streams = StreamEdits(lsp_client.editor)  # type: ignore[attr-defined]
    late: dict[str, Any] = {"seq": None, "answered": []}

    async def stream_edit(params: Any) -> dict[str, Any]:
        p = _plain(params)
        answer = streams.handle(params)
        if p["op"] == "insert" and p["seq"] == late["seq"]:
            await asyncio.sleep(6.0)  # past the server's 3 s: it stops waiting, then this arrives
            late["answered"].append(p["seq"])
        return answer

    lsp_client.late = late  # type: ignore[attr-defined]
    await _stream_session(lsp_client, fake_openai, tmp_path, streams, stream_edit)
    yield
    await shut_down(lsp_client)


async def test_an_answer_after_the_server_stopped_waiting_is_no_server_error(
    slow_stream_client: LanguageClient, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The editor answers an insert after the server gave up on it. The generation ends with
    a clear error and keeps the text written; the late answer is dropped quietly (it used to hit
    a cancelled request: pygls's InvalidStateError, shown as "Error in server: CANCELLED"); the
    server goes on serving the next generation."""
    editor: Editor = slow_stream_client.editor  # type: ignore[attr-defined]
    late: dict[str, Any] = slow_stream_client.late  # type: ignore[attr-defined]
    late["seq"] = 2
    script = "".join(f"{ln}\n" for ln in CODE[:40])
    fake_openai.enqueue(text=script, chunk_chars=4, delay=0.01)
    uri = editor.open("late.py", START_TEXT, tmp_path)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="numbers", position={"line": 1, "character": 0}
    )
    summary = await editor.summary(uri)
    assert "no answer in 3 s" in (summary["error"] or ""), summary
    await editor.wait_for(lambda: late["answered"] == [2], "the late answer")
    # The next generation, on another document, after the late answer reached the server.
    late["seq"] = None
    fake_openai.enqueue(text=script, chunk_chars=4, delay=0.005)
    other = editor.open("after.py", START_TEXT, tmp_path)
    await editor.command(
        methods.GENERATE, uri=other, prompt="numbers", position={"line": 1, "character": 0}
    )
    assert (await editor.summary(other))["error"] is None
    assert editor.docs[other].source == "start = 0\n" + script + "\nend = 1\n"
    written = editor.docs[uri].source.split("\n")
    assert written[0] == "start = 0" and "end = 1" in written  # nothing lost or overwritten
    shown = editor.messages()
    assert not [m for m in shown if "CANCELLED" in m or "Error in server" in m], shown


async def test_an_edit_across_the_point_while_the_code_above_runs_runs_nothing_generated(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    """The code above the point runs first (1.5 s here); the user deletes across the point
    meanwhile, so nothing can be written: the generated code does not run either (the
    server before stop 38 started the model and ran every statement, then removed them
    again as "ran but were not written")."""
    uri = editor.open("above.py", "import time\ntime.sleep(1.5)\n\nend = 1\n", tmp_path)
    fake_openai.enqueue(pieces=["x = 1\n", "y = 2\n", "z = 3\n"], delay=0.05)
    await editor.command(
        methods.GENERATE, uri=uri, prompt="go", position={"line": 2, "character": 0}
    )
    await asyncio.sleep(0.7)  # the code above is running
    editor.replace(uri, (1, 5), (3, 3), "")  # from inside line 2 to inside `end = 1`
    summary = await editor.summary(uri)
    assert summary["error"] is not None, summary
    assert summary["chunks"] == 0, summary
    assert "x = 1" not in editor.docs[uri].source
