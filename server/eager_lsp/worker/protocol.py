"""The one message schema between the parent and the worker interpreter.

Stdlib only, on purpose: this module is imported inside the worker, which may run in the
user's own interpreter. Messages are JSON objects, one per line, over the worker's stdin
(parent → worker) and a private pipe (worker → parent, fd passed as --result-fd). The
worker's own fd 1 and fd 2 never reach the parent's stdout.

Parent → worker ("op"):
  {"op": "exec", "batch": int, "stop_on_error": bool,
   "chunks": [{"id": int, "code": str, "path": str, "first_line": int, "names": [str],
               "trailing_expr": bool}]}
  {"op": "reset"}                       fresh namespace, same process
  {"op": "shutdown"}
  {"op": "ping", "id": int}
Interrupt is not a message: the parent sends SIGINT to the worker process.

Worker → parent ("ev"):
  {"ev": "ready", "pid": int, "python": str, "version": str, "debug_port": int | null,
   "debug_error": str | null}
  {"ev": "started", "id": int, "t": float}
  {"ev": "result", "id": int, "ok": bool, "values": [VALUE], "expr": VALUE | null,
   "stdout": str, "stderr": str, "error": ERROR | null, "t_start": float, "t_end": float}
  {"ev": "skipped", "id": int}          not run: an earlier chunk of the batch failed
  {"ev": "batch_done", "batch": int, "t": float}
  {"ev": "pong", "id": int}
  VALUE = {"name": str, "type": str, "repr": str, "summary": str}
  ERROR = {"type": str, "message": str, "line": int | null, "traceback": str,
           "frames": [{"path": str, "line": int, "function": str, "in_document": bool}]}
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1


def encode(message: dict[str, Any]) -> bytes:
    """One message as one UTF-8 JSON line (non-ASCII escaped so a line is always one line)."""
    return (json.dumps(message, ensure_ascii=True, separators=(",", ":")) + "\n").encode()


def decode(line: bytes | str) -> dict[str, Any]:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("protocol message is not an object")
    return obj
