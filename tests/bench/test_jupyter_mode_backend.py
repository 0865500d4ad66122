"""The benchmarks' `jupyter` mode runs on the product's kernel backend (executors/kernel.py),
not on a driver of its own: the mode's interpreter source starts a `KernelExecutor`, a real
ipykernel runs the chunk, and no benchmark module talks to jupyter_client itself."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from eager_lsp.bench import modes
from eager_lsp.bench.kernel_roundtrip import start_kernel
from eager_lsp.executors.kernel import KernelExecutor

pytestmark = pytest.mark.slow

BENCH = Path(modes.__file__).resolve().parent


async def test_the_jupyter_mode_starts_the_product_kernel_backend(tmp_path: Path) -> None:
    assert modes.JUPYTER.backend == "kernel"
    kernel = await start_kernel(str(tmp_path))
    try:
        assert isinstance(kernel, KernelExecutor)
        events = await kernel.execute(
            [
                {
                    "id": 0,
                    "code": "x = 6 * 7\n",
                    "path": str(tmp_path / "bench.py"),
                    "first_line": 1,
                    "names": ["x"],
                    "trailing_expr": False,
                    "image_dir": "",
                }
            ],
            stop_on_error=True,
        )
    finally:
        await kernel.shutdown()
    results = [e for e in events if e["ev"] == "result"]
    assert results and results[0]["ok"], events


def test_no_benchmark_module_drives_a_kernel_itself() -> None:
    offenders = [
        p.name
        for p in sorted(BENCH.glob("*.py"))
        if "jupyter_client" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
