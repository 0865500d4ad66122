"""Child process hosting xllamacpp's embedded llama.cpp HTTP server (see `local_model`).

Run as ``python -m eager_lsp.providers.local_server --model F --ctx N --threads N
[--threads-batch N] --port-fd FD``.
It binds 127.0.0.1 (never another address) on a free port, writes that port and a newline
to FD once the model is loaded, and serves until its stdin closes (the parent exited or
stopped it) or SIGTERM. Its own stdout is pointed at stderr first, so native code cannot
write into a JSON-RPC pipe.

The first line on stdin is the API key every request must carry (`Authorization: Bearer`),
fresh for each start: on a shared machine any local program can reach a loopback port, and
a command line or environment variable would show the key to `ps` or /proc. llama.cpp
leaves only /health and the model list open without it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import threading

from eager_lsp.executors.worker.nodump import make_undumpable_or_exit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    # Prompt evaluation is one batch job that nothing else waits on: every core. Decoding
    # (`--threads`) leaves one core to the code being run and the editor.
    ap.add_argument("--threads-batch", type=int, default=0, help="0: every core")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-fd", type=int, required=True)
    args = ap.parse_args(argv)
    make_undumpable_or_exit(
        "the model server"
    )  # executed code (same user) must not read this process's memory

    os.dup2(2, 1)  # whatever llama.cpp prints goes to our log, never to a protocol stream
    sys.stdout = sys.stderr
    api_key = sys.stdin.buffer.readline().decode("ascii", errors="replace").strip()
    if not api_key:
        print("no API key on stdin: refusing to serve without one", file=sys.stderr)
        return 2
    # From now on, not only once the model is loaded: a parent gone while it loads (Ctrl-C,
    # a killed editor) must not leave a process loading a model for nobody (a newcomer saw
    # one spin 8-25 s at 60-70 % CPU after Ctrl-C).
    watcher = threading.Thread(target=_exit_when_stdin_closes, name="stdin-watch", daemon=True)
    watcher.start()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads_batch or os.cpu_count() or args.threads
    params.hostnames = ["127.0.0.1"]
    params.api_keys = [api_key]
    params.port = args.port
    params.use_jinja = True
    params.n_parallel = 1  # one editor, one stream: all context for it
    server = xllamacpp.Server(params)  # returns once the model is loaded and listening

    match = re.search(r":(\d+)/?$", str(server.listening_address))
    if not match:
        print(f"cannot tell the port from {server.listening_address!r}", file=sys.stderr)
        return 1
    os.write(args.port_fd, f"{match.group(1)}\n".encode())
    os.close(args.port_fd)

    watcher.join()  # (never returns: the watcher ends the process)
    del server
    return 0


def _exit_when_stdin_closes() -> None:
    """The parent closes our stdin to stop us, or goes away: end the process at once."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
