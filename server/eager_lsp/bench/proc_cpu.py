"""CPU seconds of processes, read from Linux's /proc: what the benchmarks charge to the server
and to the interpreters below it. /proc counts in clock ticks (usually 10 ms), so a short
measurement reads a few ticks at most."""

from __future__ import annotations

import os


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a live process, else None (gone, or not Linux)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds_below(root: int) -> dict[int, float]:
    """CPU seconds so far of each live process below `root` (children, theirs, and so on)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out: dict[int, float] = {}
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        cpu = cpu_seconds(pid)
        if cpu is not None:
            out[pid] = cpu
    return out
