"""A/B of `bench --many-docs` across checkouts, alternating, in one session.

    python -m eager_lsp.bench.ab_many_docs --reps 4 --out DIR old=/path/a new=/path/b

Each round runs `many_docs.run()` once per checkout, the server started with
`PYTHONPATH=<checkout>/server` (the client, the fake model server and the venv are this
process's), the order reversed every other round. On a shared machine one round's CPU per token
varies by ±20 % and its latency by ×10, so two checkouts are only comparable when measured at
the same moment, alternately; each printed line says the load average at its start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
from pathlib import Path
from typing import Any

from eager_lsp.bench import many_docs


def _line(rep: int, name: str, load: float, r: dict[str, Any]) -> str:
    lat, lag = r["last_token_to_last_result_ms"], r["last_token_to_last_edit_ms"]
    bad = [x["doc"] for x in r["per_doc"] if not x["text_ok"] or x["summary_error"]]
    st = r.get("statement_token_to_result_ms") or {}
    return (
        f"round {rep} {name:8s} load {load:.2f}  cpu {r['server_cpu_ms_per_token']:.3f} ms/token "
        f"({r['server_cpu_s']} s, wall {r['wall_s']} s; interpreters {r.get('workers_cpu_s')} s)"
        f"  last token → last result median "
        f"{lat['median']} ms (max {lat['max']})  → last edit median {lag['median']} ms"
        f"  statement → result median {st.get('median')} p90 {st.get('p90')} ms"
        + (f"  wrong text or error: {bad}" if bad else "")
    )


def summary(rows: list[dict[str, Any]], names: list[str]) -> list[str]:
    out = []
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        cpu = [r["server_cpu_ms_per_token"] for r in mine]
        lat = [r["last_token_to_last_result_ms"]["median"] for r in mine]
        st = [r["statement_token_to_result_ms"] for r in mine]
        st_med = [x["median"] for x in st if x.get("n")]
        st_p90 = [x["p90"] for x in st if x.get("n")]
        below = [r["workers_cpu_s"] for r in mine if "workers_cpu_s" in r]
        out.append(
            f"{name}: cpu ms/token median {statistics.median(cpu):.3f} "
            f"({', '.join(f'{c:.3f}' for c in cpu)}); last token → last result, median of "
            f"rounds {statistics.median(lat):.0f} ms ({', '.join(f'{x:.0f}' for x in lat)})"
            + (
                f"; statement → result, median of rounds {statistics.median(st_med):.0f} ms "
                f"(p90 {statistics.median(st_p90):.0f})"
                if st_med
                else ""
            )
            + (f"; interpreters' CPU median {statistics.median(below):.2f} s" if below else "")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--doc-script", choices=many_docs.SCRIPTS, default="dense")
    p.add_argument(
        "checkouts",
        nargs="+",
        help="NAME=PATH of a checkout (its server/ is used); a NAME ending in +stream has the "
        "client write the text itself (eager/streamEdit) instead of answering applyEdit",
    )
    args = p.parse_args(argv)
    pairs = [tuple(c.split("=", 1)) for c in args.checkouts]
    if any(len(pair) != 2 for pair in pairs):
        p.error("each checkout is NAME=PATH")
    rows: list[dict[str, Any]] = []
    saved = os.environ.get("PYTHONPATH")
    try:
        for rep in range(args.reps):
            for name, path in pairs if rep % 2 == 0 else pairs[::-1]:
                os.environ["PYTHONPATH"] = str(Path(path) / "server")
                load = os.getloadavg()[0]
                r = asyncio.run(
                    many_docs.run(stream_edits=name.endswith("+stream"), doc_script=args.doc_script)
                )
                print(_line(rep, name, load, r), flush=True)
                rows.append({**r, "name": name, "checkout": path, "load": load, "round": rep})
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    for line in summary(rows, [name for name, _ in pairs]):
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ab_many_docs.json").write_text(json.dumps(rows, indent=1) + "\n", "utf-8")
    print(f"wrote {args.out / 'ab_many_docs.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
