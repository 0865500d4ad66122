"""Bounded, safe renderings of user values.

User objects are hostile by accident: a `__repr__` may raise, hang, or return megabytes; a
container may be huge or cyclic. So builtin containers are rendered by hand with length,
item and depth caps, arrays and data frames are summarised by duck typing (the worker never
imports numpy or pandas), and any user `__repr__` runs under a SIGALRM deadline on the main
thread.
"""

from __future__ import annotations

import collections
import types
from typing import Any

from eager_lsp.limits import ELLIPSIS, clip

from .deadline import ReprTimeout, deadline
from .rich import table

REPR_CAP = 1000
SUMMARY_CAP = 80
TABLE_CAP = 6000  # a data frame's head as Markdown (rich.table)
MAX_DEPTH = 3
MAX_ITEMS = 30
REPR_DEADLINE_S = 0.5


def type_name(obj: Any) -> str:
    try:
        return str(type(obj).__name__)
    except Exception:
        return "object"


def describe(name: str, obj: Any, timeout: float = REPR_DEADLINE_S) -> dict[str, str]:
    """The protocol's VALUE for one object: never raises, never takes much longer than
    `timeout`."""
    grid = ""
    try:
        if type(obj) in _PLAIN:  # rendered by us alone: nothing can hang
            text = _render(obj, MAX_DEPTH, REPR_CAP, set())
            summary = _summary(obj, text)
        else:
            with deadline(timeout):
                text = _render(obj, MAX_DEPTH, REPR_CAP, set())
                summary = _summary(obj, text)
                grid = table(obj)  # a data frame's head, as Markdown
    except ReprTimeout:
        text = summary = "<repr timed out>"
    except Exception as exc:  # a broken __repr__ / __len__ / property
        text = summary = clip(f"<repr failed: {type_name(exc)}: {_safe_str(exc)}>", REPR_CAP)
    out = {
        "name": name,
        "type": type_name(obj),
        "repr": clip(text, REPR_CAP),
        "summary": clip(summary, SUMMARY_CAP),
    }
    if grid:
        out["table"] = clip(grid, TABLE_CAP)
    return out


def _safe_str(exc: BaseException) -> str:
    try:
        return clip(str(exc), 200)
    except Exception:
        return "?"


_PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes})

_SEQUENCES: dict[type, tuple[str, str]] = {
    list: ("[", "]"),
    tuple: ("(", ")"),
    set: ("{", "}"),
    frozenset: ("frozenset({", "})"),
    collections.deque: ("deque([", "])"),
}


def _summary(obj: Any, text: str) -> str:
    shaped = _shaped_summary(obj)
    if shaped is not None:
        return shaped
    kind = type(obj)
    if kind in _SEQUENCES or kind is dict or isinstance(obj, (dict, list, tuple, set)):
        try:
            return f"{type_name(obj)}[{len(obj)}]"
        except Exception:
            pass
    first = text.splitlines()[0] if text else ""
    return first + (ELLIPSIS if "\n" in text and not first.endswith(ELLIPSIS) else "")


def _shaped_summary(obj: Any) -> str | None:
    """`DataFrame 1000×3`, `ndarray float64 (1000, 3)`: read from class-level attributes only,
    so an instance `__getattr__` is never consulted."""
    cls = type(obj)
    if isinstance(obj, type) or getattr(cls, "shape", None) is None:
        return None
    try:
        shape = tuple(int(n) for n in obj.shape)
    except Exception:
        return None
    if getattr(cls, "columns", None) is not None and len(shape) == 2:
        return f"{cls.__name__} {shape[0]}×{shape[1]}"
    if getattr(cls, "dtype", None) is not None:
        return f"{cls.__name__} {obj.dtype} {shape}"
    return None


def _render(obj: Any, depth: int, cap: int, seen: set[int]) -> str:
    kind = type(obj)
    if obj is None or kind in (bool, float, complex):
        return repr(obj)
    if kind is int:
        return repr(obj) if obj.bit_length() <= 3000 else f"<int with {obj.bit_length()} bits>"
    if kind is str:
        return _clip_string(obj, cap)
    if kind in (bytes, bytearray):
        return clip(repr(obj[: cap + 1]), cap)
    if isinstance(obj, types.ModuleType):
        return f"<module {obj.__name__}>"
    if isinstance(obj, type):
        return f"<class {obj.__qualname__}>"
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        label = "built-in function" if isinstance(obj, types.BuiltinFunctionType) else "function"
        return f"<{label} {obj.__qualname__}>"
    if isinstance(obj, types.MethodType):
        return f"<bound method {getattr(obj.__func__, '__qualname__', '?')}>"
    if kind in _SEQUENCES or kind is dict:
        return _render_container(obj, depth, cap, seen)
    shaped = _shaped_summary(obj)
    if shaped is not None:
        return clip(repr(obj), cap)  # numpy/pandas reprs summarise large data themselves
    if kind.__repr__ is object.__repr__ and isinstance(getattr(obj, "__dict__", None), dict):
        return _render_instance(obj, depth, cap, seen)
    return clip(repr(obj), cap)


def _clip_string(s: str, cap: int) -> str:
    if len(s) <= cap:
        return repr(s)
    return repr(s[:cap]) + f"{ELLIPSIS} ({len(s)} chars)"


def _render_container(obj: Any, depth: int, cap: int, seen: set[int]) -> str:
    if id(obj) in seen:
        return "[...]" if type(obj) is list else "{...}"
    if depth <= 0:
        return f"{type_name(obj)}[{len(obj)}]"
    if type(obj) is set and not obj:
        return "set()"
    seen.add(id(obj))
    try:
        is_dict = type(obj) is dict
        opener, closer = ("{", "}") if is_dict else _SEQUENCES[type(obj)]
        parts: list[str] = []
        used = len(opener) + len(closer)
        for i, element in enumerate(obj.items() if is_dict else obj):
            budget = cap - used
            if i >= MAX_ITEMS or budget <= 0:
                parts.append(f"{ELLIPSIS} {len(obj) - i} more")
                break
            if is_dict:
                key = _render(element[0], depth - 1, budget, seen)
                item = f"{key}: {_render(element[1], depth - 1, budget, seen)}"
            else:
                item = _render(element, depth - 1, budget, seen)
            parts.append(item)
            used += len(item) + 2
        body = ", ".join(parts)
        if type(obj) is tuple and len(obj) == 1:
            body += ","
        return opener + body + closer
    finally:
        seen.discard(id(obj))


def _render_instance(obj: Any, depth: int, cap: int, seen: set[int]) -> str:
    """`Point(x=1, y=2)` for plain instances instead of `<Point object at 0x...>`."""
    name = type(obj).__name__
    fields = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    if not fields:
        return f"<{name} object>"
    if id(obj) in seen or depth <= 0:
        return f"{name}(...)"
    seen.add(id(obj))
    try:
        parts: list[str] = []
        used = len(name) + 2
        for i, (key, value) in enumerate(fields.items()):
            if i >= MAX_ITEMS or used >= cap:
                parts.append(f"{ELLIPSIS} {len(fields) - i} more")
                break
            item = f"{key}={_render(value, depth - 1, cap - used, seen)}"
            parts.append(item)
            used += len(item) + 2
        return f"{name}({', '.join(parts)})"
    finally:
        seen.discard(id(obj))
