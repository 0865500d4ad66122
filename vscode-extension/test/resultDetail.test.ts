import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { outputChannelText } from "../src/decorations";
import type { ChunkResultParams, RunningDetail, SyntaxErrorDetail } from "../src/methods";
import {
  caretLines,
  DETAIL_CUT_NOTE,
  DRAWN_COPY_NOTE,
  detailColumn,
  detailOutcome,
  detailTarget,
  drawnAt,
  resultDetailText,
  runningNow,
} from "../src/resultDetail";

const URI = "file:///t/a.py";

function result(extra: Partial<ChunkResultParams> = {}): ChunkResultParams {
  return {
    uri: URI,
    version: 3,
    chunk: {
      index: 1,
      startLine: 1,
      endLine: 3,
      range: { start: { line: 1, character: 0 }, end: { line: 3, character: 20 } },
    },
    ok: true,
    skipped: false,
    values: [],
    expr: null,
    stdout: "",
    stderr: "",
    error: null,
    images: [],
    timings: { elapsedMs: 26.9 },
    truncated: false,
    ...extra,
  };
}

/** 4000 lines, 60,000 characters: more than a chunkResult (64 KiB of JSON for both streams)
 * and the hover carry. */
const LONG_OUT = Array.from({ length: 4000 }, (_, i) => `out line ${String(i).padStart(5, "0")}\n`).join("");
const LONG_ERR = LONG_OUT.replace(/out/g, "err");

describe("resultDetailText", () => {
  it("shows a long output whole, stdout then stderr, under the channel's headers", () => {
    const r = result({ stdout: LONG_OUT, stderr: LONG_ERR, values: [{ name: "i", type: "int", repr: "3999", summary: "3999" }] });
    const text = resultDetailText(r, "a.py");
    const lines = text.split("\n");
    assert.equal(lines[0], "[a.py:2-4] ok · 27 ms");
    assert.equal(lines[1], "i = 3999");
    assert.equal(lines[2], "[a.py:2-4] stdout");
    const out = lines.indexOf("[a.py:2-4] stdout");
    const err = lines.indexOf("[a.py:2-4] stderr");
    assert.deepEqual(lines.slice(out + 1, out + 4001), LONG_OUT.trimEnd().split("\n"));
    assert.deepEqual(lines.slice(err + 1, err + 4001), LONG_ERR.trimEnd().split("\n"));
    assert.ok(!text.includes("omitted"));
    // the body is the channel's rendering of the result, reused
    assert.ok(text.includes(outputChannelText(r, "a.py")!));
    assert.ok(text.endsWith("err line 03999\n"));
  });

  it("shows a failure's whole traceback", () => {
    const frames = Array.from({ length: 50 }, (_, i) => `  File "a.py", line 10, in boom\n    return boom(n - 1)  # ${i}\n`).join("");
    const traceback = `Traceback (most recent call last):\n${frames}ValueError: deep bottom\n`;
    const r = result({
      ok: false,
      chunk: { index: 4, startLine: 10, endLine: 10 },
      error: { type: "ValueError", message: "deep bottom", line: 8, traceback },
      timings: { elapsedMs: 1500 },
    });
    const text = resultDetailText(r, "a.py");
    const lines = text.split("\n");
    assert.equal(lines[0], "[a.py:11] error · 1.5 s");
    assert.equal(lines[1], "[a.py:9] ValueError: deep bottom");
    assert.equal(lines[2], "Traceback (most recent call last):");
    assert.equal(lines.filter((l) => l.includes("in boom")).length, 50);
    assert.ok(text.endsWith("ValueError: deep bottom\n"));
  });

  it("shows values in full, a trailing expression, a skipped statement and a cut answer", () => {
    const big = Array.from({ length: 30 }, (_, i) => `row ${i}`).join("\n");
    const text = resultDetailText(
      result({ values: [{ name: "df", type: "DataFrame", repr: big, summary: "DataFrame 30×1" }], expr: { name: "", type: "int", repr: "42", summary: "42" } }),
      "a.py",
    );
    assert.ok(text.includes(`df = ${big}\n`), text);
    assert.ok(text.includes("\n→ 42\n"), text);
    assert.ok(text.endsWith("(no output)\n"), text);
    assert.equal(
      resultDetailText(result({ skipped: true, ok: false }), "a.py"),
      "[a.py:2-4] skipped (not run: an earlier statement failed or the run stopped)\n",
    );
    const cut = resultDetailText(result({ stdout: "head\n[... 5 characters omitted ...]\ntail\n", truncated: true }), "a.py");
    assert.ok(cut.endsWith(`${DETAIL_CUT_NOTE}\n`), cut);
  });

  it("shows a syntax error's line with a caret under its column, as Python does", () => {
    const d: SyntaxErrorDetail = { uri: URI, version: 2, syntaxError: { line: 1, column: 4, message: "'(' was never closed" } };
    const source = (n: number): string | undefined => ["a = 1", "b = (1,"][n];
    assert.equal(
      resultDetailText(d, "bad.py", source),
      "[bad.py:2] syntax error (column 5)\n    b = (1,\n        ^\nSyntaxError: '(' was never closed\n",
    );
    // without the file's text (or past its end): where, and the message
    assert.equal(resultDetailText(d, "bad.py"), "[bad.py:2] syntax error (column 5)\nSyntaxError: '(' was never closed\n");
    assert.equal(resultDetailText(d, "bad.py", () => undefined), resultDetailText(d, "bad.py"));
    // the caret comes through detailOutcome too
    const shown = detailOutcome(d, 1, "bad.py", undefined, undefined, source);
    assert.ok(shown.kind === "show" && shown.text.includes("    b = (1,\n        ^\n"), JSON.stringify(shown));
  });

  it("puts the caret as Python does: indentation dropped, tabs kept, at most one past the end", () => {
    assert.deepEqual(caretLines("    return f(x))", 15), ["    return f(x))", "               ^"]);
    assert.deepEqual(caretLines("\tx = 1 +", 8), ["    \tx = 1 +", "    \t       ^"]);
    assert.deepEqual(caretLines("x = (", 40), ["    x = (", "         ^"]);
    assert.deepEqual(caretLines("  é = (", 6), ["    é = (", "        ^"]);
    assert.deepEqual(caretLines("", 0), ["    ", "    ^"]);
  });

  it("shows each line of output as a terminal leaves it (a progress bar's latest state)", () => {
    const text = resultDetailText(result({ stdout: "\r 0%\r 50%\r100%\ndone\r\n", stderr: "a\rb\n" }), "a.py");
    assert.equal(text, "[a.py:2-4] ok · 27 ms\n[a.py:2-4] stdout\n100%\ndone\n[a.py:2-4] stderr\nb\n");
  });
});

function runningDetail(extra: Partial<RunningDetail> = {}): RunningDetail {
  return { uri: URI, version: 3, running: true, startLine: 1, endLine: 5, elapsedS: 75.25, stdout: "", stderr: "", stdoutBefore: 0, stderrBefore: 0, ...extra };
}

describe("a statement still running", () => {
  it("is shown as running, with its output so far, not as a result", () => {
    const d = runningDetail({ stdout: "epoch 1\nepoch 2\r\n\r 10%\r100%\n", stderr: "warn\n" });
    const shown = detailOutcome(d, 3, "a.py");
    assert.equal(shown.kind, "show");
    assert.equal(
      shown.kind === "show" && shown.text,
      [
        "[a.py:2-6] running for 1 min 15 s, no result yet (ask again for more of its output)",
        "[a.py:2-6] stdout so far",
        "epoch 1",
        "epoch 2",
        "100%",
        "[a.py:2-6] stderr so far",
        "warn",
        "",
      ].join("\n"),
    );
    // whether or not the extension has seen it print
    assert.deepEqual(detailOutcome(d, 3, "a.py", "line"), shown);
  });

  it("says when it printed nothing yet, and how much of a long output is left out above", () => {
    assert.equal(
      resultDetailText(runningDetail({ startLine: 4, endLine: 4, elapsedS: 2.04 }), "a.py"),
      "[a.py:5] running for 2.0 s, no result yet (ask again for more of its output)\n(no output yet)\n",
    );
    const long = resultDetailText(runningDetail({ stdout: "row 9998\nrow 9999\n", stdoutBefore: 123456 }), "a.py").split("\n");
    assert.deepEqual(long.slice(1), [
      "[a.py:2-6] stdout so far",
      "[... 123456 characters above not kept: the last 18 follow]",
      "row 9998",
      "row 9999",
      "",
    ]);
  });
});

describe("detailOutcome", () => {
  it("shows a result or a syntax error", () => {
    const shown = detailOutcome(result({ stdout: "hi\n" }), 1, "a.py");
    assert.equal(shown.kind, "show");
    assert.ok(shown.kind === "show" && shown.text.includes("[a.py:2-4] stdout\nhi"));
    const syntax = detailOutcome({ uri: URI, version: 1, syntaxError: { line: 0, column: 0, message: "bad" } }, 0, "a.py");
    assert.equal(syntax.kind, "show");
  });

  it("says when nothing ran on the line", () => {
    assert.deepEqual(detailOutcome(null, 4, "a.py"), { kind: "nothing", message: "Eager: nothing ran on line 5 of a.py." });
    assert.deepEqual(detailOutcome(null, 4, "a.py", undefined), detailOutcome(null, 4, "a.py"));
  });

  it("says the line is still running rather than that nothing ran there", () => {
    const line = detailOutcome(null, 2, "a.py", "line");
    assert.equal(line.kind, "nothing");
    assert.ok(line.kind === "nothing" && line.message.startsWith("Eager: line 3 of a.py is still running"), JSON.stringify(line));
    assert.deepEqual(detailOutcome(null, 6, "a.py", "file"), {
      kind: "nothing",
      message: "Eager: nothing has run on line 7 of a.py yet (the file is still running).",
    });
    // a result is shown as it is
    assert.equal(detailOutcome(result({ stdout: "hi\n" }), 1, "a.py", "line").kind, "show");
  });

  it("is quiet on a refusal or without a server (both are said elsewhere)", () => {
    assert.deepEqual(detailOutcome({ error: "eager.resultDetail needs a 0-based `line` number", reason: "invalid" }, 0, "a.py"), { kind: "quiet" });
    assert.deepEqual(detailOutcome(undefined, 0, "a.py"), { kind: "quiet" });
  });

  it("a failed result (its error an object) is shown, not taken for a refusal", () => {
    const failed = result({ ok: false, error: { type: "KeyError", message: "'k'", traceback: "Traceback ...\nKeyError: 'k'\n" } });
    assert.equal(detailOutcome(failed, 1, "a.py").kind, "show");
  });
});

describe("detailTarget", () => {
  it("takes the hover link's {uri, line}, nothing else (the palette passes nothing)", () => {
    assert.deepEqual(detailTarget({ uri: URI, line: 4 }), { uri: URI, line: 4 });
    assert.equal(detailTarget(undefined), undefined);
    // the editor's context menu passes the file's Uri
    assert.equal(detailTarget({ scheme: "file", path: "/t/a.py" }), undefined);
    assert.equal(detailTarget({ uri: URI, line: -1 }), undefined);
    assert.equal(detailTarget({ uri: URI, line: 1.5 }), undefined);
    assert.equal(detailTarget({ uri: 3, line: 1 }), undefined);
  });

  it("writes an interrupted statement's error as Python does", () => {
    const r = result({
      ok: false,
      error: { type: "KeyboardInterrupt", message: "", line: 2, traceback: "Traceback (most recent call last):\nKeyboardInterrupt\n" },
    });
    assert.match(resultDetailText(r, "a.py"), /^\[a\.py:2-4\] error · 27 ms\n\[a\.py:3\] KeyboardInterrupt\nTraceback/);
  });
});

describe("runningNow", () => {
  const running = { uri: URI, state: "running" as const, chunksRunning: 1, runningLines: [2] };
  it("is the line when a statement starting there runs, or one drawn as running covers it", () => {
    assert.equal(runningNow(running, 2, false), "line");
    assert.equal(runningNow(running, 3, true), "line");
    assert.equal(runningNow(undefined, 3, true), "line");
  });
  it("is the file when the file runs or generates elsewhere", () => {
    assert.equal(runningNow(running, 5, false), "file");
    assert.equal(runningNow({ uri: URI, state: "generating" }, 0, false), "file");
  });
  it("is nothing when the file does not run", () => {
    assert.equal(runningNow({ uri: URI, state: "idle", message: "interrupted", runningLines: [2] }, 2, false), undefined);
    assert.equal(runningNow({ uri: URI, state: "error" }, 2, false), undefined);
    assert.equal(runningNow(undefined, 2, false), undefined);
  });
});

describe("drawnAt", () => {
  // ran on lines 2-4 (0-based 1-3), failed on line 3; two lines were inserted above it since
  const failed = result({ ok: false, stdout: "partial\n", error: { type: "ValueError", message: "bad", line: 2, traceback: "Traceback ...\nValueError: bad\n" } });
  const entries = [{ result: failed, startLine: 3, endLine: 5, stale: true }];

  it("is the result drawn over the line, in its lines as they are now", () => {
    assert.equal(drawnAt(entries, 2), undefined);
    assert.equal(drawnAt(entries, 6), undefined);
    const d = drawnAt(entries, 4) as ChunkResultParams;
    assert.match(resultDetailText(d, "a.py"), /^\[a\.py:4-6\] error · 27 ms\n\[a\.py:4-6\] stdout\npartial\n\[a\.py:5\] ValueError: bad\n/);
    // not a statement that is no longer there: that one was edited (or deleted) since it ran
    assert.equal(drawnAt([{ ...entries[0]!, gone: true }], 4), "edited");
    assert.equal(drawnAt([{ ...entries[0]!, gone: true }], 6), undefined);
  });

  it("says a line was edited since it ran, rather than that nothing ran there", () => {
    const gone = [{ ...entries[0]!, gone: true }];
    assert.deepEqual(detailOutcome(null, 4, "a.py", undefined, drawnAt(gone, 4)), {
      kind: "nothing",
      message: "Eager: line 5 of a.py was edited since it ran: nothing has run there as it is now.",
    });
    // a result drawn over the line takes precedence over one gone from it
    assert.equal(detailOutcome(null, 4, "a.py", undefined, drawnAt([...gone, entries[0]!], 4)).kind, "show");
  });

  it("is shown, said to be the editor's copy, when the server no longer has a result there", () => {
    const shown = detailOutcome(null, 4, "a.py", undefined, drawnAt(entries, 4));
    assert.equal(shown.kind, "show");
    assert.ok(shown.kind === "show" && shown.text.startsWith(`${DRAWN_COPY_NOTE}\n[a.py:4-6] error`), JSON.stringify(shown));
    // the server's answer first; a line still running is said to be
    const server = detailOutcome(result(), 4, "a.py", undefined, drawnAt(entries, 4));
    assert.ok(server.kind === "show" && server.text.startsWith("[a.py:2-4] ok"), JSON.stringify(server));
    assert.equal(detailOutcome(null, 4, "a.py", "line", drawnAt(entries, 4)).kind, "nothing");
  });
});

describe("detailColumn", () => {
  const doc = "eager-detail:/a.py%3A3%20whole%20output.txt?file%3A%2F%2F%2Ft%2Fa.py";
  const other = "eager-detail:/a.py%3A7%20whole%20output.txt?file%3A%2F%2F%2Ft%2Fa.py";
  const group = (viewColumn: number, active: boolean, details: string[], showsSource = false) => ({ viewColumn, active, details, showsSource });
  it("reuses the group that shows whole output, rather than a new group beside", () => {
    // asked from the rightmost group (2), the detail group (1) left of it: there
    assert.equal(detailColumn([group(1, false, [other]), group(2, true, [], true)], doc), 1);
    assert.equal(detailColumn([group(1, true, [], true), group(2, false, [other])], doc), 2);
    // asked while the whole output group (the rightmost) is the active one: that group again
    assert.equal(detailColumn([group(1, false, [], true), group(2, true, [other])], doc), 2);
    assert.equal(detailColumn([group(1, false, [other]), group(2, false, [], true), group(3, true, [other])], doc), 3);
  });
  it("shows a document where it is open already", () => {
    assert.equal(detailColumn([group(1, false, [other]), group(2, true, [doc])], doc), 2);
    assert.equal(detailColumn([group(1, true, [doc], true), group(2, false, [other])], doc), 2);
  });
  it("is beside the editor when no group shows whole output but the source's", () => {
    assert.equal(detailColumn([group(1, true, [], true)], doc), undefined);
    assert.equal(detailColumn([group(1, true, [other, doc], true)], doc), undefined);
    assert.equal(detailColumn([], doc), undefined);
  });
});
