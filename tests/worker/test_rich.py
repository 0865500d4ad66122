"""Rich output through a real worker: matplotlib figures and `_repr_png_` as bounded PNG files
in the chunk's image directory, data frames' heads as Markdown tables."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.executors.worker import rich
from eager_lsp.executors.worker.client import WorkerClient
from tests.worker.helpers import chunk, values


def _png_size(path: str) -> tuple[int, int]:
    data = Path(path).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def _run(worker: WorkerClient, code: str, image_dir: Path, **kw: Any) -> dict[str, Any]:
    c = chunk(code, **kw)
    c["image_dir"] = str(image_dir)
    [result] = await worker.execute([c], stop_on_error=True)
    return result


async def test_pyplot_figures_become_pngs_and_are_closed(
    worker: WorkerClient, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    images = tmp_path / "images"
    images.mkdir()
    r = await _run(
        worker,
        "import matplotlib.pyplot as plt\n"
        "import matplotlib\n"
        "backend = matplotlib.get_backend()\n"
        "plt.plot([1, 2, 3], [1, 4, 9])\n"
        "big = plt.figure(figsize=(40, 10))\n"
        "plt.show()\n",
        images,
        names=["backend"],
    )
    assert r["ok"], r["error"]
    assert values(r)["backend"]["repr"].lower() == "'agg'"  # MPLBACKEND=Agg: no window
    got = r["images"]
    assert [i["label"] for i in got] == ["figure 1", "figure 2"]
    for image in got:
        assert Path(image["path"]).parent == images
        assert os.stat(image["path"]).st_mode & 0o777 == 0o600
        assert image["size"] == os.path.getsize(image["path"]) <= rich.MAX_IMAGE_BYTES
    assert _png_size(got[0]["path"]) == (640, 480)  # 6.4 × 4.8 in at 100 dpi
    width, height = _png_size(got[1]["path"])
    assert max(width, height) <= rich.MAX_SIDE_PX and width > height  # scaled down

    # Captured figures were closed: the next chunk starts with none and sends none again.
    r2 = await _run(worker, "n = len(plt.get_fignums())\n", images, names=["n"])
    assert values(r2)["n"]["repr"] == "0" and r2["images"] == []


async def test_no_images_without_pyplot_or_without_a_directory(
    worker: WorkerClient, tmp_path: Path
) -> None:
    r = await _run(worker, "x = 1\n", tmp_path)
    assert r["images"] == []
    [r2] = await worker.execute(
        [chunk("import matplotlib.pyplot as plt\nplt.plot([1])\n")], stop_on_error=True
    )
    assert r2["ok"] and r2["images"] == []  # no image_dir: nothing written, figure closed
    assert list(tmp_path.iterdir()) == []


async def test_at_most_max_images_per_chunk(worker: WorkerClient, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    r = await _run(
        worker,
        "import matplotlib.pyplot as plt\nfor i in range(7):\n    plt.figure()\n",
        tmp_path,
    )
    assert len(r["images"]) == rich.MAX_IMAGES
    r2 = await _run(worker, "n = len(plt.get_fignums())\n", tmp_path, names=["n"])
    assert values(r2)["n"]["repr"] == "0"  # the ones not saved were closed too


async def test_repr_png_of_the_value_and_of_bound_names(
    worker: WorkerClient, tmp_path: Path
) -> None:
    png = (
        "PNG = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082')\n"
        "class Pic:\n"
        "    def _repr_png_(self):\n"
        "        return PNG\n"
        "class NotPng:\n"
        "    def _repr_png_(self):\n"
        "        return b'GIF89a'\n"
        "class Slow:\n"
        "    def _repr_png_(self):\n"
        "        while True: pass\n"
    )
    await _run(worker, png, tmp_path)
    r = await _run(
        worker,
        "p = Pic()\nq = NotPng()\ns = Slow()\nPic()\n",
        tmp_path,
        names=["p", "q", "s"],
        trailing_expr=True,
    )
    assert r["ok"], r["error"]
    assert [i["label"] for i in r["images"]] == ["value", "p"]
    assert all(_png_size(i["path"]) == (1, 1) for i in r["images"])


async def test_a_data_frame_value_has_its_head_as_a_table(
    worker: WorkerClient, tmp_path: Path
) -> None:
    pytest.importorskip("pandas")
    r = await _run(
        worker,
        "import pandas as pd\ndf = pd.DataFrame({'a': range(100), 'b|c': ['x' * 50] * 100})\n",
        tmp_path,
        names=["df"],
    )
    v = values(r)["df"]
    assert v["summary"] == "DataFrame 100×2"
    lines = v["table"].splitlines()
    assert lines[0] == "|  | a | b\\|c |"
    assert lines[1] == "|---|---|---|"
    assert lines[2] == "| 0 | 0 | " + "x" * 29 + "… |"
    assert len([ln for ln in lines if ln.startswith("| ")]) == 1 + rich.TABLE_ROWS
    assert lines[-1] == "first 10 of 100 rows"
    assert "table" not in values(await _run(worker, "n = [1]\n", tmp_path, names=["n"]))["n"]
