"""The worker's memory limit (issue 9, part 5): going over it is a MemoryError on the failing
line, with real allocations, and the interpreter goes on; never an unexplained SIGKILL."""

from __future__ import annotations

from pathlib import Path

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions, describe_exit
from eager_lsp.executors.worker.memory import EXIT_MEMORY
from eager_lsp.limits import default_memory_limit_mb, machine_memory_mb
from tests.worker.helpers import run1

ALLOCATE = "x = 1\nblob = bytearray(400 * 1024 * 1024)\nafter = 2\n"


async def test_allocation_over_the_limit_fails_on_its_line(tmp_path: Path) -> None:
    worker = await WorkerClient.start(
        WorkerOptions(debug=False, cwd=str(tmp_path), memory_limit_mb=200)
    )
    try:
        result = await run1(worker, ALLOCATE)
        err = result["error"]
        assert err["type"] == "MemoryError"
        assert err["line"] == 2
        assert err["message"] == "memory limit reached (200 MB)"
        # the same interpreter, with its state, runs the next chunk
        nxt = await run1(worker, "y = x + 1\nprint(y)\n")
        assert nxt["ok"] and nxt["stdout"] == "2\n"
        # threads still start (their stacks count towards the limit)
        threads = (
            "import threading\nts = [threading.Thread(target=len, args=('',)) for _ in range(8)]\n"
        )
        threads += "[t.start() for t in ts]\n[t.join() for t in ts]\n"
        assert (await run1(worker, threads))["ok"]
        assert worker.alive
    finally:
        await worker.shutdown()


async def test_without_a_limit_the_same_allocation_works(tmp_path: Path) -> None:
    worker = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        result = await run1(worker, ALLOCATE)
        assert result["ok"], result["error"]
    finally:
        await worker.shutdown()


def test_default_limit_is_half_the_machine() -> None:
    total = machine_memory_mb()
    assert total > 0
    assert default_memory_limit_mb() == total // 2
    assert describe_exit(EXIT_MEMORY, 512) == "memory limit reached (512 MB)"


def test_memory_limit_setting_is_parsed_with_its_default_and_minimum() -> None:
    from eager_lsp.lsp.config import parse_settings

    settings, problems = parse_settings({})
    assert settings.execution.memory_limit_mb == default_memory_limit_mb() and problems == []
    settings, problems = parse_settings({"execution": {"memoryLimitMB": 300}})
    assert settings.execution.memory_limit_mb == 300 and problems == []
    settings, problems = parse_settings({"execution": {"memoryLimitMB": 0}})
    assert settings.execution.memory_limit_mb == 0 and problems == []
    for bad in (5, -1, "lots"):
        settings, problems = parse_settings({"execution": {"memoryLimitMB": bad}})
        assert settings.execution.memory_limit_mb == default_memory_limit_mb()
        assert problems and "memoryLimitMB" in problems[0]


async def test_numpy_allocation_over_the_limit_fails_on_its_line(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    worker = await WorkerClient.start(
        WorkerOptions(debug=False, cwd=str(tmp_path), memory_limit_mb=300)
    )
    try:
        code = "import numpy as np\nsmall = np.ones(1000)\nbig = np.ones(100_000_000)\n"
        err = (await run1(worker, code))["error"]
        assert err["type"] == "MemoryError" and err["line"] == 3
        assert "Unable to allocate" in err["message"]
        assert (await run1(worker, "total = float(small.sum())\n", names=["total"]))["ok"]
    finally:
        await worker.shutdown()
