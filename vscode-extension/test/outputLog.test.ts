import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { outputChannelText } from "../src/decorations";
import type { ChunkResultParams, OutputParams } from "../src/methods";
import { OutputLog } from "../src/outputLog";

const URI = "file:///t/a.py";

/** The loop of lines 2-4 (0-based 1..3), chunk 1 of its run. */
function chunk(index = 1, start = 1, end = 3): OutputParams["chunk"] {
  return {
    index,
    startLine: start,
    endLine: end,
    range: { start: { line: start, character: 0 }, end: { line: end, character: 20 } },
  };
}

function piece(stdout: string, stderr = "", extra: Partial<OutputParams> = {}): OutputParams {
  return { uri: URI, version: 3, chunk: chunk(), stdout, stderr, ...extra };
}

function result(stdout: string, extra: Partial<ChunkResultParams> = {}): ChunkResultParams {
  return {
    uri: URI,
    version: 3,
    chunk: chunk(),
    ok: true,
    values: [],
    stdout,
    stderr: "",
    timings: { elapsedMs: 2400 },
    ...extra,
  };
}

/** An OutputLog writing into a string, as the output channel shows it. */
function channel(): { log: OutputLog; text: () => string; appends: string[] } {
  const appends: string[] = [];
  return { log: new OutputLog((s) => appends.push(s)), text: () => appends.join(""), appends };
}

/** limits.clip_middle: the head and tail of `text` around a marker, `cap` code points in all. */
function clipMiddle(text: string, cap: number): string {
  const chars = Array.from(text);
  if (chars.length <= cap) return text;
  const keep = Math.max(cap - 60, 2);
  const head = Math.floor(keep / 2);
  const tail = keep - head;
  const omitted = chars.length - head - tail;
  return `${chars.slice(0, head).join("")}\n[... ${omitted} characters omitted ...]\n${chars.slice(chars.length - tail).join("")}`;
}

/** A result's stream as limits.fit_json cuts it once (to half its length), `truncated` set. */
function cutResult(stdout: string, extra: Partial<ChunkResultParams> = {}): ChunkResultParams {
  return result(clipMiddle(stdout, Math.floor(Array.from(stdout).length / 2)), { truncated: true, ...extra });
}

/** `text` as eager/output sends it: pieces of at most 4096 characters. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4096) out.push(text.slice(i, i + 4096));
  return out;
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

const TICKS = "tick 0\ntick 1\ntick 2\ntick 3\n";

describe("the Eager output channel, live", () => {
  it("prints a result that had no live output exactly as before", () => {
    const c = channel();
    const r = result("hello 42\n");
    c.log.result(r, "a.py");
    assert.equal(c.text(), outputChannelText(r, "a.py") + "\n");
    assert.equal(c.text(), "[a.py:2-4] stdout\nhello 42\n");
    c.log.result(result("", { chunk: chunk(2, 4, 4) }), "a.py"); // printed nothing: nothing
    assert.equal(c.text(), "[a.py:2-4] stdout\nhello 42\n");
  });

  it("shows a running statement's output as it arrives, under its header, and the rest once its result comes", () => {
    const c = channel();
    c.log.output(piece("tick 0\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0");
    c.log.output(piece("tick 1\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\ntick 1");
    const r = result(TICKS);
    c.log.result(r, "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\ntick 1\ntick 2\ntick 3\n");
    // The same text as without live output: nothing twice.
    assert.equal(c.text(), outputChannelText(r, "a.py") + "\n");
  });

  it("goes on inside a line: a piece may end in the middle of one", () => {
    const c = channel();
    c.log.output(piece("epoch 3 lo"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\nepoch 3 lo");
    c.log.output(piece("ss 0.41\nepoch 4"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\nepoch 3 loss 0.41\nepoch 4");
    c.log.result(result("epoch 3 loss 0.41\nepoch 4 loss 0.39\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\nepoch 3 loss 0.41\nepoch 4 loss 0.39\n");
  });

  it("prints nothing more when the live text was all of it", () => {
    const c = channel();
    c.log.output(piece("tick 0\n\n"), "a.py");
    c.log.output(piece("\n"), "a.py");
    c.log.result(result("tick 0\n\n\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\n");
    // Blank lines inside the output stay.
    const d = channel();
    d.log.output(piece("a\n\n"), "a.py");
    d.log.output(piece("b\n"), "a.py");
    d.log.result(result("a\n\nb\n"), "a.py");
    assert.equal(d.text(), "[a.py:2-4] stdout\na\n\nb\n");
  });

  it("shows the result's output whole, saying so, when it does not start with what was shown", () => {
    // (a Jupyter kernel's output cut in the middle)
    const c = channel();
    c.log.output(piece("tick 0\ntick 1\n"), "a.py");
    c.log.result(result("tick 0\n[... 10 characters omitted ...]\ntick 3\n"), "a.py");
    assert.equal(
      c.text(),
      "[a.py:2-4] stdout\ntick 0\ntick 1\n" + "[a.py:2-4] stdout (in full)\ntick 0\n[... 10 characters omitted ...]\ntick 3\n",
    );
  });

  it("keeps long output shown live when its result was cut to fit, adding only the end it lacked", () => {
    // 8 lines of 10 KB: the worker keeps 65,536 characters (sent live) and notes the rest; the
    // result's payload is cut in its middle. The first line must not be shown twice.
    const printed = Array.from({ length: 8 }, (_, i) => `line ${i} ${"x".repeat(10_000)}\n`).join("");
    const kept = printed.slice(0, 65_536);
    const note = `\n[... output truncated: ${printed.length - kept.length} more characters]\n`;
    const c = channel();
    for (const text of pieces(kept)) c.log.output(piece(text), "a.py");
    const r = cutResult(kept + note);
    assert.ok(r.stdout!.length < 33_000 && !r.stdout!.startsWith(kept));
    c.log.result(r, "a.py");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${kept}${note}` +
        "[a.py:2-4] stdout: above is all of it (the result's copy was cut to fit its payload; not repeated)\n",
    );
    assert.equal(count(c.text(), "line 0 "), 1);
    assert.equal(count(c.text(), "[a.py:2-4] stdout\n"), 1);
  });

  it("adds what a statement printed after its last live piece, when its result was cut to fit", () => {
    const line = (i: number): string => `epoch ${i} loss ${"0".repeat(200)}\n`;
    const all = Array.from({ length: 300 }, (_, i) => line(i)).join("") + "done, accuracy 0.93\n";
    const shownLive = Array.from({ length: 296 }, (_, i) => line(i)).join("") + "epoch 296 lo";
    const c = channel();
    for (const text of pieces(shownLive)) c.log.output(piece(text), "a.py");
    c.log.result(cutResult(all), "a.py");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${all.trimEnd()}\n` +
        "[a.py:2-4] stdout: above is all of it (the result's copy was cut to fit its payload; not repeated)\n",
    );
    assert.equal(count(c.text(), "epoch 296 "), 1);
  });

  it("counts characters as Python does when it finds where the live text ends in a cut result", () => {
    // Astral characters (two UTF-16 units each, one code point) before and after the cut.
    const line = (i: number): string => `🙂 step ${i} ${"🚀".repeat(50)}\n`;
    const all = Array.from({ length: 200 }, (_, i) => line(i)).join("");
    const shownLive = Array.from({ length: 197 }, (_, i) => line(i)).join("");
    const c = channel();
    for (const text of pieces(shownLive)) c.log.output(piece(text), "a.py");
    c.log.result(cutResult(all), "a.py");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${all.trimEnd()}\n` +
        "[a.py:2-4] stdout: above is all of it (the result's copy was cut to fit its payload; not repeated)\n",
    );
  });

  it("shows the cut result's end after a marker when it starts past what was shown", () => {
    // A burst at the end, longer than the result keeps of its tail: the middle reached nobody.
    const start = "warming up\n".repeat(100);
    const burst = Array.from({ length: 400 }, (_, i) => `row ${i}\n`).join("");
    const r = cutResult(start + burst);
    const tail = r.stdout!.split(" characters omitted ...]\n")[1]!;
    assert.ok(burst.endsWith(tail) && tail.length < burst.length);
    const c = channel();
    c.log.output(piece(start), "a.py");
    c.log.result(r, "a.py");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${start}[... ${burst.length - tail.length} characters omitted ...]\n${tail.trimEnd()}\n` +
        "[a.py:2-4] stdout: above is what was shown as it ran, then the end of the result's copy" +
        " (the result's copy was cut to fit its payload; not repeated)\n",
    );
    assert.equal(count(c.text(), "warming up"), 100);
  });

  it("keeps what was shown when a cut result's text cannot be lined up with it, saying so", () => {
    // A kernel cut its middle, then the payload was cut again: the marker left counts what was
    // left out of the kernel's copy, not of what was shown.
    const shownLive = Array.from({ length: 500 }, (_, i) => `tick ${i}\n`).join("");
    const kernelCut = clipMiddle(shownLive + "tick 500\n", 3000);
    const c = channel();
    for (const text of pieces(shownLive)) c.log.output(piece(text), "a.py");
    c.log.result(cutResult(kernelCut, { stderr: "a warning\n" }), "a.py");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${shownLive.trimEnd()}\n` +
        "[a.py:2-4] stdout: above is what was shown as it ran, maybe without its end" +
        " (the result's copy was cut to fit its payload; not repeated)\n" +
        // A stream not shown live is printed as the result has it.
        "[a.py:2-4] stderr\na warning\n",
    );
  });

  it("adds the end of a cut result to a stream the channel no longer ends with, under its header", () => {
    const all = Array.from({ length: 300 }, (_, i) => `tick ${i}\n`).join("");
    const shownLive = Array.from({ length: 290 }, (_, i) => `tick ${i}\n`).join("");
    const c = channel();
    c.log.output(piece(shownLive), "a.py");
    c.log.line("[summary] x");
    c.log.result(cutResult(all), "a.py");
    const rest = Array.from({ length: 10 }, (_, i) => `tick ${290 + i}`).join("\n");
    assert.equal(
      c.text(),
      `[a.py:2-4] stdout\n${shownLive}[summary] x\n[a.py:2-4] stdout (continued)\n${rest}\n` +
        "[a.py:2-4] stdout: above is all of it (the result's copy was cut to fit its payload; not repeated)\n",
    );
  });

  it("repeats the header, continued, when something else was written in between", () => {
    const c = channel();
    c.log.output(piece("tick 0\n"), "a.py");
    c.log.line("[client] eager.runDocument: {\"started\":true}");
    c.log.output(piece("tick 1\n"), "a.py");
    c.log.line("[summary] elapsed 1.0 s");
    c.log.result(result(TICKS), "a.py");
    assert.equal(
      c.text(),
      [
        "[a.py:2-4] stdout",
        "tick 0",
        '[client] eager.runDocument: {"started":true}',
        "[a.py:2-4] stdout (continued)",
        "tick 1",
        "[summary] elapsed 1.0 s",
        "[a.py:2-4] stdout (continued)",
        "tick 2",
        "tick 3",
        "",
      ].join("\n"),
    );
  });

  it("switches between stdout and stderr as they come, then adds each stream's rest", () => {
    const c = channel();
    c.log.output(piece("step 1\n", "warning: slow\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\nstep 1\n[a.py:2-4] stderr\nwarning: slow");
    c.log.output(piece("", "still slow\n"), "a.py");
    c.log.result(result("step 1\nstep 2\n", { stderr: "warning: slow\nstill slow\n" }), "a.py");
    assert.equal(
      c.text(),
      [
        "[a.py:2-4] stdout",
        "step 1",
        "[a.py:2-4] stderr",
        "warning: slow",
        "still slow",
        "[a.py:2-4] stdout (continued)",
        "step 2",
        "",
      ].join("\n"),
    );
  });

  it("puts the error after the output, as without live output", () => {
    const c = channel();
    c.log.output(piece("tick 0\n"), "a.py");
    const r = result("tick 0\ntick 1\n", {
      ok: false,
      error: { type: "KeyboardInterrupt", message: "", line: 3, traceback: "Traceback (most recent call last):\nKeyboardInterrupt\n" },
    });
    c.log.result(r, "a.py");
    assert.equal(c.text(), outputChannelText(r, "a.py") + "\n");
    assert.match(c.text(), /^\[a\.py:2-4\] stdout\ntick 0\ntick 1\n\[a\.py:4\] KeyboardInterrupt\nTraceback/);
  });

  it("keeps two documents' statements apart", () => {
    const c = channel();
    const b = "file:///t/b.py";
    c.log.output(piece("a0\n"), "a.py");
    c.log.output(piece("b0\n", "", { uri: b, chunk: chunk(0, 0, 0) }), "b.py");
    c.log.output(piece("a1\n"), "a.py");
    c.log.result(result("b0\nb1\n", { uri: b, chunk: chunk(0, 0, 0) }), "b.py");
    c.log.result(result("a0\na1\n"), "a.py");
    assert.equal(
      c.text(),
      [
        "[a.py:2-4] stdout",
        "a0",
        "[b.py:1] stdout",
        "b0",
        "[a.py:2-4] stdout (continued)",
        "a1",
        "[b.py:1] stdout (continued)",
        "b1",
        "", // a.py's result: nothing more than was shown; the line is ended
      ].join("\n"),
    );
  });

  it("forgets a statement whose run ended without its result: a later run starts afresh", () => {
    const c = channel();
    c.log.output(piece("tick 0\n"), "a.py");
    c.log.settle("file:///t/other.py"); // another document: no effect
    c.log.output(piece("tick 1\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\ntick 1");
    c.log.settle(URI); // stopped: no result comes
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\ntick 1\n");
    // The next run's statement of the same index prints the same text, too fast for live output.
    c.log.result(result("tick 0\ntick 1\ntick 2\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\ntick 1\n[a.py:2-4] stdout\ntick 0\ntick 1\ntick 2\n");
  });

  it("ends a live line when the server goes away", () => {
    const c = channel();
    c.log.output(piece("tick 0"), "a.py");
    c.log.clear();
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\n");
    c.log.output(piece("again\n"), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\n[a.py:2-4] stdout\nagain");
  });

  it("names the statement's lines as they are now", () => {
    // Lines were inserted above while it ran: the server sends its lines now.
    const c = channel();
    c.log.output(piece("tick 0\n"), "a.py");
    c.log.line("[summary] x");
    c.log.output(piece("tick 1\n", "", { chunk: chunk(1, 3, 5) }), "a.py");
    c.log.result(result("tick 0\ntick 1\n", { chunk: chunk(1, 3, 5) }), "a.py");
    assert.equal(c.text(), "[a.py:2-4] stdout\ntick 0\n[summary] x\n[a.py:4-6] stdout (continued)\ntick 1\n");
  });

  it("goes on past the worker's cap: only what followed the newest piece, nothing twice", () => {
    // The worker keeps a result's first and last 32 Ki characters; its live pieces go on past
    // the cap with the newest text after a marker of their own.
    const c = channel();
    const head = "h".repeat(32 * 1024);
    c.log.output(piece(head), "a.py");
    c.log.output(piece("\n[... 900 characters omitted ...]\nstep 41\nstep 42\n"), "a.py");
    const tail = `${"t".repeat(1000)}\nstep 41\nstep 42\nfinal 43\n`;
    c.log.result(result(`${head}\n[... 5000 characters omitted ...]\n${tail}`), "a.py");
    assert.equal(count(c.text(), "final 43"), 1);
    assert.equal(count(c.text(), "step 42"), 1);
    assert.ok(!c.text().includes("(in full)"), c.text().slice(-300));
    assert.ok(c.text().endsWith("step 42\nfinal 43\n"), c.text().slice(-100));
  });

  it("keeps a statement printing for hours bounded, and still ends it right", () => {
    const c = channel();
    const line = "x".repeat(4000) + "\n";
    for (let i = 0; i < 200; i++) c.log.output(piece(`${i} ${line}`), "a.py"); // ~800 K
    const tail = `199 ${line}done\n`;
    c.log.result(result(`${"0 x"}\n[... 790000 characters omitted ...]\n${tail}`), "a.py");
    assert.equal(count(c.text(), "done\n"), 1);
    assert.ok(!c.text().includes("(in full)"));
    assert.equal(count(c.text(), "199 x"), 1);
  });
});
