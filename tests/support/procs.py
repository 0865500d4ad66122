"""What another program on this machine sees of our processes: process trees, command lines
and listening TCP sockets, read from /proc (Linux; no psutil needed)."""

from __future__ import annotations

import os
import socket
import struct
import subprocess


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def descendants(root: int) -> list[int]:
    """Every live process below `root` (not `root` itself)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _ppid(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdlines_as_nobody(pids: list[int]) -> dict[int, str]:
    """The command lines as an unprivileged other user reads them (uid 65534 when we are
    root; ourselves otherwise): what `ps` shows everyone."""
    if not pids:
        return {}
    script = 'for p; do c=$(tr "\\0\\n" "  " < /proc/$p/cmdline) && printf "%s %s\\n" "$p" "$c"; done; true'
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    command = [*(prefix if os.getuid() == 0 else []), "/bin/sh", "-c", script, "sh"]
    out = subprocess.run(
        [*command, *map(str, pids)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    result = {}
    for line in out.splitlines():
        pid, _, text = line.partition(" ")
        result[int(pid)] = text
    return result


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _address(hex_address: str) -> tuple[str, int]:
    ip_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(ip_hex)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(ip_hex, 16)))
    else:  # four little-endian 32-bit words
        words = struct.unpack("<4I", raw)
        ip = socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))
    return ip, int(port_hex, 16)


def tcp_sockets(pids: list[int]) -> list[tuple[int, str, int, str]]:
    """(pid, local ip, local port, state) for every TCP socket one of `pids` holds; state is
    the kernel's hex code ("0A" listen, "01" established)."""
    found = []
    for pid in pids:
        inodes = _socket_inodes(pid)
        if not inodes:
            continue
        for table in ("tcp", "tcp6"):
            try:
                with open(f"/proc/{pid}/net/{table}") as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if int(fields[9]) in inodes:
                    ip, port = _address(fields[1])
                    found.append((pid, ip, port, fields[3]))
    return found


def listening_tcp(pids: list[int]) -> list[tuple[int, str, int]]:
    """(pid, ip, port) for every TCP socket in LISTEN state that one of `pids` holds."""
    return [(pid, ip, port) for pid, ip, port, state in tcp_sockets(pids) if state == "0A"]


def described(sockets: list[tuple[int, str, int, str]]) -> list[tuple[int, str, int, str, str]]:
    """The sockets with their process's command line, so a failure says who held them."""
    out = []
    for pid, ip, port, state in sockets:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")[:200]
        except OSError:
            cmdline = "(gone)"
        out.append((pid, ip, port, state, cmdline))
    return out
