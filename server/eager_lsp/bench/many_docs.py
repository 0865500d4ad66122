"""`eager-lsp bench --many-docs`: N documents generating at once through the real server.

The real `eager-lsp serve` runs over stdio, driven by a small raw JSON-RPC client (this
module) that behaves like an editor: it answers `workspace/applyEdit` by applying the edit to
its copy of the document and sending `didChange`, answers `workspace/configuration`,
progress and refresh requests, and records when each `eager/chunkResult` arrives. The model is
`bench/fake_openai.py` in its own process, pacing every reply at RATE tokens/s (a token is
4 characters) and reporting when it sent each reply's last token.
With `--stream-edits` the client declares `experimental.eagerStreamEdits` and writes the text
itself as the server's `eager/streamEdit` requests say (the path the Neovim plugin and the VS
Code extension take), instead of answering `workspace/applyEdit`.

What each document generates (`--doc-script`): `dense` (the default), `script()` below, a
statement every 20 characters (5 tokens), the per-statement costs' worst case; or
`generation`, the three replayed generation-dominated workloads (gen_quick_stats,
gen_text_processing, gen_defs_classes: 55–73 characters a statement), written one after the
other as one script. The goal is read on `dense`; `generation` says what code as a model
writes it costs.

Timed on the sending and receiving sides, never by the server's own clock (which reads a
token only when it gets round to it):
- per document, *last token → last result*: the client receiving the document's last
  `eager/chunkResult` minus the fake server flushing that document's last token;
- *last token → last edit*: the same for the last `workspace/applyEdit` (how far behind the
  stream the server reads);
- per statement, *its last token → its result*: the client receiving a statement's first
  `eager/chunkResult` minus the fake server sending the token that holds the newline ending
  the statement's last line (a definition is released only when the next line starts, so its
  time includes that wait);
- server CPU per token: the server process's utime + stime (`/proc/PID/stat`, the server
  alone, not its interpreters) over the generation, divided by the tokens sent;
- the interpreters' CPU: the same for every process below the server (its zygote and the
  workers), summed, over the same window: what running the statements and talking to the
  server cost them (on 2 shared cores it competes with the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eager_lsp.bench import fake_openai
from eager_lsp.bench.catalog import WORKLOAD_DIR
from eager_lsp.bench.proc_cpu import cpu_seconds, cpu_seconds_below

CHARS_PER_TOKEN = 4


def script(lines: int = 120) -> str:
    """What every document generates: quick statements with values, a few definitions."""
    out: list[str] = ["import math\n", "total = 0\n"]
    i = 0
    while len(out) < lines:
        out.append(f"v{i} = sum(range({i * 7 % 50}))\n")
        out.append(f"total += v{i}\n")
        if i % 5 == 0:
            out.append(f"def f{i}(x):\n    return x * {i} + math.sqrt(abs(x))\n")
            out.append(f"w{i} = f{i}(v{i})\n")
        if i % 3 == 0:
            out.append(f"print('step', {i}, total)\n")
        i += 1
    out.append("total\n")
    return "".join(out)


GENERATION_WORKLOADS = ("gen_quick_stats", "gen_text_processing", "gen_defs_classes")
SCRIPTS = ("dense", "generation")


def script_text(name: str, lines: int = 120) -> str:
    """The text every document generates for `--doc-script name` (module docstring);
    `lines` sizes the dense one."""
    if name == "dense":
        return script(lines)
    if name == "generation":
        return "\n".join(
            (WORKLOAD_DIR / f"{w}.py").read_text(encoding="utf-8") for w in GENERATION_WORKLOADS
        )
    raise ValueError(f"unknown script {name!r}: one of {', '.join(SCRIPTS)}")


def _server_cpu_s(pid: int) -> float:
    cpu = cpu_seconds(pid)
    if cpu is None:
        raise RuntimeError(f"the server (pid {pid}) is gone: its CPU time cannot be read")
    return cpu


class _Doc:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.text = ""
        self.version = 1
        self.last_result = 0.0
        self.results = 0
        self.result_at: dict[int, tuple[float, int]] = {}  # chunk index → (arrival, end line)
        self.last_edit = 0.0
        self.edits = 0
        self.done = asyncio.Event()
        self.summary: dict[str, Any] | None = None
        self.region = (0, 0)  # stream edits: [start, end) offsets of the generated text

    def offset(self, pos: dict[str, int]) -> int:
        line, char = pos["line"], pos["character"]
        at = 0
        for _ in range(line):
            nl = self.text.find("\n", at)
            if nl < 0:
                return len(self.text)
            at = nl + 1
        return min(at + char, len(self.text))  # ASCII text: UTF-16 units are characters

    def position(self, offset: int) -> dict[str, int]:
        line = self.text.count("\n", 0, offset)
        return {"line": line, "character": offset - (self.text.rfind("\n", 0, offset) + 1)}

    def replace(self, start: int, end: int, text: str) -> dict[str, Any]:
        """Apply one change; the didChange params that report it."""
        rng = {"start": self.position(start), "end": self.position(end)}
        self.text = self.text[:start] + text + self.text[end:]
        self.version += 1
        return {
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [{"range": rng, "text": text}],
        }


class _Client:
    """Just enough JSON-RPC over the server's stdio to drive it like an editor."""

    def __init__(self, proc: asyncio.subprocess.Process, settings: dict[str, Any]) -> None:
        self.proc = proc
        self.settings = settings
        self.docs: dict[str, _Doc] = {}
        self._next = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.ensure_future(self._read())
        self.messages = 0
        self.by_method: Counter[str] = Counter()  # what the server sent, by method

    def _write(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    async def request(self, method: str, params: Any) -> Any:
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = fut
        self._write({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return await asyncio.wait_for(fut, 120)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await out.readexactly(length)
            now = time.monotonic()
            self.messages += 1
            self._handle(json.loads(body), now)

    def _handle(self, msg: dict[str, Any], now: float) -> None:
        method = msg.get("method")
        self.by_method[method or "(response)"] += 1
        if method is None:
            fut = self._waiting.pop(msg.get("id", -1), None)
            if fut is not None and not fut.done():
                fut.set_result(msg.get("result"))
            return
        params = msg.get("params") or {}
        if "id" in msg:  # a request from the server
            result: Any = None
            if method == "workspace/applyEdit":
                result = self._apply(params, now)
            elif method == "eager/streamEdit":
                result = self._stream_edit(params, now)
            elif method == "workspace/configuration":
                result = [self.settings for _ in params.get("items", [])]
            self._write({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            return
        doc = self.docs.get(params.get("uri", ""))
        if doc is None:
            return
        if method == "eager/chunkResult":
            doc.last_result = now
            doc.results += 1
            chunk = params.get("chunk") or {}
            doc.result_at.setdefault(chunk.get("index", -1), (now, chunk.get("endLine", -1)))
        elif method == "eager/generationSummary":
            doc.summary = params
            doc.done.set()

    def _apply(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        edit = params.get("edit", {})
        items = [(dc["textDocument"]["uri"], dc["edits"]) for dc in edit.get("documentChanges", [])]
        items += list((edit.get("changes") or {}).items())
        for uri, edits in items:
            doc = self.docs[uri]
            ordered = sorted(edits, key=lambda e: doc.offset(e["range"]["start"]), reverse=True)
            changes = []
            for e in ordered:
                s, t = doc.offset(e["range"]["start"]), doc.offset(e["range"]["end"])
                doc.text = doc.text[:s] + e["newText"] + doc.text[t:]
                changes.append({"range": e["range"], "text": e["newText"]})
            doc.version += 1
            doc.last_edit = now
            doc.edits += 1
            self.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": doc.version},
                    "contentChanges": changes,
                },
            )
        return {"applied": True}

    def _stream_edit(self, p: dict[str, Any], now: float) -> dict[str, Any]:
        """docs/protocol.md's eager/streamEdit, for a client nobody types into: the change is
        reported (didChange) before the answer, as the protocol asks."""
        doc = self.docs[p["uri"]]
        op = p["op"]
        changes = []
        if op == "begin":
            at = doc.offset(p["position"])
            end = doc.offset(p["replace"]["end"]) if "replace" in p else at
            before, after = p.get("before", ""), p.get("after", "")
            if before or after or end > at:
                changes.append(doc.replace(at, end, before + after))
            doc.region = (at + len(before), at + len(before))
        elif op == "insert":
            start, end = doc.region
            changes.append(doc.replace(end, end, p["text"]))
            doc.region = (start, end + len(p["text"]))
        elif op == "end":
            start, end = doc.region
            keep = p.get("keepLines")
            if isinstance(keep, int):
                cut, at = start, start
                for _ in range(keep):
                    nl = doc.text.find("\n", at, end)
                    if nl < 0:
                        break
                    cut = at = nl + 1
                if keep == 0 or cut > start:
                    changes.append(doc.replace(cut, end, ""))
                    end = cut
            ends_line = doc.text[start:end].endswith("\n")
            if p.get("trimTrailing") and ends_line and doc.text[end : end + 1] == "\n":
                changes.append(doc.replace(end, end + 1, ""))
            doc.region = (start, end)
        for change in changes:
            doc.last_edit = now
            doc.edits += 1
            self.notify("textDocument/didChange", change)
        start, end = doc.region
        rng = {"start": doc.position(start), "end": doc.position(end)}
        return {"ok": True, "version": doc.version, "range": rng}

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def run(
    docs: int = 10,
    rate: float = 200.0,
    lines: int = 120,
    stream_edits: bool = False,
    doc_script: str = "dense",
) -> dict[str, Any]:
    """One round: `docs` documents generate `script_text(doc_script)` at `rate` tokens/s
    each; with `stream_edits` the client writes the text itself (eager/streamEdit, as the
    Neovim plugin and the VS Code extension do) instead of answering workspace/applyEdit."""
    text = script_text(doc_script, lines)
    with tempfile.TemporaryDirectory(prefix="eager-many-") as tmp:
        root = Path(tmp)
        argv, env = fake_openai.child(text, rate, root, "--record-pieces")
        fake = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
        )
        assert fake.stdout is not None
        url = (await fake.stdout.readline()).decode().strip()
        settings = {
            "llm": {"provider": "openai", "baseUrl": url, "apiKey": "sk-bench", "model": "fake"},
            "execution": {"gate": "safe", "stopOnError": True},
            "debug": {"enabled": False},
            "repair": {"mode": "off"},
        }
        profile = os.environ.get("EAGER_BENCH_PROFILE")  # cProfile output path, for tuning
        wrap = ["-m", "cProfile", "-o", profile] if profile else []
        server_log = os.environ.get("EAGER_BENCH_SERVER_LOG")  # the server's log, for tuning
        log_args = ["--log-file", server_log] if server_log else []
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            *wrap,
            "-m",
            "eager_lsp",
            "serve",
            *log_args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=tmp,
            env=env,
        )
        client = _Client(server, settings)
        try:
            result = await _drive(client, server.pid, fake, root, docs, rate, text, stream_edits)
            result["script"] = doc_script
            return result
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.request("shutdown", None), 10)
                client.notify("exit", None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait(), 10)
            if server.returncode is None:
                server.kill()
                await server.wait()
            await client.close()
            assert fake.stdin is not None
            fake.stdin.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(fake.wait(), 5)
            if fake.returncode is None:
                fake.kill()
                await fake.wait()


async def _drive(
    client: _Client,
    pid: int,
    fake: asyncio.subprocess.Process,
    root: Path,
    docs: int,
    rate: float,
    text: str,
    stream_edits: bool = False,
) -> dict[str, Any]:
    capabilities: dict[str, Any] = {
        "general": {"positionEncodings": ["utf-16"]},
        "workspace": {
            "applyEdit": True,
            "workspaceEdit": {"documentChanges": True},
            "configuration": True,
            "inlayHint": {"refreshSupport": True},
        },
        "window": {"workDoneProgress": True},
        "textDocument": {"inlayHint": {}, "publishDiagnostics": {"versionSupport": True}},
    }
    if stream_edits:
        capabilities["experimental"] = {"eagerStreamEdits": True}
    await client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "capabilities": capabilities,
            "initializationOptions": client.settings,
        },
    )
    client.notify("initialized", {})
    for i in range(docs):
        path = root / f"doc{i}.py"
        path.write_text("", encoding="utf-8")
        uri = path.as_uri()
        client.docs[uri] = _Doc(uri)
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
        )
    # Warm up: one short generation first imports the model SDK and builds its client (once
    # per server, about a second of CPU) so that what follows is the steady state.
    warm = root / "warmup.py"
    warm.write_text("", encoding="utf-8")
    warm_doc = _Doc(warm.as_uri())
    client.docs[warm_doc.uri] = warm_doc
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": warm_doc.uri, "languageId": "python", "version": 1, "text": ""}},
    )
    await client.request(
        "workspace/executeCommand",
        {"command": "eager.generate", "arguments": [{"uri": warm_doc.uri, "prompt": "[warmup]"}]},
    )
    await asyncio.wait_for(warm_doc.done.wait(), 120)
    del client.docs[warm_doc.uri]
    assert fake.stdout is not None
    await asyncio.wait_for(fake.stdout.readline(), 10)  # the warm-up's record
    await asyncio.sleep(2.0)  # the interpreters start (startOnOpen)
    spy = None
    spy_out = os.environ.get("EAGER_BENCH_PYSPY")  # py-spy raw stacks of the window, for tuning
    if spy_out:
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", spy_out,
            "--rate", os.environ.get("EAGER_BENCH_PYSPY_RATE", "250"), "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    # for tuning: a signal (e.g. USR2) sent to the server as the window starts and ends, for
    # a profiler hook of the tuner's own (the server itself does not handle it)
    window_signal = os.environ.get("EAGER_BENCH_WINDOW_SIGNAL")
    if window_signal:
        os.kill(pid, getattr(signal, "SIG" + window_signal))
    below0 = cpu_seconds_below(pid)
    cpu0, t0 = _server_cpu_s(pid), time.monotonic()
    sent0 = Counter(client.by_method)
    for i, uri in enumerate(client.docs):
        await client.request(
            "workspace/executeCommand",
            {
                "command": "eager.generate",
                "arguments": [{"uri": uri, "prompt": f"[doc{i}] write the script"}],
            },
        )
    await asyncio.wait_for(asyncio.gather(*(d.done.wait() for d in client.docs.values())), 300)
    cpu1, t1 = _server_cpu_s(pid), time.monotonic()
    below1 = cpu_seconds_below(pid)
    if window_signal:
        os.kill(pid, getattr(signal, "SIG" + window_signal))
    workers_cpu = sum(t - below0.get(p, 0.0) for p, t in below1.items())
    by_method = client.by_method - sent0
    if spy is not None:
        spy.send_signal(2)
        await spy.wait()
    sent: dict[str, dict[str, Any]] = {}
    while len(sent) < docs:
        line = await asyncio.wait_for(fake.stdout.readline(), 10)
        record = json.loads(line)
        sent[record["tag"]] = record
    rows = []
    ends = [i for i, c in enumerate(text) if c == "\n"]
    statement_ms: list[float] = []
    for i, doc in enumerate(client.docs.values()):
        s = sent[f"doc{i}"]
        for at, end_line in doc.result_at.values():
            if 0 <= end_line < len(ends):
                token = min(ends[end_line] // fake_openai.CHARS_PER_PIECE, len(s["sent_s"]) - 1)
                statement_ms.append((at - s["sent_s"][token]) * 1e3)
        rows.append(
            {
                "doc": i,
                "tokens": s["pieces"],
                "results": doc.results,
                "edits": doc.edits,
                "text_ok": doc.text.rstrip("\n") == text.rstrip("\n"),
                "send_s": round(s["last_s"] - s["first_s"], 3),
                "last_token_to_last_result_ms": round((doc.last_result - s["last_s"]) * 1e3, 1),
                "last_token_to_last_edit_ms": round((doc.last_edit - s["last_s"]) * 1e3, 1),
                "summary_error": (doc.summary or {}).get("error"),
            }
        )
    tokens = sum(r["tokens"] for r in rows)
    lat = [r["last_token_to_last_result_ms"] for r in rows]
    edit_lag = [r["last_token_to_last_edit_ms"] for r in rows]
    return {
        "docs": docs,
        "rate_tok_s": rate,
        "writes": "eager/streamEdit" if stream_edits else "workspace/applyEdit",
        "chars_per_doc": len(text),
        "tokens_total": tokens,
        "wall_s": round(t1 - t0, 3),
        "server_cpu_s": round(cpu1 - cpu0, 3),
        "server_cpu_ms_per_token": round((cpu1 - cpu0) / max(tokens, 1) * 1e3, 4),
        "workers_cpu_s": round(workers_cpu, 3),  # in clock ticks (10 ms): a small run may read 0
        "workers_counted": len(below1),
        "last_token_to_last_result_ms": {
            "median": round(statistics.median(lat), 1),
            "min": min(lat),
            "max": max(lat),
        },
        "last_token_to_last_edit_ms": {
            "median": round(statistics.median(edit_lag), 1),
            "min": min(edit_lag),
            "max": max(edit_lag),
        },
        "statement_token_to_result_ms": _spread(statement_ms),
        "server_messages": dict(by_method.most_common()),
        "per_doc": rows,
    }


def _spread(ms: list[float]) -> dict[str, float | int]:
    if not ms:
        return {"n": 0}
    ms = sorted(ms)
    return {
        "n": len(ms),
        "median": round(statistics.median(ms), 1),
        "p90": round(ms[int(0.9 * (len(ms) - 1))], 1),
        "max": round(ms[-1], 1),
    }


def report(r: dict[str, Any]) -> str:
    lat, lag = r["last_token_to_last_result_ms"], r["last_token_to_last_edit_ms"]
    st = r.get("statement_token_to_result_ms") or {"n": 0}
    lines = [
        f"many documents: {r['docs']} × {r['chars_per_doc']} chars ({r.get('script', 'dense')} "
        f"script) at {r['rate_tok_s']:g} tok/s "
        f"each, through `eager-lsp serve` (stdio) and a fake OpenAI server; the client "
        f"answers {r.get('writes', 'workspace/applyEdit')}",
        f"  last token sent → last result received: median {lat['median']} ms "
        f"({lat['min']}–{lat['max']})",
        f"  last token sent → last edit received:   median {lag['median']} ms "
        f"({lag['min']}–{lag['max']})",
        f"  a statement's last token sent → its result received: median "
        f"{st.get('median')} ms, p90 {st.get('p90')}, max {st.get('max')} ({st['n']} statements)",
        f"  server CPU: {r['server_cpu_s']} s for {r['tokens_total']} tokens = "
        f"{r['server_cpu_ms_per_token']} ms/token (wall {r['wall_s']} s)",
    ]
    if "workers_cpu_s" in r:
        lines.append(f"  interpreters' CPU (the zygote and the workers): {r['workers_cpu_s']} s")
    sent = r.get("server_messages") or {}
    if sent:
        top = ", ".join(f"{m} {n}" for m, n in list(sent.items())[:5])
        lines.append(f"  server messages: {sum(sent.values())} ({top}, …)")
    bad = [row["doc"] for row in r["per_doc"] if not row["text_ok"] or row["summary_error"]]
    if bad:
        lines.append(f"  documents with a wrong text or an error: {bad}")
    return "\n".join(lines)


def main(
    out: Path,
    docs: int = 10,
    rate: float = 200.0,
    repeat: int = 1,
    stream_edits: bool = False,
    doc_script: str = "dense",
) -> int:
    results = []
    for _ in range(repeat):
        r = asyncio.run(run(docs=docs, rate=rate, stream_edits=stream_edits, doc_script=doc_script))
        print(report(r), flush=True)
        results.append(r)
    out.mkdir(parents=True, exist_ok=True)
    (out / "many_docs.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / 'many_docs.json'}")
    return 0
