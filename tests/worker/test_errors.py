"""Errors in document terms: lines, frame order, syntax errors, stop_on_error, batching."""

from __future__ import annotations

import traceback
from typing import Any

from eager_lsp.executors.worker.client import WorkerClient
from eager_lsp.executors.worker.errors import error_info
from tests.worker.helpers import DOC, chunk, run1


async def test_error_line_with_first_line_offset(worker: WorkerClient) -> None:
    result = await run1(worker, "a = 1\nb = a / 0\nc = 3\n", first_line=40)
    assert not result["ok"]
    err = result["error"]
    assert err["type"] == "ZeroDivisionError"
    assert err["message"] == "division by zero"
    assert err["line"] == 41
    assert err["frames"] == [{"path": DOC, "line": 41, "function": "<module>", "in_document": True}]
    # unsaved buffer: the source line still shows, and no worker frame is left
    assert f'File "{DOC}", line 41, in <module>' in err["traceback"]
    assert "b = a / 0" in err["traceback"]
    assert "runner.py" not in err["traceback"]


async def test_frames_innermost_document_frame_first(worker: WorkerClient) -> None:
    define = chunk("import json\n\ndef parse(text):\n    return json.loads(text)\n", 3)
    call = chunk("x = 1\nparse('{oops')\n", 20)
    results = await worker.execute([define, call], stop_on_error=True)
    err = results[1]["error"]
    assert err["type"] == "JSONDecodeError"
    doc_frames = [f for f in err["frames"] if f["in_document"]]
    assert [(f["function"], f["line"]) for f in doc_frames] == [("parse", 6), ("<module>", 21)]
    assert err["frames"][0] == doc_frames[0]  # library frames come after
    assert err["line"] == 6
    lib = [f for f in err["frames"] if not f["in_document"]]
    assert lib and all("json" in f["path"] for f in lib)
    assert "return json.loads(text)" in err["traceback"]


async def test_syntax_error_line(worker: WorkerClient) -> None:
    result = await run1(worker, "x = 1\ny = (1,\n  2 +\n", first_line=10)
    assert result["error"]["type"] == "SyntaxError"
    assert result["error"]["line"] in (11, 12, 13)
    bad = await run1(worker, "x = 1\nx +* 2\n", first_line=7)
    assert bad["error"]["type"] == "SyntaxError"
    assert bad["error"]["line"] == 8
    assert bad["error"]["frames"][0]["line"] == 8


async def test_system_exit_is_an_error_not_an_exit(worker: WorkerClient) -> None:
    result = await run1(worker, "import sys\nsys.exit(4)\n")
    assert result["error"]["type"] == "SystemExit"
    assert worker.alive
    assert (await run1(worker, "2\n", trailing_expr=True))["expr"]["repr"] == "2"


async def test_stop_on_error_skips_rest(worker: WorkerClient) -> None:
    batch = [chunk("a = 1\n", 1), chunk("1 / 0\n", 2), chunk("c = 3\n", 3, ["c"])]
    results = await worker.execute(batch, stop_on_error=True)
    assert [r["ev"] for r in results] == ["result", "result", "skipped"]
    assert [r["id"] for r in results] == [c["id"] for c in batch]
    check = await run1(worker, "'c' in globals()\n", trailing_expr=True)
    assert check["expr"]["repr"] == "False"

    batch = [chunk("1 / 0\n", 2), chunk("c = 3\n", 3, ["c"])]
    results = await worker.execute(batch, stop_on_error=False)
    assert [r["ok"] for r in results] == [False, True]


async def test_one_request_per_batch(worker: WorkerClient) -> None:
    events: list[dict[str, Any]] = []
    batch = [chunk(f"v{i} = {i}\n", i + 1, [f"v{i}"]) for i in range(3)]
    results = await worker.execute(batch, stop_on_error=True, on_event=events.append)
    assert [r["values"][0]["repr"] for r in results] == ["0", "1", "2"]
    kinds = [(e["ev"], e["id"]) for e in events]
    ids = [c["id"] for c in batch]
    assert kinds == [(k, i) for i in ids for k in ("started", "result")]
    # timestamps from the worker: chunks ran one after another in a single request
    assert results[0]["t_end"] <= results[1]["t_start"] <= results[2]["t_start"]


async def test_reset_gives_fresh_namespace(worker: WorkerClient) -> None:
    await run1(worker, "kept = 1\n")
    await worker.reset()
    result = await run1(worker, "'kept' in globals(), __name__\n", trailing_expr=True)
    assert result["expr"]["repr"] == "(False, '__main__')"


async def test_namespace_is_main_with_document_file(worker: WorkerClient) -> None:
    result = await run1(worker, "__name__, __file__\n", trailing_expr=True)
    assert result["expr"]["repr"] == f"('__main__', '{DOC}')"


async def test_future_annotations_persist(worker: WorkerClient) -> None:
    await run1(worker, "from __future__ import annotations\n")
    result = await run1(
        worker, "def f(x: Undefined) -> None: pass\nf.__annotations__['x']\n", trailing_expr=True
    )
    assert result["ok"], result["error"]
    assert result["expr"]["repr"] == "'Undefined'"


async def test_source_lines_survive_linecache_checkcache(worker: WorkerClient) -> None:
    await run1(worker, "def h():\n    raise KeyError('gone')\n", first_line=1)
    await run1(worker, "import linecache\nlinecache.checkcache()\n", first_line=4)
    result = await run1(worker, "h()\n", first_line=7)
    assert "raise KeyError('gone')" in result["error"]["traceback"]
    assert "h()" in result["error"]["traceback"]


def test_a_traceback_without_worker_frames_is_cpythons_own() -> None:
    """`error_info` in this process (no worker frame at all in the traceback): the text is
    CPython's, every frame once, chained exceptions included (stripping the worker's frames
    once repeated every frame but the innermost here)."""
    code = "def f(x):\n    return 1 / x\ntry:\n    {}['k']\nexcept KeyError:\n    f(0)\n"
    try:
        exec(compile(code, DOC, "exec"), {})
    except ZeroDivisionError as exc:
        info = error_info(exc, DOC)
        expected = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert info["traceback"] == expected
    assert info["traceback"].count("test_errors.py") == 1
    assert [(f["function"], f["line"]) for f in info["frames"] if f["in_document"]] == [
        ("f", 2),
        ("<module>", 6),
    ]
