"""Only the user who runs the interpreter (or root) may attach to its debugger.

pydevd speaks DAP on a loopback TCP port with no authentication, and loopback is open to
every account on the machine: a reviewing helper, logged in as another user, attached to a
worker and ran `os.system` as the editor's user. DAP has no way to carry a secret, so what is
checked is who connects: as each connection is accepted, the peer's end is looked up in
/proc/net/tcp (or tcp6, for a client's dual-stack socket), whose `uid` column names the user
that owns it, and a connection from any other user, or whose other end is no longer an open
socket, is closed before a byte of it is read. Root may connect (root can ptrace the
worker anyway).

Linux only: other systems have no /proc/net/tcp, and there the port stays open to local
users as before (docs/configuration.md says so). On Linux a peer that cannot be found (the
table unreadable, the peer already gone) is refused.

Stdlib only, like the rest of the worker. The hook is pydevd's `create_server_socket`, which
its `_WaitForConnectionThread` calls for the in-process adapter's listening socket
(debugpy 1.8.x); `install` says whether it found it, and the worker refuses to listen when it
did not, rather than listen unchecked.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

PROC_NET_TCP = "/proc/net/tcp"
PROC_NET_TCP6 = "/proc/net/tcp6"  # a client's dual-stack socket (::ffff:127.0.0.1) is here
ESTABLISHED = "01"


def checks_owner() -> bool:
    """Whether connections can be checked here (Linux, with /proc/net/tcp)."""
    return sys.platform.startswith("linux") and os.path.exists(PROC_NET_TCP)


def _words(packed: bytes) -> str:
    """An address as /proc/net/tcp* prints it: 32-bit words in host byte order, in hex."""
    return "".join(
        f"{int.from_bytes(packed[i : i + 4], sys.byteorder):08X}" for i in range(0, len(packed), 4)
    )


def _endpoints(address: Any) -> tuple[str, str]:
    """`address` (IPv4) as tcp's and as tcp6's table writes it (IPv4-mapped)."""
    host, port = address[0], address[1]
    packed = socket.inet_aton(host)
    mapped = b"\0" * 10 + b"\xff\xff" + packed
    return f"{_words(packed)}:{port:04X}", f"{_words(mapped)}:{port:04X}"


def peer_uid(conn: socket.socket, tables: Any = (PROC_NET_TCP, PROC_NET_TCP6)) -> int | None:
    """The uid owning the other end of the loopback connection `conn`, if that end is an open
    socket (ESTABLISHED, with an inode); None if not found.

    An end whose socket was closed stays in the table without an owner (uid 0, inode 0, in
    FIN_WAIT or TIME_WAIT) while its data still waits in our buffer: read as root, it let
    another user's `initialize` in (a reviewing helper)."""
    try:
        theirs = _endpoints(conn.getpeername())
        ours = _endpoints(conn.getsockname())
    except (OSError, ValueError):
        return None
    for family, table in enumerate(tables):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)  # the header
                for row in f:
                    fields = row.split()
                    if len(fields) < 10 or fields[1] != theirs[family]:
                        continue
                    if fields[2] != ours[family]:
                        continue
                    if fields[3] != ESTABLISHED or fields[9] == "0":
                        return None
                    return int(fields[7])
        except (OSError, ValueError):
            continue
    return None


def allowed(conn: socket.socket) -> bool:
    uid = peer_uid(conn)
    if uid is not None and uid in (os.geteuid(), 0):
        return True
    who = "an unknown user" if uid is None else f"uid {uid}"
    try:  # (the worker's stderr reaches the server's log: why an attach found no debugger)
        sys.stderr.write(f"eager-lsp: refused a debugger connection from {who}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return False


class OwnerOnlySocket(socket.socket):
    """A listening socket whose `accept` hands over only connections from allowed users."""

    def accept(self) -> tuple[socket.socket, Any]:
        while True:
            conn, address = super().accept()
            if allowed(conn):
                return conn, address
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


def create_server_socket(host: str, port: int) -> socket.socket:
    """pydevd's `create_server_socket` (POSIX branch), with an OwnerOnlySocket."""
    server = OwnerOnlySocket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host, port))
        server.settimeout(None)
    except Exception:
        server.close()
        raise
    return server


def install(pydevd: Any) -> bool:
    """Make pydevd's listening socket an OwnerOnlySocket; False if pydevd has no such hook."""
    if not callable(getattr(pydevd, "create_server_socket", None)):
        return False
    pydevd.create_server_socket = create_server_socket
    return True
