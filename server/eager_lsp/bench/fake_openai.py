"""A paced OpenAI-compatible chat server for the server benchmarks (stdlib only).

`python -m eager_lsp.bench.fake_openai --text-file F --rate 200` prints its base URL
(`http://127.0.0.1:PORT/v1`) as the first stdout line, then answers every streamed chat
request with F's text in 4-character pieces at RATE pieces per second, scheduled against
absolute times. After flushing each reply's last piece it prints one JSON line
`{"tag": ..., "first_s": t, "last_s": t, "pieces": n}` (monotonic seconds, comparable across
processes on Linux): the *sending side* of the benchmark's clock. `tag` is the first
`[tag]` found in the request's messages, so the client can tell its documents apart; the tag
`warmup` gets a one-line reply. With `--record-pieces` the line also has `"sent_s": [t, ...]`,
the monotonic time each piece was flushed (piece i holds characters 4i to 4i+3 of the text):
the editor benchmark (bench/editor_latency.py) finds there when the piece holding each
statement's final newline left, on CLOCK_MONOTONIC, the clock of Neovim's `vim.uv.hrtime()`.

A separate process, so that the benchmark's client and this server do not share a GIL with
each other. It binds 127.0.0.1 on a free port and ends when its stdin closes. The SSE format
follows tests/support/openai_server.py (the full, scriptable test double).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHARS_PER_PIECE = 4
_TAG = re.compile(r"\[([\w.-]+)\]")
_out_lock = threading.Lock()


def _chunk(delta: dict[str, Any], finish: str | None) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class _Handler(BaseHTTPRequestHandler):
    text = ""
    rate = 200.0
    record_pieces = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, obj: Any, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json({"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._json({"error": {"message": "not found"}}, 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        found = _TAG.search(json.dumps(body.get("messages", [])))
        tag = found.group(1) if found else ""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        text = "x = 1\n" if tag == "warmup" else self.text  # a short first generation
        pieces = [text[i : i + CHARS_PER_PIECE] for i in range(0, len(text), CHARS_PER_PIECE)]
        step = 1.0 / self.rate if self.rate > 0 else 0.0
        start = time.monotonic()
        first = last = start
        sent: list[float] = []
        try:
            self.wfile.write(_chunk({"role": "assistant", "content": ""}, None))
            for i, piece in enumerate(pieces):
                wait = start + i * step - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self.wfile.write(_chunk({"content": piece}, None))
                self.wfile.flush()
                last = time.monotonic()
                sent.append(last)
                if i == 0:
                    first = last
            self.wfile.write(_chunk({}, "stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 0}
                self.wfile.write(
                    b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n"
                )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        record: dict[str, Any] = {
            "tag": tag,
            "first_s": first,
            "last_s": last,
            "pieces": len(pieces),
        }
        if self.record_pieces:
            record["sent_s"] = sent
        with _out_lock:
            print(json.dumps(record), flush=True)


def child(text: str, rate: float, root: Path, *flags: str) -> tuple[list[str], dict[str, str]]:
    """How a benchmark starts this server: its argv (the reply is written to root/reply.py)
    and an environment without OPENAI_* (the user's key never reaches the bench)."""
    (root / "reply.py").write_text(text, encoding="utf-8")
    argv = [sys.executable, "-m", __name__, "--text-file", str(root / "reply.py")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return [*argv, "--rate", str(rate), *flags], env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eager_lsp.bench.fake_openai")
    parser.add_argument("--text-file", required=True)
    parser.add_argument("--rate", type=float, default=200.0, help="pieces per second")
    parser.add_argument(
        "--record-pieces", action="store_true", help="report each piece's send time (sent_s)"
    )
    args = parser.parse_args(argv)
    with open(args.text_file, encoding="utf-8") as fh:
        _Handler.text = fh.read()
    _Handler.rate = args.rate
    _Handler.record_pieces = args.record_pieces
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.shutdown()


if __name__ == "__main__":
    main()
