"""The worker's real messages follow the executor schema (core/executor.py), key for key.

The TypedDicts there are the one definition of what a backend sends per chunk; the worker
builds its messages by hand (it is stdlib only and imports nothing of the core), so this test
is what keeps the two from drifting: every key the worker sends is declared, with a value of
the declared type, and every required key is present.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, NotRequired, get_args, get_origin

from eager_lsp.core import executor as schema
from eager_lsp.executors.worker.client import WorkerClient

from .helpers import chunk

PNG = (
    "PNG = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082')\n"
    "class Pic:\n"
    "    def _repr_png_(self):\n"
    "        return PNG\n"
)


def _hints(tp: Any) -> dict[str, Any]:
    """A TypedDict's annotations, evaluated. The schema module imports NotRequired for type
    checkers only (Python 3.10 lacks it), so typing.get_type_hints cannot resolve them."""
    namespace = {**vars(schema), "NotRequired": NotRequired}
    out = {}
    for key, ann in tp.__annotations__.items():
        text = ann.__forward_arg__ if isinstance(ann, typing.ForwardRef) else ann
        out[key] = eval(text, namespace) if isinstance(text, str) else text
    return out


def _check(value: Any, tp: Any, where: str) -> None:
    """`value` has type `tp` (a TypedDict, list[...], X | None, Literal, or a plain class)."""
    origin = get_origin(tp)
    if origin is NotRequired:
        _check(value, get_args(tp)[0], where)
    elif typing.is_typeddict(tp):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        hints = _hints(tp)
        extra = set(value) - set(hints)
        assert not extra, f"{where}: keys {sorted(extra)} are not in {tp.__name__}"
        required = {k for k, h in hints.items() if get_origin(h) is not NotRequired}
        missing = required - set(value)
        assert not missing, f"{where}: {tp.__name__} requires {sorted(missing)}"
        for key, item in value.items():
            _check(item, hints[key], f"{where}.{key}")
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for i, item in enumerate(value):
            _check(item, get_args(tp)[0], f"{where}[{i}]")
    elif origin in (typing.Union, types.UnionType):
        errors = []
        for option in get_args(tp):
            try:
                _check(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: {value!r} matches none of {tp}: {errors}")
    elif origin is typing.Literal:
        assert value in get_args(tp), f"{where}: {value!r} not in {get_args(tp)}"
    elif tp is type(None):
        assert value is None, f"{where}: {value!r} is not null"
    elif tp is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    else:
        assert isinstance(value, tp) and not (tp is int and isinstance(value, bool)), (
            f"{where}: {value!r} is not {tp}"
        )


async def test_the_worker_speaks_the_executor_schema(worker: WorkerClient, tmp_path: Path) -> None:
    image_dir = tmp_path / "images"
    image_dir.mkdir()

    def req(code: str, line: int, names: list[str], expr: bool = False) -> dict[str, Any]:
        c = chunk(code, line, names, trailing_expr=expr)
        c["image_dir"] = str(image_dir)
        _check(c, schema.ChunkRequest, "request")
        return c

    batch = [
        req(PNG, 1, ["PNG"]),
        req("p = Pic()\nprint('out')\np\n", 7, ["p"], expr=True),
        req("def f(n):\n    return f(n - 1) if n else 1 / 0\n", 10, ["f"]),
        req("f(8)\n", 12, []),  # fails with frames, a repeated one collapsed
        req("never = 1\n", 13, ["never"]),  # skipped: stop_on_error
    ]
    events: list[Any] = []
    results = await worker.execute(batch, stop_on_error=True, on_event=events.append)
    kinds = [e["ev"] for e in events]
    assert kinds == ["started", "result"] * 4 + ["skipped"], kinds
    for event in events:
        _check(event, schema.ExecutorEvent, event["ev"])
    for result in results:
        _check(result, schema.ResultEvent | schema.SkippedEvent, "returned")
    ok = events[3]
    assert ok["ok"] and ok["images"] and ok["expr"] is not None, ok  # images and expr covered
    failed = events[7]
    assert any(f.get("repeated") for f in failed["error"]["frames"]), failed  # all keys covered
