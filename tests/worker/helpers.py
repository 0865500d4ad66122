"""Helpers shared by the worker tests."""

from __future__ import annotations

import itertools
from typing import Any

from eager_lsp.executors.worker.client import WorkerClient

DOC = "/work/eager-lsp-tests/not-on-disk/doc.py"  # an unsaved buffer: no such file
_ids = itertools.count(1)


def chunk(
    code: str,
    first_line: int = 1,
    names: list[str] | tuple[str, ...] = (),
    trailing_expr: bool = False,
    path: str = DOC,
) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "code": code,
        "path": path,
        "first_line": first_line,
        "names": list(names),
        "trailing_expr": trailing_expr,
    }


async def run1(worker: WorkerClient, code: str, **kwargs: Any) -> dict[str, Any]:
    [result] = await worker.execute([chunk(code, **kwargs)], stop_on_error=True)
    return result


def values(result: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {v["name"]: v for v in result["values"]}
