"""The one place that picks an executor backend for an interpreter.

Rules: `executor_source(config)` is the only code that turns settings into a backend; callers
get an `ExecutorSource` (core/executor.py), or an `Interpreter` that owns one
(`open_interpreter`), and never name a backend class; the language server's documents share
sources through `SharedSources`. A backend's own options are made from the config here
(`worker_options`), so the core knows no backend. The core never imports this package:
backends depend on the core, not the other way round. The Jupyter kernel backend
(`executors/kernel.py`) imports jupyter_client only when a kernel is actually used (the
`kernel` extra).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eager_lsp.core.executor import Executor, ExecutorSource
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, Listener
from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from eager_lsp.executors.worker.pool import WorkerPool

if TYPE_CHECKING:
    from eager_lsp.executors.kernel import KernelExecutor, KernelSource

BACKENDS = ("worker", "kernel")

# mypy checks that the worker satisfies the interface (no cast anywhere).
_worker: type[Executor] = WorkerClient
_pool: type[ExecutorSource] = WorkerPool
if TYPE_CHECKING:  # the kernel module is only imported when a kernel is used
    _kernel: type[Executor] = KernelExecutor
    _kernels: type[ExecutorSource] = KernelSource


def worker_options(config: InterpreterConfig) -> WorkerOptions:
    """The worker backend's options for `config`."""
    return WorkerOptions(
        python=config.python,
        cwd=config.cwd or os.getcwd(),
        debug=config.debug,
        interrupt_grace_s=config.interrupt_grace_s,
        env_allow=config.env_allow,
        env_deny_patterns=config.env_deny_patterns,
        memory_limit_mb=config.memory_limit_mb,
    )


def executor_source(config: InterpreterConfig, spares: int = 1) -> ExecutorSource:
    """The source of interpreters for `config.backend` ("worker" or "kernel"); `spares`: warm
    workers kept ready for a restart (0 for one-shot CLI runs)."""
    if config.backend == "kernel":
        from eager_lsp.executors.kernel import KernelSource

        return KernelSource.for_config(config)
    if config.backend != "worker":
        raise ValueError(f"unknown execution backend {config.backend!r}; use one of {BACKENDS}")
    return WorkerPool(worker_options(config), spares=spares)


def open_interpreter(
    config: InterpreterConfig,
    *,
    spares: int = 1,
    listener: Listener | None = None,
    argv: Sequence[str] | None = None,
) -> Interpreter:
    """An interpreter with its own source of executors for `config.backend`, closed with it.
    `spares`: warm workers kept ready for a restart; a one-shot command (`eager-lsp run`)
    wants 0, or it starts a second interpreter it never uses and waits for it at exit.
    `argv`: the code's `sys.argv` (core/interpreter.py; None: [path]); ValueError over
    limits.ARGV_CAP, before anything starts (a source starts nothing until asked)."""
    return Interpreter(
        config,
        executor_source(config, spares=spares),
        listener=listener,
        own_pool=True,
        argv=argv,
    )


class SharedSources:
    """Sources for many interpreters at once (the language server's documents): the worker
    backend shares one warm-spare pool per set of worker options; a kernel source is made
    per interpreter (each document gets its own kernel, closed with it)."""

    def __init__(self) -> None:
        self._pools: dict[tuple[Any, ...], WorkerPool] = {}

    def source_for(self, config: InterpreterConfig) -> tuple[ExecutorSource, bool]:
        """The source for `config`, and whether the interpreter owns it (closes it)."""
        if config.backend != "worker":
            return executor_source(config), True
        options = worker_options(config)
        key = (
            options.python,
            options.cwd,
            options.debug,
            options.interrupt_grace_s,
            options.env_allow,
            options.env_deny_patterns,
            options.memory_limit_mb,
        )
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = WorkerPool(options)
        return pool, False

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(p.close() for p in pools), return_exceptions=True)
