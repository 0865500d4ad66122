"""The worker's memory limit (`execution.memoryLimitMB`), set by the worker on itself at start.

Why an rlimit inside the worker rather than nothing: without one, a chunk that allocates too
much makes the kernel's OOM killer SIGKILL the worker (or worse, the editor), an unexplained
death. With one, the allocation fails where it is made: user code gets a MemoryError on the
failing line, shown as an ordinary error, and the interpreter lives on.

RLIMIT_DATA, not RLIMIT_AS, on Linux: since Linux 4.7 it counts every private writable mapping
(the heap, anonymous mmaps such as numpy arrays and bytearrays, thread stacks), but not address
space that is only reserved (glibc's per-thread malloc arenas, the PROT_NONE regions some
runtimes reserve) nor mapped files and shared libraries, which make RLIMIT_AS fail long before
the memory is really used. Elsewhere RLIMIT_AS is the only portable choice. Child processes
inherit the limit. If the worker's own code runs out (say, while encoding a result), it exits
with EXIT_MEMORY and the parent reports "memory limit reached (N MB)" and starts a fresh one.
Stdlib only.
"""

from __future__ import annotations

import sys

EXIT_MEMORY = 71  # the worker ran out of memory in its own code
limit_mb = 0  # the limit set on this process (0: none)


def apply_memory_limit(mb: int) -> str | None:
    """Limit this process to about `mb` MiB of data; returns why it could not, or None."""
    global limit_mb
    if mb <= 0:
        return None
    try:
        import resource
    except ImportError:  # Windows
        return "memory limit not supported on this platform"
    which = resource.RLIMIT_DATA if sys.platform.startswith("linux") else resource.RLIMIT_AS
    try:
        _soft, hard = resource.getrlimit(which)
        limit = mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY and limit > hard:
            limit = hard
        # The hard limit too: executed code (not root) cannot lift it again.
        resource.setrlimit(which, (limit, limit))
    except (ValueError, OSError) as exc:
        return f"cannot set the memory limit: {exc}"
    limit_mb = mb
    return None


def memory_error_message() -> str:
    return f"memory limit reached ({limit_mb} MB)" if limit_mb else "out of memory"
