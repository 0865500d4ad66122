"""The one message schema between the parent and the worker interpreter.

Stdlib only, on purpose: this module is imported inside the worker, which may run in the
user's own interpreter. Messages are JSON objects, one per line, over the worker's stdin
(parent → worker) and a private pipe (worker → parent, fd passed as --result-fd). The
worker's own fd 1 and fd 2 never reach the parent's stdout.

The chunks of an "exec" request and the per-chunk events it answers with ("started",
"output", "result", "skipped") are the executor schema, defined once as TypedDicts in
eager_lsp/core/executor.py (ChunkRequest, StartedEvent, OutputEvent, ResultEvent, SkippedEvent, with
WireValue, WireImage, WireError, WireFrame): every backend speaks it, the worker on this wire.
tests/worker/test_schema.py checks the worker's real messages against it. What is only this
wire's:

Parent → worker ("op"):
  {"op": "exec", "batch": int, "stop_on_error": bool, "chunks": [ChunkRequest]}
  {"op": "exec", "parallel": true, "run": int, "batch": int, "stop_on_error": bool,
   "chunks": [{...ChunkRequest, "after": [int], "exclusive": bool, "speculative": bool}]}
                                        gate parallel (parallel.py): returns at once;
                                        a speculative chunk starts on a thread once the
                                        chunks of its run named in "after" are done, any
                                        other once every earlier chunk of its run is
                                        committed; results are sent in document order; its
                                        events carry "batch"; "batch_done" when the last
                                        is committed
  {"op": "reset"}                       fresh namespace, same process
  {"op": "shutdown"}
  {"op": "ping", "id": int}
  {"op": "debug_listen", "id": int}     start debugpy on 127.0.0.1 (answered even mid-chunk)
  {"op": "withdraw", "from": int, "batch": int}  and/or  "run": int
                                        the batch's (a parallel run's) chunks from id "from"
                                        on that have not started are skipped ("skipped",
                                        as after a failure); taken at once, also mid-chunk,
                                        and also before the batch is read; no reply
Interrupt is not a message: the parent sends SIGINT to the worker process.

Worker → parent ("ev"):
  {"ev": "ready", "pid": int, "python": str, "version": str, "debug_port": int | null,
   "debug_error": str | null, "protocol": int, "t": float}
  StartedEvent, OutputEvent, ResultEvent, SkippedEvent  per chunk of an "exec"
  {"ev": "batch_done", "batch": int, "t": float}
  {"ev": "accepted", "batch": int}      a parallel "exec" was taken (its statements are
                                        waiting or running): the parent sends the next one
                                        only then, so statements released meanwhile go in
                                        one request
  {"ev": "pong", "id": int}
  {"ev": "debug", "id": int, "port": int | null, "error": str | null}

Semantics (version 1, extended compatibly):
- "ready" also carries "protocol" (PROTOCOL_VERSION) and "t". Its debug_port and
  debug_error are always null (kept for older parents): debugpy starts only on a
  "debug_listen" request. That request is read and answered on the worker's request-reader
  thread, so it is answered while a chunk runs, and so is "withdraw"; every other request
  waits for the main thread. "debug" carries the port, or null and the reason (--no-debug: refused; debugpy
  missing or too old a Python). A second "debug_listen" returns the same port.
- Events for one request are written in order: per chunk "started", any "output", then
  "result" (or just "skipped"), then "batch_done". "output" (live.py) carries what a chunk
  that has run for LIVE_OUTPUT_S wrote since its last "output", at most every LIVE_OUTPUT_S;
  while a stream is within its cap its result's stdout/stderr hold everything, starting with
  those texts; past it "output" goes on with at most LIVE_OUTPUT_CAP of the newest characters
  a stream, after a marker for what it left out. Statements run side by side (parallel) send
  none. When the batch ends with a "result", that result carries
  `"batch_done": <batch>` instead of a "batch_done" event after it (one event, not two).
  "reset" has no reply: follow it with a "ping".
- "values" lists the requested names bound after the chunk, only when ok. "expr" is the
  trailing expression's value when trailing_expr is set, the last statement is an
  expression and the value is not None; it is also bound to `_`. VALUE "name" is "" for it.
- "stdout"/"stderr" hold the chunk's output, Python-level and fd-level, capped at STREAM_CAP
  (64 Ki) characters each: of a longer stream its first and its last 32 Ki characters stay,
  around a line "[... N characters omitted ...]" (limits.omission_marker; fd-level output
  left out is counted in bytes).
- "frames": innermost frame in the document first, then the document's outer frames, then
  frames outside the document (innermost first); the worker's own frames are left out.
  "line" is the first frame's line when it is in the document. A chunk that does not
  compile gives a SyntaxError with one frame at the offending line. Frames are bounded
  (eager_lsp/limits.py): a frame repeated more than 3 times in a row is kept 3 times, the
  third with "repeated": N more; of a longer chain only the outermost and innermost frames
  stay, and "frames_omitted" counts the rest. "traceback" has every frame, repeats collapsed
  the same way ("[Previous line repeated N more times]"), while it fits in TRACEBACK_CAP
  characters; past that its outermost and innermost frames around a line
  "[... N more frames not shown ...]".
- A chunk's "path" is the code's `__file__`; its "argv" (optional), the code's `sys.argv`
  (absent: [path]). Both are set when the worker enters the document (its first chunk, and
  the first after a "reset"), as `python a.py x` sets them once: code that edits `sys.argv`
  keeps its edit. A "path" that starts with "<eager: " is the server's own code (the statement
  that forgets names): it enters no document, so the document's `__file__` and `sys.argv`
  stay as they are.
- A chunk stopped by SIGINT fails with "KeyboardInterrupt"; the rest of its batch is
  skipped whatever stop_on_error says. SystemExit from user code is an ordinary error.
- "table" (data frames only) is the head as a Markdown table. "images": PNG files the chunk
  produced (open pyplot figures, then `_repr_png_` of the value and bound names), written into
  the chunk's "image_dir" (none without one); bounds in rich.py.
- Times are time.monotonic() seconds.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1


def encode(message: dict[str, Any]) -> bytes:
    """One message as one UTF-8 JSON line (non-ASCII escaped so a line is always one line)."""
    return (_JSON.encode(message) + "\n").encode()


# `json.dumps` with any option builds a new encoder per call; this one is made once.
_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def decode(line: bytes | str) -> dict[str, Any]:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("protocol message is not an object")
    return obj
