// The results panel's HTML: every statement of one document with its values (data frames as tables),
// output, images and error. Pure: no `vscode` import (unit-tested in Node, test/results.test.ts);
// resultsPanel.ts puts it in a webview.

import type { ImageReader } from "./decorations";
import { errorHeadline, formatElapsed, resultKind } from "./decorations";
import type { ChunkResultParams, ValueInfo } from "./methods";

export interface ResultEntry {
  result: ChunkResultParams;
  startLine: number;
  endLine: number;
  stale: boolean;
  /** Its statement is no longer at its place (deleted): the editor draws nothing for it. */
  gone?: boolean;
}

/** Text of one block in the panel, at most this many characters. */
const BLOCK_LIMIT = 20000;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function clip(s: string): string {
  return s.length > BLOCK_LIMIT ? `${s.slice(0, BLOCK_LIMIT)}\n… (${s.length - BLOCK_LIMIT} more characters)` : s;
}

function pre(s: string, cls = ""): string {
  return `<pre${cls ? ` class="${cls}"` : ""}>${escapeHtml(clip(s.replace(/\s+$/, "")))}</pre>`;
}

/** Split a Markdown table row on unescaped pipes; `\|` and `\\` are unescaped in the cells. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === "\\" && i + 1 < inner.length) {
      cur += inner[++i]!;
    } else if (c === "|") {
      out.push(cur.trim());
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur.trim());
  return out;
}

/** The server's Markdown table (a data frame's head) as an HTML table; other lines as notes. */
export function markdownTableToHtml(md: string): string {
  const lines = md.split(/\r?\n/);
  const rows = lines.filter((l) => l.trim().startsWith("|"));
  const notes = lines.filter((l) => !l.trim().startsWith("|") && l.trim() !== "");
  if (rows.length < 2) return pre(md);
  const [head, , ...body] = rows;
  const th = cells(head!).map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const trs = body.map((r) => `<tr>${cells(r).map((c, i) => (i === 0 ? `<th>${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join("")}</tr>`);
  const note = notes.map((n) => `<div class="note">${escapeHtml(n)}</div>`).join("");
  return `<table class="frame"><thead><tr>${th}</tr></thead><tbody>${trs.join("")}</tbody></table>${note}`;
}

function valueHtml(v: ValueInfo, fallbackName: string): string {
  const name = escapeHtml(v.name || fallbackName);
  const type = v.type ? ` <span class="type">${escapeHtml(v.type)}</span>` : "";
  const summary = v.table && v.summary ? ` <span class="type">${escapeHtml(v.summary)}</span>` : "";
  const body = v.table ? markdownTableToHtml(v.table) : pre(v.repr ?? v.summary ?? "");
  return `<div class="value"><div class="name">${name}${type}${summary}</div>${body}</div>`;
}

function entryHtml(e: ResultEntry, image: ImageReader): string {
  const r = e.result;
  const lines = e.startLine === e.endLine ? `line ${e.startLine + 1}` : `lines ${e.startLine + 1}–${e.endLine + 1}`;
  const kind = resultKind(r); // "interrupted": the user ended it (not drawn as an error)
  const head = [lines, kind];
  const time = r.skipped ? undefined : formatElapsed(r.timings?.elapsedMs);
  if (time) head.push(time);
  // Statements that ran at the same time (gate `parallel`), moved as far as this result moved
  // since it was published (edits between them are not followed).
  const parallel = r.skipped ? [] : (r.timings?.parallelWith ?? []);
  const delta = e.startLine - r.chunk.startLine;
  if (parallel.length) head.push(`in parallel with line${parallel.length === 1 ? "" : "s"} ${parallel.map((l) => l + 1 + delta).join(", ")}`);
  if (e.stale) head.push("stale");
  const parts: string[] = [`<h3 class="${kind}${e.stale ? " stale" : ""}">${escapeHtml(head.join(" · "))}</h3>`];
  for (const v of r.values ?? []) parts.push(valueHtml(v, "value"));
  const expr = r.expr;
  if (expr !== undefined && expr !== null) {
    parts.push(typeof expr === "string" ? valueHtml({ name: "→", repr: expr }, "→") : valueHtml({ ...expr, name: "→" }, "→"));
  }
  if (r.stdout) parts.push(`<div class="label">stdout</div>${pre(r.stdout)}`);
  if (r.stderr) parts.push(`<div class="label">stderr</div>${pre(r.stderr, "stderr")}`);
  for (const img of r.images ?? []) {
    const src = image(img.path);
    const label = escapeHtml(img.label ?? "image");
    parts.push(
      src !== undefined
        ? `<figure><img alt="${label}" src="${escapeHtml(src)}"><figcaption>${label}</figcaption></figure>`
        : `<div class="note">${label}: ${escapeHtml(img.path)} (no longer available)</div>`,
    );
  }
  if (r.error) {
    const cls = kind === "interrupted" ? "interrupted" : "error";
    parts.push(`<div class="${cls}">${escapeHtml(errorHeadline(r.error))}</div>`);
    if (r.error.traceback) parts.push(pre(r.error.traceback, kind === "interrupted" ? "interrupted" : "stderr"));
  }
  return `<section data-line="${e.startLine}">${parts.join("")}</section>`;
}

/** The whole page. `cspSource` is the webview's; images are data: URIs (nothing is fetched). */
export function resultsHtml(title: string, entries: readonly ResultEntry[], image: ImageReader, cspSource: string): string {
  const csp = `default-src 'none'; img-src data:; style-src ${cspSource} 'unsafe-inline';`;
  const body = entries.length > 0 ? entries.map((e) => entryHtml(e, image)).join("") : `<p class="note">No results yet: run the file or generate code.</p>`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
h2 { font-size: 1.1em; }
h3 { font-size: 0.95em; margin: 14px 0 4px; border-top: 1px solid var(--vscode-panel-border); padding-top: 8px; }
h3.error { color: var(--vscode-errorForeground); }
h3.skipped, h3.stale { opacity: 0.6; }
pre { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 4px 6px; margin: 2px 0; white-space: pre-wrap; }
pre.stderr, .error { color: var(--vscode-errorForeground); }
h3.interrupted, .interrupted { color: var(--vscode-editorInfo-foreground); }
.name { font-family: var(--vscode-editor-font-family); font-weight: bold; }
.type, .note, .label, figcaption { opacity: 0.75; font-weight: normal; font-size: 0.9em; }
table.frame { border-collapse: collapse; font-family: var(--vscode-editor-font-family); font-size: 0.9em; margin: 2px 0; }
table.frame th, table.frame td { border: 1px solid var(--vscode-panel-border); padding: 1px 6px; text-align: right; }
img { max-width: 100%; background: white; }
figure { margin: 4px 0; }
</style></head><body><h2>${escapeHtml(title)}</h2>${body}</body></html>`;
}
