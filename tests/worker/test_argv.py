"""The code's `sys.argv`, through a real worker: `[path]` for a document (a language server's),
the request's `argv` when it carries one (`eager-lsp run a.py x y`, as `python a.py x y`)."""

from __future__ import annotations

import ast

from eager_lsp.executors.worker.client import WorkerClient
from tests.worker.helpers import DOC, chunk


async def _argv_seen(worker: WorkerClient, **extra: object) -> list[str]:
    request = {**chunk("import sys\nseen = list(sys.argv)\n", names=["seen"]), **extra}
    [result] = await worker.execute([request], stop_on_error=True)  # type: ignore[list-item]
    assert result["ok"], result["error"]
    [value] = result["values"]
    return list(ast.literal_eval(value["repr"]))


async def test_a_document_without_argv_sees_its_path(worker: WorkerClient) -> None:
    assert await _argv_seen(worker) == [DOC]


async def test_the_requests_argv_is_the_codes_sys_argv(worker: WorkerClient) -> None:
    argv = ["s.py", "a", "--rate", "0", "--", "ü b"]
    assert await _argv_seen(worker, argv=argv) == argv


async def test_the_code_may_change_its_argv_and_later_statements_keep_that(
    worker: WorkerClient,
) -> None:
    """Set when the document is entered, as `python` sets it once: a statement that edits
    `sys.argv` (argparse tests do) is not undone by the next one."""
    first = {**chunk("import sys\nsys.argv[1:] = ['--version']\n"), "argv": ["s.py", "x"]}
    [result] = await worker.execute([first], stop_on_error=True)  # type: ignore[list-item]
    assert result["ok"], result["error"]
    assert await _argv_seen(worker, argv=["s.py", "x"]) == ["s.py", "--version"]


async def test_statements_run_side_by_side_see_the_argv_too(worker: WorkerClient) -> None:
    """Gate `parallel`: the worker's threads enter the document as the main thread does."""
    request = {
        **chunk("import sys\nseen = list(sys.argv)\n", names=["seen"]),
        "argv": ["-", "a", "b"],
        "after": [],
        "exclusive": False,
        "speculative": False,
    }
    [result] = await worker.execute_parallel(
        [request],  # type: ignore[list-item]
        run=1,
        stop_on_error=True,
    )
    assert result["ok"], result["error"]
    assert ast.literal_eval(result["values"][0]["repr"]) == ["-", "a", "b"]
