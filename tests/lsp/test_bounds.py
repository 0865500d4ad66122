"""Bounded payloads through the real server: a runaway traceback or output never becomes a
multi-megabyte message (issue 9, part 4); the longer text is there on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter

from eager_lsp import limits
from eager_lsp.lsp import methods
from tests.support.openai_server import FakeOpenAIServer

from .conftest import Editor

DEEP = """\
import sys
sys.setrecursionlimit(100000)
def down(n):
    return down(n + 1)
down(0)
"""

LOUD = """\
import sys
for i in range(200_000):
    print("line", i, "é" * 10)
sys.stderr.write("e" * 500_000)
"""


def wire_size(obj: object) -> int:
    data = default_converter().unstructure(obj)
    return len(json.dumps(data, separators=(",", ":")).encode())


async def test_deep_recursion_diagnostic_is_small(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("deep.py", DEEP, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"].startswith("RecursionError")

    params = await editor.settle(uri, lambda ds: len(ds) == 1)
    [diag] = params.diagnostics
    assert diag.range.start.line == 3  # `return down(n + 1)`
    related = diag.related_information or []
    assert len(related) <= limits.RELATED_CAP
    assert any("repeated" in r.message for r in related)
    assert wire_size(params) <= limits.DIAGNOSTICS_PAYLOAD_CAP

    [failed] = [r for r in editor.notes_for(methods.CHUNK_RESULT, uri) if not r["ok"]]
    assert len(json.dumps(failed).encode()) <= limits.PAYLOAD_CAP
    assert sum(f["repeated"] for f in failed["error"]["frames"]) > 50_000

    detail = await editor.command(methods.RESULT_DETAIL, uri=uri, line=3)
    assert detail["error"]["type"] == "RecursionError"
    assert "Previous line repeated" in detail["error"]["traceback"]
    assert len(json.dumps(detail).encode()) <= limits.DETAIL_CAP

    # the same publish again after a keystroke elsewhere: still small
    editor.type(uri, 0, 0, "# hi\n")
    params = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert wire_size(params) <= limits.DIAGNOSTICS_PAYLOAD_CAP


async def test_loud_chunk_result_is_capped(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("loud.py", LOUD, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.summary(uri)
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    loud = next(r for r in results if r["chunk"]["startLine"] == 1)
    assert len(json.dumps(loud).encode()) <= limits.PAYLOAD_CAP
    assert loud["truncated"] is True
    assert loud["stdout"].startswith("line 0 ")
    detail = await editor.command(methods.RESULT_DETAIL, uri=uri, line=1)
    assert len(detail["stdout"]) > len(loud["stdout"])
    assert len(json.dumps(detail).encode()) <= limits.DETAIL_CAP

    hints = await editor.hints(uri)
    assert all(wire_size(h) <= limits.PAYLOAD_CAP for h in hints)
    assert await editor.command(methods.RESULT_DETAIL, uri=uri, line=40) is None
    refused = await editor.command(methods.RESULT_DETAIL, uri=uri, line="x")
    assert refused["reason"] == "invalid"


async def test_a_prompt_longer_than_its_cap_is_refused_before_the_model_is_asked(
    editor: Editor, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    uri = editor.open("prompt.py", "", tmp_path)
    refused = await editor.command(methods.GENERATE, uri=uri, prompt="x" * (limits.PROMPT_CAP + 1))
    assert refused["started"] is False and refused["reason"] == "invalid"
    assert "at most" in refused["error"]
    assert fake_openai.chat_requests == []


def test_fit_json_bounds_any_shape() -> None:
    blob = {"a": "x" * 100_000, "b": [{"p": "y" * 50} for _ in range(10_000)], "c": 1}
    fitted = limits.fit_json(blob, 4096)
    assert limits.json_size(fitted) <= 4096
    assert set(fitted) == {"a", "b", "c"} and fitted["c"] == 1
    assert lsp  # the module is used by the other tests' types


ALLOCATE = "x = 1\nblob = bytearray(400 * 1024 * 1024)\ny = x + 1\n"


@pytest.mark.settings({"execution": {"memoryLimitMB": 200}})
async def test_memory_limit_is_an_error_on_the_line(editor: Editor, tmp_path: Path) -> None:
    uri = editor.open("mem.py", ALLOCATE, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"] == "MemoryError: memory limit reached (200 MB)"
    params = await editor.settle(uri, lambda ds: len(ds) == 1)
    assert params.diagnostics[0].range.start.line == 1
    # a smaller allocation on that line: the interpreter still runs everything
    editor.replace(uri, (1, 0), (1, len("blob = bytearray(400")), "blob = bytearray(4")
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri, count=2)
    assert summary["error"] is None, summary
    assert (await editor.hint_labels(uri))[2] == "y = 2"


def test_fit_text_bounds_escaped_size() -> None:
    text = "é" * 100_000 + "end"
    fitted = limits.fit_text(text, 8192)
    assert limits.json_size(fitted) <= 8192
    assert fitted.startswith("é") and fitted.endswith("end")
    assert limits.fit_text("short") == "short"


LOOP = """\
import os
os.symlink("lp", "lp")
def boom():
    exec(compile("1/0", os.path.abspath("lp/x.py"), "exec"))
boom()
"""


async def test_a_frame_path_that_is_a_symlink_loop_still_gets_its_diagnostic(
    editor: Editor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Executed code picks its frames' paths: the server used to resolve() them, which raised
    on a symlink loop, so no diagnostic of the document was ever published."""
    monkeypatch.chdir(tmp_path)
    uri = editor.open("loop.py", LOOP, tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    summary = await editor.summary(uri)
    assert summary["error"].startswith("ZeroDivisionError")
    params = await editor.settle(uri, lambda ds: len(ds) == 1)
    [diag] = params.diagnostics
    assert diag.range.start.line == 3  # the exec in boom()
    assert any(r.location.uri.endswith("/lp/x.py") for r in diag.related_information or [])
