"""How one document's interpreter is set up: which backend, which Python, which gate.

Plain data, shared by the core (`core/interpreter.py`, `core/run.py`), the backends
(`eager_lsp.executors`, which turn it into their own options) and the edges that build it
from settings or arguments; it imports nothing outside the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eager_lsp.core.gate import GatePolicy


@dataclass(frozen=True)
class KernelTarget:
    """Which Jupyter kernel runs the code (backend "kernel"); exactly one way is set."""

    name: str | None = None  # a local kernelspec to start ("python3")
    connection_file: str | None = None  # an already running kernel: attach, never shut down
    url: str | None = None  # a Jupyter Server / Enterprise Gateway base URL
    token: str | None = field(default=None, repr=False)  # for `url`; never logged

    def describe(self) -> str:
        if self.connection_file:
            return f"kernel at {self.connection_file}"
        if self.url:
            return f"kernel {self.name or 'python3'} on {self.url}"
        return f"kernel {self.name or 'python3'}"


@dataclass
class InterpreterConfig:
    path: str = "<stream>"  # the document's real path: tracebacks and breakpoints use it
    cwd: str | None = None  # the interpreter's working directory (the workspace root)
    python: str | None = None  # interpreter for user code; None: the server's own
    debug: bool = True  # debugpy may be started (debug_listen) on 127.0.0.1; never before
    debug_listen: bool = False  # start it as soon as each interpreter starts (run --debug)
    gate: GatePolicy = field(default_factory=GatePolicy)
    stop_on_error: bool = True
    interrupt_grace_s: float = 2.0
    env_allow: tuple[str, ...] = ()  # variables passed to executed code although secret-like
    env_deny_patterns: tuple[str, ...] = ()  # more name patterns kept from executed code
    memory_limit_mb: int = 0  # the interpreter's memory limit (executors/worker/memory.py); 0: none
    backend: str = "worker"  # "worker" | "kernel" (eager_lsp.executors.backend.executor_source)
    kernel: KernelTarget | None = None  # with backend "kernel": which Jupyter kernel
