import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  RUNNING_TAIL,
  ResultTracker,
  type TextChange,
  chunkLines,
  clipBlock,
  errorHeadline,
  formatElapsed,
  hoverMarkdown,
  inlineText,
  outputChannelText,
  runningText,
  screenLine,
  truncate,
} from "../src/decorations";
import type { ChunkResultParams, OutputParams } from "../src/methods";

function result(start: number, end: number, extra: Partial<ChunkResultParams> = {}): ChunkResultParams {
  return {
    uri: "file:///t/a.py",
    version: 1,
    chunk: {
      index: 0,
      startLine: start,
      endLine: end,
      range: { start: { line: start, character: 0 }, end: { line: end, character: 5 } },
    },
    ok: true,
    values: [],
    stdout: "",
    stderr: "",
    timings: { elapsedMs: 0.4 },
    ...extra,
  };
}

/** A tiny document model that applies changes the way VS Code reports them. */
class Doc {
  lines: string[];
  constructor(text: string) {
    this.lines = text.split("\n");
  }
  reader = (line: number): string | undefined => (line >= 0 && line < this.lines.length ? this.lines[line] : undefined);
  /** Replace the range with `text`; returns the change as VS Code would report it. */
  edit(startLine: number, startCharacter: number, endLine: number, endCharacter: number, text: string): TextChange {
    const before = this.lines.slice(0, startLine);
    const head = this.lines[startLine]!.slice(0, startCharacter);
    const tail = this.lines[endLine]!.slice(endCharacter);
    const after = this.lines.slice(endLine + 1);
    const middle = (head + text + tail).split("\n");
    this.lines = [...before, ...middle, ...after];
    return { startLine, startCharacter, endLine, endCharacter, text };
  }
  insert(line: number, character: number, text: string): TextChange {
    return this.edit(line, character, line, character, text);
  }
}

describe("inline text", () => {
  it("shows bound values and the time", () => {
    const r = result(0, 0, { values: [{ name: "x", type: "int", repr: "42", summary: "42" }] });
    assert.equal(inlineText(r, 60), "⟵ x = 42 · 0.4 ms");
  });

  it("joins several values, a trailing expression and the first output line", () => {
    const r = result(0, 1, {
      values: [
        { name: "a", summary: "1" },
        { name: "b", summary: "'two'" },
      ],
      expr: { type: "int", repr: "3", summary: "3" },
      stdout: "\nhello\nworld\n",
      timings: { elapsedMs: 12.34 },
    });
    assert.equal(inlineText(r, 60), "⟵ a = 1, b = 'two' · 3 · » hello … (3 lines) · 12 ms");
    const out = (stdout: string, truncated = false) =>
      inlineText({ ...r, values: [], expr: undefined, stdout, truncated }, 60);
    // The same as the server's hint (tests/lsp/test_run_document.py has these cases too)
    assert.equal(out("a\r\n\r\n\r\n"), "⟵ » a · 12 ms"); // blank lines at the end do not count
    assert.equal(out("a\n   \n"), "⟵ » a · 12 ms");
    assert.equal(out("x\n".repeat(5) + "\n[... output truncated: 99 more characters]\n"), "⟵ » x … (5+ lines) · 12 ms");
    assert.equal(out("1\n2\n\n[... 900 characters omitted ...]\n8\n9\n"), "⟵ » 1 … (5+ lines) · 12 ms");
    assert.equal(out("hi\n", true), "⟵ » hi · 12 ms"); // another field was cut to fit, not this
    // a line redrawn with \r shows its latest state, as the server's hint (test_hover.py)
    assert.equal(out("1\r2\r3\r"), "⟵ » 3 · 12 ms"); // (lines are counted at \n, as the server does)
    assert.equal(out("\r0%\r50%\r100%\n"), "⟵ » 100% · 12 ms");
  });

  it("accepts a trailing expression given as a plain string", () => {
    assert.equal(inlineText(result(0, 0, { expr: "[1, 2]" }), 60), "⟵ [1, 2] · 0.4 ms");
  });

  it("truncates long values to inline.maxLength, keeping the time", () => {
    const long = "[" + Array.from({ length: 100 }, (_, i) => i).join(", ") + "]";
    const text = inlineText(result(0, 0, { values: [{ name: "xs", summary: long }] }), 20);
    assert.equal(text, "⟵ xs = [0, 1, 2, 3, 4… · 0.4 ms");
    assert.equal(Array.from(text.slice(2, text.indexOf(" · 0.4"))).length, 20);
  });

  it("collapses multi-line reprs", () => {
    const r = result(0, 0, { values: [{ name: "df", summary: "   a  b\n0  1  2\n1  3  4" }] });
    assert.equal(inlineText(r, 60), "⟵ df = a b 0 1 2 1 3 4 · 0.4 ms");
  });

  it("shows errors, skipped chunks, empty results and staleness", () => {
    const err = result(2, 2, {
      ok: false,
      error: { type: "ZeroDivisionError", message: "division by zero", line: 2 },
      timings: { elapsedMs: 1500 },
    });
    assert.equal(inlineText(err, 60), "⟵ ✗ ZeroDivisionError: division by zero · 1.5 s");
    assert.equal(inlineText(result(3, 3, { skipped: true, ok: false }), 60), "⟵ skipped");
    assert.equal(inlineText(result(0, 0), 60), "⟵ ✓ · 0.4 ms");
    assert.equal(
      inlineText(result(0, 0, { values: [{ name: "x", summary: "42" }] }), 60, true),
      "⟵ x = 42 · 0.4 ms · stale",
    );
  });

  it("formats times and truncates by code points", () => {
    assert.equal(formatElapsed(0.04), "0.0 ms");
    assert.equal(formatElapsed(9.96), "10.0 ms");
    assert.equal(formatElapsed(250), "250 ms");
    assert.equal(formatElapsed(61_000), "1 min 1 s");
    assert.equal(formatElapsed(undefined), undefined);
    assert.equal(formatElapsed(-1), undefined);
    assert.equal(truncate("😀😀😀😀", 3), "😀😀…");
    assert.equal(truncate("abc", 3), "abc");
  });
});

describe("hover and output channel", () => {
  it("has the full value, output and traceback", () => {
    const r = result(3, 5, {
      ok: false,
      values: [{ name: "x", type: "int", repr: "42", summary: "42" }],
      stdout: "hi\n",
      stderr: "warn\n",
      error: { type: "ZeroDivisionError", message: "division by zero", line: 5, traceback: "Traceback …\nZeroDivisionError" },
    });
    const md = hoverMarkdown(r, 3, 5, true);
    assert.match(md, /\*\*Eager\*\* · lines 4–6 · 0\.4 ms/);
    assert.match(md, /Stale/);
    assert.match(md, /`x`: \*int\*\n\n```python\n42\n```/);
    assert.match(md, /Output:\n\n```text\nhi\n```/);
    assert.match(md, /stderr:\n\n```text\nwarn\n```/);
    assert.match(md, /\*\*ZeroDivisionError\*\*: division by zero/);
    assert.match(md, /```text\nTraceback …\nZeroDivisionError\n```/);
  });

  it("writes an exception without a message as Python does: its type alone", () => {
    assert.equal(errorHeadline({ type: "KeyboardInterrupt", message: "" }), "KeyboardInterrupt");
    assert.equal(errorHeadline({ type: "ValueError", message: "bad" }), "ValueError: bad");
    const r = result(2, 2, {
      ok: false,
      error: { type: "KeyboardInterrupt", message: "", line: 2, traceback: "Traceback (most recent call last):\nKeyboardInterrupt\n" },
    });
    const md = hoverMarkdown(r, 2, 2);
    assert.match(md, /\*\*KeyboardInterrupt\*\*\n\n```text/);
    assert.doesNotMatch(md, /KeyboardInterrupt\*\*:/);
    assert.match(outputChannelText(r, "a.py")!, /^\[a\.py:3\] KeyboardInterrupt\nTraceback/);
    assert.equal(inlineText(r, 80), "⟵ ✗ KeyboardInterrupt · 0.4 ms");
  });

  // 100 frames of a recursion, ~5,700 characters: more than a hover block
  const frames = Array.from({ length: 100 }, (_, i) => `  File "/p/deep.py", line ${i % 2 ? 7 : 5}, in f${i}\n    return g(n - 1)\n`).join("");
  const deep = `Traceback (most recent call last):\n${frames}ZeroDivisionError: division by zero\n`;

  it("keeps a long traceback's first lines and its end, where it was raised", () => {
    const { text, cut } = clipBlock(deep, "ends");
    assert.equal(cut, true);
    assert.ok(text.length <= 4100, String(text.length));
    assert.ok(text.startsWith("Traceback (most recent call last):\n  File \"/p/deep.py\", line 5, in f0\n"), text.slice(0, 100));
    assert.ok(text.endsWith('line 7, in f99\n    return g(n - 1)\nZeroDivisionError: division by zero\n'), text.slice(-200));
    const marker = /\n\[\.\.\. (\d+) characters not shown here \.\.\.\]\n {2}File /.exec(text);
    assert.ok(marker, text);
    // whole lines on both sides, and the count is what is missing
    assert.equal(text.replace(marker[0], "\n  File ").length + Number(marker[1]), deep.length);
    assert.deepEqual(clipBlock("short\n", "ends"), { text: "short\n", cut: false });
  });

  it("links to the whole output when it shows a result cut, and only then", () => {
    const failed = result(4, 4, { ok: false, error: { type: "ZeroDivisionError", message: "division by zero", line: 2, traceback: deep } });
    const md = hoverMarkdown(failed, 4, 4);
    assert.match(md, /ZeroDivisionError: division by zero\n```/); // the traceback's end is shown
    // right under the heading
    const link = /^\*\*Eager\*\* · line 5 · 0\.4 ms\n\n\*Cut to fit\.\* \[Show whole output\]\(command:eager\.client\.showResultDetail\?([^ )]+) "Eager: Whole Output of Statement"\)\n\n\*\*ZeroDivisionError/.exec(md);
    assert.ok(link, md.slice(0, 300));
    assert.deepEqual(JSON.parse(decodeURIComponent(link[1]!)), [{ uri: "file:///t/a.py", line: 4 }]);
    // long output: the link, then its start and its end (where a run says how it went)
    const printed = "first\n" + "row\n".repeat(2000) + "last\n";
    const out = hoverMarkdown(result(1, 2, { stdout: printed }), 1, 2);
    assert.match(out, /^\*\*Eager\*\* · lines 2–3 · 0\.4 ms\n\n\*Cut to fit\.\* \[Show whole output\]\([^)]+\)\n\nOutput:\n\n```text\nfirst\n(row\n)+\[\.\.\. \d+ characters not shown here \.\.\.\]\n(row\n)+last\n```$/);
    // a progress bar as a terminal shows it: its latest state
    assert.match(hoverMarkdown(result(1, 1, { stdout: "10%\r50%\r100%\ndone\n" }), 1, 1), /```text\n100%\ndone\n```/);
    // the server cut its copy (truncated): the link, even when every block fits the hover
    assert.match(hoverMarkdown(result(1, 1, { stdout: "a\n", truncated: true }), 1, 1), /\[Show whole output\]/);
    // nothing cut: no link
    assert.doesNotMatch(hoverMarkdown(result(1, 1, { stdout: "a\n" }), 1, 1), /Show whole output/);
  });

  it("uses a longer fence when the value contains backticks", () => {
    const md = hoverMarkdown(result(0, 0, { values: [{ name: "s", repr: "'```'" }] }), 0, 0);
    assert.match(md, /````python\n'```'\n````/);
  });

  it("writes stdout, stderr and errors with 1-based locations", () => {
    const r = result(3, 5, {
      ok: false,
      stdout: "hello\n",
      stderr: "careful\n",
      error: { type: "ValueError", message: "bad", line: 4, traceback: "Traceback\nValueError: bad\n" },
    });
    assert.equal(
      outputChannelText(r, "a.py"),
      "[a.py:4-6] stdout\nhello\n[a.py:4-6] stderr\ncareful\n[a.py:5] ValueError: bad\nTraceback\nValueError: bad",
    );
    assert.equal(outputChannelText(result(0, 0), "a.py"), undefined);
  });
});

describe("chunk lines", () => {
  it("prefers the range and treats an end at character 0 as the line before", () => {
    assert.deepEqual(chunkLines({ index: 0, startLine: 9, endLine: 9, range: { start: { line: 3, character: 0 }, end: { line: 5, character: 12 } } }), { start: 3, end: 5 });
    assert.deepEqual(chunkLines({ index: 0, startLine: 3, endLine: 6, range: { start: { line: 3, character: 0 }, end: { line: 6, character: 0 } } }), { start: 3, end: 5 });
    assert.deepEqual(chunkLines({ index: 0, startLine: 2, endLine: 4 }), { start: 2, end: 4 });
  });
});

describe("result tracker", () => {
  const text = "x = 6 * 7\ny = x + 1\nz = 1 / 0";
  function tracked(doc: Doc): ResultTracker {
    const t = new ResultTracker();
    t.add(result(0, 0, { values: [{ name: "x", summary: "42" }] }), doc.reader);
    t.add(result(1, 1, { values: [{ name: "y", summary: "43" }] }), doc.reader);
    t.add(result(2, 2, { ok: false, error: { type: "ZeroDivisionError", message: "division by zero" } }), doc.reader);
    return t;
  }
  const lines = (t: ResultTracker) => t.views(60).map((v) => [v.startLine, v.endLine, v.stale]);

  it("keeps results fresh while text streams in after them", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.applyChanges([doc.insert(2, 9, '\nprint("never")')], doc.reader);
    t.applyChanges([doc.insert(3, 14, "\n")], doc.reader);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false], [2, 2, false]]);
  });

  it("moves results down when lines are inserted above them", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.applyChanges([doc.insert(0, 0, "import os\n\n")], doc.reader);
    assert.deepEqual(lines(t), [[2, 2, false], [3, 3, false], [4, 4, false]]);
    // A newline typed at the end of a line above the chunk also moves it.
    t.applyChanges([doc.insert(2, 9, "\n")], doc.reader);
    assert.deepEqual(lines(t), [[2, 2, false], [4, 4, false], [5, 5, false]]);
  });

  it("drops results whose code is gone (an emptied file keeps no stale values)", () => {
    const doc = new Doc("x = 1\ny = 2\n");
    const t = new ResultTracker();
    t.add(result(0, 0, { values: [{ name: "x", summary: "1" }] }), doc.reader);
    t.add(result(1, 1, { values: [{ name: "y", summary: "2" }] }), doc.reader);
    t.applyChanges([doc.edit(0, 0, 2, 0, "")], doc.reader);
    assert.deepEqual(doc.lines, [""]);
    assert.deepEqual(lines(t), []);
    assert.deepEqual(t.views(60), []);
  });

  it("replaces an earlier result of the same statement (statementId) wherever it has moved", () => {
    const doc = new Doc(text);
    const t = new ResultTracker();
    t.add(result(0, 0, { statementId: 7, values: [{ name: "x", summary: "42" }] }), doc.reader);
    t.add(result(1, 1, { statementId: 8, values: [{ name: "y", summary: "43" }] }), doc.reader);
    // Statement 7 ran again and the server places it on line 2 (y's line here): its new result
    // replaces y's (overlap) and the one the client had moved to line 1 (same statement).
    t.applyChanges([doc.insert(0, 0, "\n")], doc.reader);
    t.add(result(2, 2, { statementId: 7, values: [{ name: "x", summary: "41" }] }), doc.reader);
    assert.deepEqual(
      t.entries().map((e) => [e.startLine, e.result.values?.[0]?.summary]),
      [[2, "41"]],
    );
  });

  it("moves results up when lines above them are deleted", () => {
    const doc = new Doc("import os\n\n" + text);
    const t = new ResultTracker();
    t.add(result(3, 3, { values: [{ name: "y", summary: "43" }] }), doc.reader);
    t.applyChanges([doc.edit(0, 0, 2, 0, "")], doc.reader);
    assert.deepEqual(lines(t), [[1, 1, false]]);
    assert.equal(doc.lines[1], "y = x + 1");
  });

  it("marks a result stale when its own text changes, and fresh again after undo", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.applyChanges([doc.edit(1, 4, 1, 5, "2 * x")], doc.reader);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, true], [2, 2, false]]);
    assert.match(t.views(60)[1]!.text, /stale$/);
    t.applyChanges([doc.edit(1, 4, 1, 9, "x")], doc.reader);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false], [2, 2, false]]);
  });

  it("follows a multi-line chunk and notices an edit inside it", () => {
    const doc = new Doc("def f():\n    return 1\nv = f()");
    const t = new ResultTracker();
    t.add(result(0, 1), doc.reader);
    t.add(result(2, 2, { values: [{ name: "v", summary: "1" }] }), doc.reader);
    t.applyChanges([doc.insert(0, 0, "# header\n")], doc.reader);
    assert.deepEqual(lines(t), [[1, 2, false], [3, 3, false]]);
    // A line added after the chunk's last line leaves the chunk's own lines as they were (the
    // server, which re-chunks, says with eager/stale when that changes the chunk); v moves down.
    t.applyChanges([doc.insert(2, 12, "\n    pass")], doc.reader);
    assert.deepEqual(lines(t), [[1, 2, false], [4, 4, false]]);
    t.applyChanges([doc.edit(2, 4, 2, 12, "return 2")], doc.reader);
    assert.deepEqual(lines(t), [[1, 2, true], [4, 4, false]]);
  });

  it("handles several changes in one event (applied in order)", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    const c1 = doc.insert(2, 0, "# two\n");
    const c2 = doc.insert(0, 0, "# one\n");
    t.applyChanges([c1, c2], doc.reader);
    assert.deepEqual(lines(t), [[1, 1, false], [2, 2, false], [4, 4, false]]);
  });

  it("marks results from a line on stale when the server says so, until replaced", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.markStaleFrom(1);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, true], [2, 2, true]]);
    t.add(result(1, 1, { values: [{ name: "y", summary: "44" }] }), doc.reader);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false], [2, 2, true]]);
    assert.equal(t.views(60)[1]!.text, "⟵ y = 44 · 0.4 ms");
  });

  it("marks only the lines the server names stale when it gives toLine", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.markStaleFrom(1, 1);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, true], [2, 2, false]]);
  });

  it("replaces results that a new chunk overlaps", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.add(result(0, 1, { values: [{ name: "x", summary: "1" }] }), doc.reader);
    assert.deepEqual(lines(t), [[0, 1, false], [2, 2, false]]);
    assert.equal(t.size, 2);
  });

  it("draws nothing for a statement whose lines are deleted, and draws it again after undo", () => {
    // (its struck-through value stayed on whatever line moved up: a user's own, or the next
    // statement's, which then showed two values: a user-tour helper in VS Code)
    const doc = new Doc(text + "\n# tail");
    const t = tracked(doc);
    t.applyChanges([doc.edit(1, 0, 2, 0, "")], doc.reader);
    assert.deepEqual(doc.lines, ["x = 6 * 7", "z = 1 / 0", "# tail"]);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false]]);
    t.applyChanges([doc.edit(1, 0, 2, 0, "")], doc.reader); // and z
    assert.deepEqual(doc.lines, ["x = 6 * 7", "# tail"]);
    assert.deepEqual(lines(t), [[0, 0, false]]); // nothing on the user's `# tail`
    t.applyChanges([doc.insert(1, 0, "z = 1 / 0\n")], doc.reader); // undo
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false]]);
    t.applyChanges([doc.insert(1, 0, "y = x + 1\n")], doc.reader); // undo
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, false], [2, 2, false]]);
    assert.deepEqual(doc.lines, ["x = 6 * 7", "y = x + 1", "z = 1 / 0", "# tail"]);
  });

  it("still draws an edited statement's result, struck through", () => {
    const doc = new Doc(text);
    const t = tracked(doc);
    t.applyChanges([doc.edit(1, 0, 1, 9, "y = x + 2 + 3")], doc.reader);
    assert.deepEqual(lines(t), [[0, 0, false], [1, 1, true], [2, 2, false]]);
  });
});

describe("a statement still running (eager/output)", () => {
  const loop = "import time\nfor i in range(4):\n    print(\"tick\", i, flush=True)\n    time.sleep(0.6)\nprint(\"after\")";
  const live = (stdout: string, start = 1, end = 3, index = 1): OutputParams => ({
    uri: "file:///t/a.py",
    version: 1,
    chunk: { index, startLine: start, endLine: end, range: { start: { line: start, character: 0 }, end: { line: end, character: 19 } } },
    stdout,
    stderr: "",
  });
  const drawn = (t: ResultTracker): [number, number, string][] => t.views(60).map((v) => [v.startLine, v.endLine, v.text]);

  it("draws its last printed line after it while it runs, then its result", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.live(live("tick 0\n"), doc.reader);
    assert.deepEqual(drawn(t), [[1, 3, "⟵ … » tick 0"]]);
    t.live(live("tick 1\ntick 2"), doc.reader);
    assert.deepEqual(drawn(t), [[1, 3, "⟵ … » tick 2"]]);
    assert.match(t.views(60)[0]!.hover, /lines 2–4 · running[\s\S]*tick 0\ntick 1\ntick 2/);
    assert.deepEqual(t.entries(), []); // the results panel lists results only
    t.add(result(1, 3, { stdout: "tick 0\ntick 1\ntick 2\ntick 3\n", timings: { elapsedMs: 2400 } }), doc.reader);
    assert.deepEqual(drawn(t), [[1, 3, "⟵ » tick 0 … (4 lines) · 2.4 s"]]);
  });

  it("shows a progress bar's state now, and only dots while nothing but blanks was printed", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.live(live("\n\n"), doc.reader);
    assert.deepEqual(drawn(t), [[1, 3, "⟵ …"]]);
    t.live(live(" 10%|#   |\r 20%|##  |\r"), doc.reader);
    assert.deepEqual(drawn(t), [[1, 3, "⟵ … » 20%|## |"]]);
  });

  it("draws it instead of the earlier run's result at its lines, which comes back if the run ends without a new one", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.add(result(0, 0), doc.reader);
    t.add(result(1, 3, { stdout: "tick 0\n" }), doc.reader);
    assert.deepEqual(drawn(t), [[0, 0, "⟵ ✓ · 0.4 ms"], [1, 3, "⟵ » tick 0 · 0.4 ms"]]);
    t.live(live("tick 0\n"), doc.reader);
    assert.deepEqual(drawn(t), [[0, 0, "⟵ ✓ · 0.4 ms"], [1, 3, "⟵ … » tick 0"]]);
    assert.equal(t.settle(), true); // stopped: its result never came
    assert.deepEqual(drawn(t), [[0, 0, "⟵ ✓ · 0.4 ms"], [1, 3, "⟵ » tick 0 · 0.4 ms"]]);
    assert.equal(t.settle(), false);
  });

  it("follows its lines through edits above it, and stops drawing it when its own text is edited", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.live(live("tick 0\n"), doc.reader);
    t.applyChanges([doc.insert(0, 0, "# note\n")], doc.reader);
    assert.deepEqual(drawn(t), [[2, 4, "⟵ … » tick 0"]]);
    t.live(live("tick 1\n", 2, 4), doc.reader); // the server names its lines now
    assert.deepEqual(drawn(t), [[2, 4, "⟵ … » tick 1"]]);
    t.applyChanges([doc.insert(3, 4, "#")], doc.reader); // inside it: the server sends no more
    assert.deepEqual(drawn(t), []);
  });

  it("keeps only the end of a long output for the hover", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.live(live("x".repeat(RUNNING_TAIL) + "\n"), doc.reader);
    t.live(live("last line\n"), doc.reader);
    const v = t.views(20)[0]!;
    assert.equal(v.text, "⟵ … » last line");
    assert.match(v.hover, /```text\n…\nx+\nlast line\n```/);
    assert.ok(v.hover.length < RUNNING_TAIL + 200);
    assert.equal(runningText("a very long line that goes on and on", 10), "⟵ … » a very lo…");
  });

  it("clears with the document", () => {
    const doc = new Doc(loop);
    const t = new ResultTracker();
    t.live(live("tick 0\n"), doc.reader);
    assert.equal(t.size, 1);
    t.clear();
    assert.deepEqual(drawn(t), []);
    t.live(live("tick 0\n"), doc.reader);
    t.applyChanges([doc.edit(0, 0, 4, 14, "")], doc.reader); // select all, delete
    assert.deepEqual(drawn(t), []);
  });
});

describe("runningAt", () => {
  it("is true on the lines of a statement drawn as running, until its result or the run's end", () => {
    const t = new ResultTracker();
    const doc = ["import time", "for i in range(3):", "    print(i)", "    time.sleep(1)", "print('done')"];
    const get = (l: number): string | undefined => doc[l];
    const chunk = { index: 1, startLine: 1, endLine: 3, range: { start: { line: 1, character: 0 }, end: { line: 3, character: 17 } } };
    t.live({ uri: "file:///t/a.py", chunk, stdout: "0\n", stderr: "" }, get);
    assert.deepEqual([0, 1, 2, 3, 4].map((l) => t.runningAt(l)), [false, true, true, true, false]);
    t.settle();
    assert.equal(t.runningAt(2), false);
  });
});

describe("a line of output as a terminal leaves it", () => {
  it("draws it as the server and the terminal do (tests/cli/test_console_lines.py's table)", () => {
    const table: [string, string][] = [
      ["plain", "plain"],
      ["0%\r50%\r100%", "100%"],
      ["done   \r", "done   "],
      ["a\rb\r\r", "b"],
      ["x\r\r", "x"],
      ["\r\r", ""],
      ["a\r\rb", "b"],
    ];
    for (const [line, drawn] of table) assert.equal(screenLine(line), drawn, JSON.stringify(line));
  });
});
