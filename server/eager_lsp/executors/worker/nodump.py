"""Make this process non-dumpable, so that code running as the same user cannot read it.

Executed code runs as the editor's user. On Linux any process of that user may open
`/proc/<pid>/environ` and `/proc/<pid>/mem` of any other process of that user that is
"dumpable" (the default), which would hand it the server's environment (API keys) and memory
(the API key from the settings, other documents), another worker's namespace, or the model
server's. `prctl(PR_SET_DUMPABLE, 0)` turns that off: the kernel then treats the process like
a setuid one (its /proc files belong to root, ptrace and process_vm_readv are refused, no core
dumps). Called at the start of the server/CLI (eager_lsp/entry.py, before its imports) and of
every worker, before any user code.

Costs, documented in docs/architecture.md: debuggers that attach with ptrace (gdb, py-spy)
need root; a non-root worker cannot open its *own* /proc/self/environ or /proc/self/mem
(maps, status, fd still work; os.environ is unaffected). The flag is reset by execve, so a
child program (the llama.cpp server) has to be protected another way (providers/local_server).

Stdlib only (the worker imports it), and a no-op where prctl does not exist.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def make_undumpable() -> bool:
    """True when the process is now non-dumpable; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):  # no libc symbol (musl static builds, exotic platforms)
        return False


def is_dumpable() -> bool | None:
    """The current flag (None where it cannot be read)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        value = libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        return None
    return None if value < 0 else bool(value)


def tracer_pid() -> int:
    """The pid tracing this process (0: none, or unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def make_undumpable_or_exit(what: str, code: int = 72) -> None:
    """`make_undumpable`, then leave if a tracer got in first.

    Between execve and the prctl, the process is dumpable: code of the same user (another
    document's statements) can PTRACE_SEIZE it in that gap, and a tracer that is attached stays
    attached after the prctl (it could then make the process dumpable again). Once the flag is
    off nobody new can attach, so one check after it closes the gap."""
    make_undumpable()
    tracer = tracer_pid()
    if tracer:
        sys.stderr.write(f"eager-lsp: {what} is being traced by pid {tracer} at start; refusing\n")
        sys.stderr.flush()
        import os

        os._exit(code)
