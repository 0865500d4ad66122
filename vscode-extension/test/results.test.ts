import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { hoverMarkdown, outputChannelText } from "../src/decorations";
import type { ChunkResultParams } from "../src/methods";
import { escapeHtml, markdownTableToHtml, resultsHtml } from "../src/results";

const TABLE = "|  | a | b\\|c |\n|---|---|---|\n| 0 | 1 | <x> |\n| 1 | 2 | y |\n\nfirst 2 of 100 rows";

function result(extra: Partial<ChunkResultParams> = {}): ChunkResultParams {
  return {
    uri: "file:///t/a.py",
    chunk: { index: 0, startLine: 2, endLine: 2 },
    ok: true,
    values: [{ name: "df", type: "DataFrame", repr: "   a\n0  1", summary: "DataFrame 100×2", table: TABLE }],
    stdout: "hi\n",
    images: [{ path: "/tmp/eager-images-x/1-1.png", label: "figure 1", size: 100 }],
    timings: { elapsedMs: 3 },
    ...extra,
  };
}

const DATA = "data:image/png;base64,iVBORw0KGgo=";

describe("results panel", () => {
  it("turns the server's table into an HTML table, escaping cells", () => {
    const html = markdownTableToHtml(TABLE);
    assert.match(html, /<thead><tr><th><\/th><th>a<\/th><th>b\|c<\/th><\/tr><\/thead>/);
    assert.match(html, /<tr><th>0<\/th><td>1<\/td><td>&lt;x&gt;<\/td><\/tr>/);
    assert.match(html, /<div class="note">first 2 of 100 rows<\/div>/);
  });

  it("lists each statement with its values, output, images and error", () => {
    const failing = result({
      chunk: { index: 1, startLine: 4, endLine: 5 },
      ok: false,
      values: [],
      stdout: "",
      images: [],
      error: { type: "ZeroDivisionError", message: "division by zero", traceback: "Traceback <most recent>" },
    });
    const html = resultsHtml(
      "Results · a.py",
      [
        { result: result(), startLine: 2, endLine: 2, stale: false },
        { result: failing, startLine: 4, endLine: 5, stale: true },
      ],
      (p) => (p.endsWith("1-1.png") ? DATA : undefined),
      "vscode-webview:",
    );
    assert.match(html, /<h3 class="ok">line 3 · ok · 3\.0 ms<\/h3>/);
    assert.match(html, /<table class="frame">/);
    assert.match(html, /<pre>hi<\/pre>/);
    assert.ok(html.includes(`<img alt="figure 1" src="${DATA}">`), html);
    assert.match(html, /<h3 class="error stale">lines 5–6 · error · 3\.0 ms · stale<\/h3>/);
    assert.ok(html.includes("ZeroDivisionError: division by zero"));
    assert.ok(html.includes("Traceback &lt;most recent&gt;"));
    // Nothing is fetched: images are data: URIs and scripts are off.
    assert.ok(html.includes("default-src 'none'; img-src data:;"));
    assert.ok(!html.includes("<script"));
  });

  it("says which statements ran in parallel with this one", () => {
    const entry = (lines: number[]) => ({
      result: result({ timings: { elapsedMs: 400, parallelWith: lines } }),
      startLine: 2,
      endLine: 2,
      stale: false,
    });
    const html = resultsHtml("r", [entry([3, 4])], () => undefined, "vscode-webview:");
    assert.match(html, /<h3 class="ok">line 3 · ok · 400 ms · in parallel with lines 4, 5<\/h3>/);
    const one = resultsHtml("r", [entry([0])], () => undefined, "vscode-webview:");
    assert.match(one, /· in parallel with line 1<\/h3>/);
    // Two lines inserted above since it was published: the lines move with it.
    const moved = resultsHtml("r", [{ ...entry([3, 4]), startLine: 4, endLine: 4 }], () => undefined, "vscode-webview:");
    assert.match(moved, /<h3 class="ok">line 5 · ok · 400 ms · in parallel with lines 6, 7<\/h3>/);
    const none = resultsHtml("r", [entry([])], () => undefined, "vscode-webview:");
    assert.ok(!none.includes("in parallel"), none);
  });

  it("says when an image file is gone", () => {
    const html = resultsHtml("r", [{ result: result(), startLine: 2, endLine: 2, stale: false }], () => undefined, "x");
    assert.ok(html.includes("figure 1: /tmp/eager-images-x/1-1.png (no longer available)"));
  });

  it("escapes HTML", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("hover with rich output", () => {
  it("shows a data frame as its table and a figure as an image", () => {
    const md = hoverMarkdown(result(), 2, 2, false, () => DATA);
    assert.ok(md.includes(TABLE), md);
    assert.ok(!md.includes("```python\n   a\n0  1"), "the repr is replaced by the table");
    assert.ok(md.includes(`![figure 1](${DATA})`), md);
  });

  it("names the file when the image cannot be read", () => {
    const md = hoverMarkdown(result(), 2, 2, false, () => undefined);
    assert.ok(md.includes("figure 1: `/tmp/eager-images-x/1-1.png`"), md);
  });

  it("lists images in the output channel", () => {
    assert.ok(outputChannelText(result(), "a.py")!.includes("[a.py:3] image (figure 1): /tmp/eager-images-x/1-1.png"));
  });
});
