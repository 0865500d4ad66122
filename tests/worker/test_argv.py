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


async def test_the_servers_own_code_leaves_the_documents_argv_and_file_alone(
    worker: WorkerClient,
) -> None:
    """The statement that forgets names (core/rerun.py, path "<eager: forget names>") entered
    a document of that name: the next statement re-entered the real one, resetting the
    `sys.argv` the code had edited, and `__file__` read "<eager: forget names>" meanwhile."""
    from eager_lsp.core.rerun import FORGET_ID, forget_code

    first = {**chunk("import sys\nsys.argv[1:] = ['--version']\n"), "argv": ["s.py", "x"]}
    forget = {
        **chunk(forget_code(["nothing"]), path="<eager: forget names>"),
        "id": FORGET_ID,
    }
    seen = chunk("seen = (list(sys.argv), __file__)\n", names=["seen"])
    results = await worker.execute([first, forget, seen], stop_on_error=True)  # type: ignore[list-item]
    assert all(r["ok"] for r in results), results
    argv, file = ast.literal_eval(results[-1]["values"][0]["repr"])
    assert argv == ["s.py", "--version"]
    assert file == DOC
