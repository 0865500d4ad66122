"""The one place that picks an executor backend for an interpreter.

Rules: `executor_source(config)` is the only code that turns settings into a backend; callers
get an `ExecutorSource` (core/executor.py), or an `Interpreter` that owns one
(`open_interpreter`), and never name a backend class. The core never imports this package:
backends depend on the core, not the other way round. The Jupyter kernel backend
(`executors/kernel.py`) imports jupyter_client only when a kernel is actually used (the
`kernel` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eager_lsp.core.executor import Executor, ExecutorSource
from eager_lsp.core.interpreter import Interpreter, InterpreterConfig, Listener
from eager_lsp.executors.worker.client import WorkerClient
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


def executor_source(config: InterpreterConfig, spares: int = 1) -> ExecutorSource:
    """The source of interpreters for `config.backend` ("worker" or "kernel"); `spares`: warm
    workers kept ready for a restart (0 for one-shot CLI runs)."""
    if config.backend == "kernel":
        from eager_lsp.executors.kernel import KernelSource

        return KernelSource.for_config(config)
    if config.backend != "worker":
        raise ValueError(f"unknown execution backend {config.backend!r}; use one of {BACKENDS}")
    return WorkerPool(config.worker_options(), spares=spares)


def open_interpreter(
    config: InterpreterConfig, *, spares: int = 1, listener: Listener | None = None
) -> Interpreter:
    """An interpreter with its own source of executors for `config.backend`, closed with it.
    `spares`: warm workers kept ready for a restart; a one-shot command (`eager-lsp run`)
    wants 0, or it starts a second interpreter it never uses and waits for it at exit."""
    return Interpreter(
        config, executor_source(config, spares=spares), listener=listener, own_pool=True
    )
