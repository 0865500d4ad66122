"""Rich output: matplotlib figures and `_repr_png_` images as PNG files, data frames as tables.

Stdlib only, like the rest of the worker. Nothing here imports matplotlib or pandas: figures are
captured only when user code has already imported `matplotlib.pyplot` (the worker runs with
MPLBACKEND=Agg, so nothing opens a window), and tables are read by duck typing from objects
whose class has `columns`, `head` and a 2-D `shape`. Every image is bounded (pixels per side,
bytes, images per chunk) and written with O_EXCL into the directory the parent named per chunk
(its session's private temp directory); the result carries only the path, so neither the
worker pipe nor the editor's messages carry image bytes. Each captured figure is closed, so the
next chunk starts with none.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from typing import Any

from .deadline import ReprTimeout, deadline

MAX_IMAGES = 4  # per chunk
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_SIDE_PX = 1600
DPI = 100
IMAGE_DEADLINE_S = 3.0  # one savefig / _repr_png_
TABLE_ROWS = 10
TABLE_COLS = 12
TABLE_CELL = 30

_serial = itertools.count(1)


def _write(image_dir: str, data: bytes, label: str) -> dict[str, Any] | None:
    if not data or len(data) > MAX_IMAGE_BYTES:
        return None
    name = f"{os.getpid()}-{next(_serial)}.png"
    path = os.path.join(image_dir, name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError:
        return None
    return {"path": path, "label": label, "size": len(data)}


def capture_figures(image_dir: str | None) -> list[dict[str, Any]]:
    """Save every open pyplot figure as a PNG (bounded) and close it."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    try:
        numbers = list(plt.get_fignums())
    except Exception:
        return []
    images: list[dict[str, Any]] = []
    for num in numbers:
        try:
            fig = plt.figure(num)
            if image_dir is not None and len(images) < MAX_IMAGES:
                width, height = fig.get_size_inches()
                dpi = min(float(DPI), MAX_SIDE_PX / max(float(width), float(height), 0.01))
                buf = io.BytesIO()
                with deadline(IMAGE_DEADLINE_S):
                    fig.savefig(buf, format="png", dpi=dpi)
                image = _write(image_dir, buf.getvalue(), f"figure {num}")
                if image is not None:
                    images.append(image)
        except (Exception, ReprTimeout):
            pass
        finally:
            try:
                plt.close(num)
            except Exception:
                pass
    return images


def repr_png(obj: Any, label: str, image_dir: str | None) -> dict[str, Any] | None:
    """`obj._repr_png_()` as an image, when its class defines it (read from the class, so an
    instance `__getattr__` is never consulted) and it answers quickly with bounded bytes."""
    if image_dir is None or isinstance(obj, type):
        return None
    method = getattr(type(obj), "_repr_png_", None)
    if not callable(method):
        return None
    try:
        with deadline(IMAGE_DEADLINE_S):
            data = method(obj)
    except (Exception, ReprTimeout):
        return None
    if isinstance(data, tuple) and data:  # IPython allows (data, metadata)
        data = data[0]
    if not isinstance(data, (bytes, bytearray)) or not bytes(data[:8]).startswith(b"\x89PNG"):
        return None
    return _write(image_dir, bytes(data), label)


def _cell(value: Any) -> str:
    try:
        text = str(value)
    except Exception:
        text = "?"
    text = " ".join(text.split())
    if len(text) > TABLE_CELL:
        text = text[: TABLE_CELL - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|") or " "


def table(obj: Any) -> str:
    """A Markdown table of a data frame's head (pandas-like: `head(n).to_dict("split")`), or
    "" for anything else. Called inside the repr deadline."""
    cls = type(obj)
    if isinstance(obj, type) or getattr(cls, "columns", None) is None:
        return ""
    if not callable(getattr(cls, "head", None)):
        return ""
    try:
        shape = tuple(int(n) for n in obj.shape)
        if len(shape) != 2:
            return ""
        split = obj.head(TABLE_ROWS).to_dict("split")
        columns = list(split["columns"])
        index = list(split.get("index") or range(len(split["data"])))
        data = [list(row) for row in split["data"]]
    except Exception:
        return ""
    shown = columns[:TABLE_COLS]
    header = ["", *(_cell(c) for c in shown)]
    if len(columns) > TABLE_COLS:
        header.append("…")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(data):  # (no zip(strict=): the worker runs on Python 3.8 too)
        idx = index[i] if i < len(index) else i
        cells = [_cell(idx), *(_cell(v) for v in row[:TABLE_COLS])]
        if len(columns) > TABLE_COLS:
            cells.append("…")
        lines.append("| " + " | ".join(cells) + " |")
    if shape[0] > len(data):
        lines.append("")
        lines.append(f"first {len(data)} of {shape[0]} rows")
    return "\n".join(lines)
