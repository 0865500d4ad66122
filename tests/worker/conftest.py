"""Real worker processes for the worker tests (no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions


@pytest.fixture
async def worker(tmp_path: Any) -> AsyncIterator[WorkerClient]:
    """A worker without debugpy (starts in ~0.1 s); debug-specific tests start their own."""
    client = await WorkerClient.start(WorkerOptions(debug=False, cwd=str(tmp_path)))
    try:
        yield client
    finally:
        await client.shutdown()
