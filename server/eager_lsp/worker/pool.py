"""Warm spares: starting an interpreter takes a noticeable moment (imports, and a foreign
venv's site-packages; on Linux only the first worker of an interpreter pays it, the zygote's
start, later ones are forked from it: spawn.py), so keep one started ahead of time and hand it
out when a worker is needed (first use or restart). Spares never listen for a debugger."""

from __future__ import annotations

import asyncio
import contextlib

from .client import WorkerClient, WorkerOptions


class WorkerPool:
    """Keeps `spares` started workers ready so a restart is instant."""

    def __init__(self, options: WorkerOptions, spares: int = 1) -> None:
        self._options = options
        self._spares_wanted = max(0, spares)
        self._starting: list[asyncio.Task[WorkerClient]] = []
        self._closed = False

    def _refill(self) -> None:
        while not self._closed and len(self._starting) < self._spares_wanted:
            self._starting.append(asyncio.create_task(WorkerClient.start(self._options)))

    async def acquire(self) -> WorkerClient:
        """Take a spare (waiting for it if still starting, replacing it if it died or failed
        to start) and start its replacement in the background."""
        if self._closed:
            raise RuntimeError("pool is closed")
        if not self._starting:
            self._refill()
        if self._starting:
            task = self._starting.pop(0)
            self._refill()
            try:
                worker = await asyncio.shield(task)
            except asyncio.CancelledError:
                self._starting.insert(0, task)  # still a spare for the next caller
                raise
            except Exception:
                worker = None  # a failed spare: one direct start below says why
            if worker is not None and worker.alive:
                return worker
            if worker is not None:
                await worker.kill()
        worker = await WorkerClient.start(self._options)
        self._refill()
        return worker

    def warm(self) -> None:
        """Start the spares now (call once a loop is running)."""
        self._refill()

    async def close(self) -> None:
        """Kill the spares (workers handed out are the caller's to stop)."""
        self._closed = True
        tasks, self._starting = self._starting, []
        for task in tasks:  # not cancelled: a half-spawned process would be orphaned
            with contextlib.suppress(Exception):
                worker = await task
                await worker.kill()
