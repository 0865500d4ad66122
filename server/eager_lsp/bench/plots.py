"""Plots drawn from results.json alone (Agg backend, small PNGs).

A timeline per workload puts generation and each chunk's execution of every mode on one
time axis, which shows at a glance what was hidden; the end-to-end charts compare modes
across token rates and workloads.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from eager_lsp.bench.report import MODE_ORDER

MODE_COLORS = {
    "serial": "#7f7f7f",
    "serial-warm": "#bcbd22",
    "eager-safe": "#1f77b4",
    "eager-eager": "#2ca02c",
    "jupyter": "#ff7f0e",
    "eager-safe-debug": "#9467bd",
    "eager-parallel": "#17becf",
}
DPI = 80
# Chunk colours cycle through these; red is kept for the failing chunk.
CHUNK_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#8c564b", "#bcbd22", "#e377c2")


def draw_all(results: dict[str, Any], out: Path) -> list[str]:
    files: list[str] = []
    runs = results["runs"]
    names = [w["name"] for w in results["workloads"]]
    names += sorted({r["workload"] for r in runs if r["source"] == "model"})
    main = results["meta"]["plan"]["main_rate"]
    for name in names:
        path = timeline(runs, name, main, out)
        if path:
            files.append(path)
    for fn in (e2e_by_rate, e2e_main):
        path = fn(results, out)
        if path:
            files.append(path)
    return files


def _pick(runs: list[dict[str, Any]], mode: str) -> dict[str, Any] | None:
    """The run with the median end-to-end time (a typical one, not the best)."""
    if not runs:
        return None
    ordered = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["e2e_s"])
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def timeline(runs: list[dict[str, Any]], workload: str, rate: float, out: Path) -> str | None:
    mine = [r for r in runs if r["workload"] == workload]
    model = bool(mine) and mine[0]["source"] == "model"
    mine = [r for r in mine if model or r["rate"] == rate]
    modes = [m for m in MODE_ORDER if any(r["mode"] == m for r in mine)]
    if not modes:
        return None
    picks = [(m, _pick(mine, m)) for m in modes]
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.55 * len(modes)), dpi=DPI)
    span = max(r["e2e_s"] for _, r in picks if r) or 1.0
    for y, (_mode, run) in enumerate(reversed(picks)):
        if run is None:
            continue
        first = run["first_token_s"] or 0.0
        last = run["last_token_s"] or first
        ax.broken_barh([(first, max(last - first, 1e-3))], (y + 0.12, 0.22), color="#d0d0d0")
        for c in run["chunks"]:
            ax.plot([c["released_s"]] * 2, [y + 0.12, y + 0.34], color="#606060", lw=0.6)
            if c.get("exec_start_s") is None:
                continue
            width = max(c["exec_end_s"] - c["exec_start_s"], 0.0)
            color = "#d62728" if not c["ok"] else CHUNK_COLORS[c["i"] % len(CHUNK_COLORS)]
            ax.broken_barh(
                [(c["exec_start_s"], width)],
                (y - 0.34, 0.4),
                facecolor=color,
                edgecolor=color,
                lw=0.8,
            )
            if not c["ok"]:  # an error is often too short to see as a bar: mark it
                ax.plot([c["exec_end_s"]], [y - 0.14], marker="X", ms=7, color="#d62728", zorder=5)
        ax.plot([run["e2e_s"]] * 2, [y - 0.4, y + 0.4], color="black", lw=1.2)
        ax.text(run["e2e_s"] + span * 0.01, y, f"{run['e2e_s']:.2f} s", va="center", fontsize=8)
    ax.set_yticks(range(len(picks)))
    ax.set_yticklabels([m for m, _ in reversed(picks)], fontsize=9)
    ax.set_xlim(0, span * 1.12)
    ax.set_xlabel(
        "seconds from the first request (grey: tokens arriving, ticks: chunk released; "
        "colour: chunk executing, red X: error; black: done)",
        fontsize=8,
    )
    label = "local model" if model else f"replay {rate:g} tok/s"
    ax.set_title(f"{workload} — {label} (median run of each mode)", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    path = out / f"timeline-{workload}.png"
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def _median_e2e(runs: list[dict[str, Any]]) -> tuple[float, float, float]:
    vals = [r["e2e_s"] for r in runs]
    return statistics.median(vals), min(vals), max(vals)


def e2e_by_rate(results: dict[str, Any], out: Path) -> str | None:
    """End-to-end time against token rate, one column per workload measured at several
    rates; the lower row divides by serial, where the differences are visible."""
    runs = [r for r in results["runs"] if r["source"] == "replay"]
    by_workload: dict[str, set[float]] = {}
    for r in runs:
        by_workload.setdefault(r["workload"], set()).add(r["rate"])
    names = [n for n, rates in by_workload.items() if len(rates) > 1]
    if not names:
        return None
    fig, axes = plt.subplots(
        2,
        len(names),
        figsize=(3.4 * len(names) + 0.6, 5.4),
        dpi=DPI,
        squeeze=False,
        sharex="col",
        gridspec_kw={"height_ratios": [3, 2]},
    )
    for col, name in enumerate(names):
        top, bottom = axes[0][col], axes[1][col]
        rates = sorted(by_workload[name])

        def sel(rate: float, mode: str, name: str = name) -> list[dict[str, Any]]:
            return [
                r for r in runs if r["workload"] == name and r["rate"] == rate and r["mode"] == mode
            ]

        serial = {
            rate: _median_e2e(sel(rate, "serial"))[0] for rate in rates if sel(rate, "serial")
        }
        for mode in MODE_ORDER:
            pts = [(rate, *_median_e2e(sel(rate, mode))) for rate in rates if sel(rate, mode)]
            if not pts:
                continue
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            err = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
            color = MODE_COLORS.get(mode)
            top.errorbar(
                xs, ys, yerr=err, marker="o", ms=3, lw=1.2, capsize=2, color=color, label=mode
            )
            rel = [(p[0], p[1] / serial[p[0]]) for p in pts if p[0] in serial]
            bottom.plot(
                [p[0] for p in rel], [p[1] for p in rel], marker="o", ms=3, lw=1.2, color=color
            )
        bounds = []
        for rate in rates:
            vals = [r["bound_s"] for r in sel(rate, "eager-safe") if r["bound_s"] is not None]
            if vals:
                bounds.append((rate, statistics.median(vals)))
        if bounds:
            top.plot([b[0] for b in bounds], [b[1] for b in bounds], "k--", lw=1, label="bound")
            rel = [(b[0], b[1] / serial[b[0]]) for b in bounds if b[0] in serial]
            bottom.plot([p[0] for p in rel], [p[1] for p in rel], "k--", lw=1)
        top.set_title(name, fontsize=9)
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_xticks(rates)
            ax.set_xticklabels([f"{r:g}" for r in rates], fontsize=8)
            ax.minorticks_off()
            ax.tick_params(axis="y", labelsize=8)
            ax.grid(alpha=0.3)
        bottom.set_xlabel("tokens per second", fontsize=8)
    axes[0][0].set_ylabel("end-to-end s (median, min–max)", fontsize=8)
    axes[1][0].set_ylabel("relative to serial", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    ncol = len(labels) if len(names) > 2 else 3
    fig.legend(handles, labels, fontsize=7, loc="upper center", ncol=ncol, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94 if len(names) > 2 else 0.9))
    path = out / "e2e-by-rate.png"
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def e2e_main(results: dict[str, Any], out: Path) -> str | None:
    """End-to-end time of every workload and mode at the main rate, relative to serial."""
    main = results["meta"]["plan"]["main_rate"]
    runs = [
        r
        for r in results["runs"]
        if (r["source"] == "replay" and r["rate"] == main) or r["source"] == "model"
    ]
    names = []
    for r in runs:
        if r["workload"] not in names:
            names.append(r["workload"])
    modes = [m for m in MODE_ORDER if any(r["mode"] == m for r in runs)]
    if not names or not modes:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.32 * len(names) * max(1, len(modes)) / 3), dpi=DPI)
    height = 0.8 / len(modes)
    for k, mode in enumerate(modes):
        ys, widths, labels = [], [], []
        for i, name in enumerate(names):
            sel = [r for r in runs if r["workload"] == name and r["mode"] == mode]
            serial = [r for r in runs if r["workload"] == name and r["mode"] == "serial"]
            if not sel or not serial:
                continue
            med = _median_e2e(sel)[0]
            ys.append(i + k * height)
            widths.append(med / _median_e2e(serial)[0])
            labels.append(med)
        ax.barh(ys, widths, height=height, color=MODE_COLORS.get(mode), label=mode)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))])
    ax.set_yticklabels(
        [n + (" (model)" if n.startswith("model-") else "") for n in names], fontsize=8
    )
    ax.invert_yaxis()
    ax.set_xlabel(
        f"end-to-end time relative to serial (median; replay at {main:g} tok/s, "
        "model at its own speed); lower is better",
        fontsize=8,
    )
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(
        fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(modes), frameon=False
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = out / "e2e-main.png"
    fig.savefig(path)
    plt.close(fig)
    return str(path)
