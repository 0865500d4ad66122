import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  ChangeLog,
  classify,
  gluesPartialLine,
  lineBreakAt,
  Debouncer,
  type OffsetChange,
  offsetAfterLines,
  rebasePos,
  rebaseRange,
  SerialQueue,
  TrackedRegion,
  rebaseAnchor,
  withEol,
} from "../src/region";
import { stopMessage } from "../src/stop";

/** A document and one generation writing into it, the way StreamWriter drives TrackedRegion. */
class Sim {
  region: TrackedRegion;
  written = "";
  constructor(
    public text: string,
    at: number,
  ) {
    this.region = new TrackedRegion(at);
  }
  user(offset: number, removed: number, text: string): string {
    const p = this.region.foreign({ offset, removed, text });
    this.text = this.text.slice(0, offset) + text + this.text.slice(offset + removed);
    return p;
  }
  gen(text: string): void {
    if (this.region.start === this.region.end) this.region.settle(this.text);
    const at = this.region.end;
    this.text = this.text.slice(0, at) + text + this.text.slice(at);
    this.region.ownInsert(text);
    this.written += text;
  }
  regionText(): string {
    return this.text.slice(this.region.start, this.region.end);
  }
}

const ins = (offset: number, text: string): OffsetChange => ({ offset, removed: 0, text });
const del = (offset: number, removed: number): OffsetChange => ({ offset, removed, text: "" });

describe("classify", () => {
  // region [10, 20)
  it("puts changes wholly before or after the region on their side", () => {
    assert.equal(classify(ins(3, "x"), 10, 20), "before");
    assert.equal(classify(del(2, 8), 10, 20), "before"); // a deletion ending at the start
    assert.equal(classify(ins(21, "x"), 10, 20), "after");
    assert.equal(classify(del(20, 4), 10, 20), "after"); // a deletion starting at the end
    assert.equal(classify({ offset: 5, removed: 0, text: "" }, 10, 20), "none");
  });

  it("treats typing at the insertion point (the end) as after the region", () => {
    assert.equal(classify(ins(20, "#"), 10, 20), "after");
    assert.equal(classify(ins(20, "# note\n"), 10, 20), "after");
  });

  it("treats text inserted at the start as before the region", () => {
    assert.equal(classify(ins(10, "# above\n"), 10, 20), "before");
    assert.equal(classify(ins(10, "x"), 10, 20), "before");
  });

  it("calls anything touching the inside a conflict", () => {
    assert.equal(classify(ins(15, "x"), 10, 20), "conflict");
    assert.equal(classify(del(19, 1), 10, 20), "conflict"); // backspace at the insertion point
    assert.equal(classify(del(5, 10), 10, 20), "conflict"); // across the start
    assert.equal(classify(del(15, 10), 10, 20), "conflict"); // across the end
    assert.equal(classify({ offset: 10, removed: 10, text: "y" }, 10, 20), "conflict");
  });

  it("puts text typed at an empty region's point before it (the line stays above the code)", () => {
    assert.equal(classify(ins(10, "#"), 10, 10), "before");
    assert.equal(classify(ins(10, "# pasted\r\n"), 10, 10), "before");
    assert.equal(classify(del(10, 3), 10, 10), "after");
    assert.equal(classify(del(7, 3), 10, 10), "before");
    assert.equal(classify(del(7, 6), 10, 10), "conflict");
  });
});

describe("TrackedRegion", () => {
  it("moves with edits above, ignores edits below, grows with our inserts", () => {
    const s = new Sim("top\n\nbottom\n", 4);
    s.gen("a = 1\n");
    assert.equal(s.user(0, 0, "# new\n"), "before");
    s.gen("b = 2\n");
    assert.equal(s.user(s.text.length, 0, "# end\n"), "after");
    s.gen("c = 3\n");
    assert.equal(s.regionText(), "a = 1\nb = 2\nc = 3\n");
    assert.equal(s.text, "# new\ntop\na = 1\nb = 2\nc = 3\n\nbottom\n# end\n");
  });

  it("keeps the user's text typed at the insertion point whole, after the generated lines", () => {
    const s = new Sim("x\n", 2);
    s.gen("a = 1\n");
    // The user's cursor sits at the insertion point; VS Code moves a cursor past text inserted at
    // it, and past text inserted before it.
    let cursor = s.region.end;
    for (const ch of "# typed\n") {
      assert.equal(s.user(cursor, 0, ch), "after");
      cursor += 1;
      const line = `v${ch.charCodeAt(0)} = 0\n`;
      if (s.region.end <= cursor) cursor += line.length;
      s.gen(line);
    }
    assert.ok(s.text.endsWith("# typed\n"), s.text);
    assert.equal(s.regionText(), s.written);
  });

  it("keeps a line typed at the insertion point before the first text arrives above the code", () => {
    const s = new Sim("# head\n", 7);
    for (const ch of "# early\n") assert.equal(s.user(s.region.start, 0, ch), "before");
    s.gen("v0 = 0\n");
    assert.equal(s.text, "# head\n# early\nv0 = 0\n");
  });

  it("puts an unfinished line typed at the empty point below the first generated line, whole", () => {
    const s = new Sim("# head\n", 7);
    let cursor = 7;
    for (const ch of "# pr") {
      assert.equal(s.user(cursor, 0, ch), "before");
      cursor++;
    }
    s.gen("v0 = 0\n");
    cursor += "v0 = 0\n".length; // VS Code moves a cursor past text inserted before it
    for (const ch of "un\n") {
      assert.equal(s.user(cursor, 0, ch), "after");
      cursor++;
    }
    s.gen("v1 = 1\n");
    assert.equal(s.text, "# head\nv0 = 0\nv1 = 1\n# prun\n");
    assert.equal(s.regionText(), "v0 = 0\nv1 = 1\n");
  });

  it("keeps a line the user was typing when a rebased begin arrived whole, below the first generated line", () => {
    // The server placed the point at the start of line 1 ("# head\n" + point); before the begin
    // reached the editor the user had typed "# pr" there: the begin is rebased past it, to 11.
    const text = "# head\n# pr";
    const log = new ChangeLog(1);
    log.record(2, [{ start: { line: 1, character: 0 }, end: { line: 1, character: 0 }, text: "# pr" }]);
    const moved = rebaseRange(log, { line: 1, character: 0 }, { line: 1, character: 0 }, 1)!;
    assert.deepEqual(moved.start, { line: 1, character: 4 });
    const from = 7 + moved.start.character;
    const s = new Sim(text, from);
    const anchor = rebaseAnchor(log, { line: 1, character: 0 }, 1)!;
    assert.deepEqual(anchor, { line: 1, character: 0 }); // where the typed text begins
    s.region = new TrackedRegion(from, from, 7 + anchor.character);
    let cursor = from;
    s.gen("v0 = 0\n");
    cursor += "v0 = 0\n".length; // VS Code moves a cursor past text inserted before it
    for (const ch of "un\n") {
      assert.equal(s.user(cursor, 0, ch), "after");
      cursor++;
    }
    s.gen("v1 = 1\n");
    assert.equal(s.text, "# head\nv0 = 0\nv1 = 1\n# prun\n");
    assert.equal(s.regionText(), "v0 = 0\nv1 = 1\n");
    // Text typed before the point on its line is not typed at it: the anchor moves past it.
    const log2 = new ChangeLog(1);
    log2.record(2, [{ start: { line: 1, character: 0 }, end: { line: 1, character: 0 }, text: "ab" }]);
    log2.record(3, [{ start: { line: 1, character: 0 }, end: { line: 1, character: 0 }, text: "x" }]);
    assert.deepEqual(rebaseAnchor(log2, { line: 1, character: 2 }, 2), { line: 1, character: 3 });
    assert.equal(rebaseAnchor(log2, { line: 1, character: 2 }, 0), undefined); // older than the log
  });

  it("keeps the finished lines typed at the empty point above, the unfinished one below", () => {
    const s = new Sim("# head\n", 7);
    let cursor = 7;
    for (const ch of "# a\n# b") {
      s.user(cursor, 0, ch);
      cursor++;
    }
    s.gen("v0 = 0\n");
    assert.equal(s.text, "# head\n# a\nv0 = 0\n# b");
  });

  it("stops following after a conflict and reports why", () => {
    const s = new Sim("", 0);
    s.gen("a = 1\nb = 2\n");
    assert.equal(s.user(2, 0, "X"), "conflict");
    assert.equal(s.region.conflicted, true);
    assert.match(s.region.reason ?? "", /edited/);
    const before = [s.region.start, s.region.end];
    assert.equal(s.user(0, 0, "# more\n"), "conflict");
    assert.deepEqual([s.region.start, s.region.end], before);
  });

  it("after a conflict above the unfinished last line, still knows where that line is", () => {
    const s = new Sim("# top\n\n# end\n", 6);
    s.gen("a = 1\nb = 2\ne = d");
    assert.equal(s.user(6, 1, "A"), "conflict"); // `a` → `A`: above the unfinished line
    assert.equal(s.user(0, 0, "# more\n"), "conflict"); // typing above moves it
    const at = s.region.unfinished();
    assert.ok(at);
    assert.equal(at.text, "e = d");
    assert.equal(s.text.slice(at.start, at.end), "e = d");
    assert.equal(s.text.slice(at.end), "\n# end\n");
  });

  it("forgets the unfinished line once an edit touches it, or when the conflict was on it", () => {
    const on = new Sim("", 0);
    on.gen("a = 1\ne = d");
    on.user(9, 0, "X"); // typing on the unfinished line itself
    assert.equal(on.region.unfinished(), undefined);
    const joined = new Sim("", 0);
    joined.gen("a = 1\ne = d");
    joined.user(5, 1, ""); // the line break before it: now one line with the user's text
    assert.equal(joined.region.unfinished(), undefined);
    const later = new Sim("", 0);
    later.gen("a = 1\ne = d");
    later.user(0, 1, "A");
    assert.ok(later.region.unfinished());
    later.user(11, 0, "0"); // typed at its end afterwards
    assert.equal(later.region.unfinished(), undefined);
    const at = new Sim("", 0);
    at.gen("a = 1\ne = d");
    at.user(0, 1, "A");
    at.user(6, 0, "# "); // typed at its start
    assert.equal(at.region.unfinished(), undefined);
  });

  it("calls typing at the end of the unfinished line a conflict, at a line's end the insertion point", () => {
    const s = new Sim("# top\n\n", 6);
    s.gen("a = 1\ne = d");
    assert.equal(s.user(s.region.end, 0, " + 5"), "conflict"); // on the model's line
    assert.equal(s.region.unfinished(), undefined); // the user's line now: it stays
    const t = new Sim("# top\n\n", 6);
    t.gen("a = 1\ne = d");
    assert.equal(t.user(t.region.end, 0, "\n# mine"), "after"); // a line break first: below it
    const u = new Sim("# top\n\n", 6);
    u.gen("a = 1\n");
    assert.equal(u.user(u.region.end, 0, "# mine\n"), "after"); // the insertion point
  });

  it("has no unfinished line when the text ends with a line break", () => {
    const s = new Sim("", 0);
    s.gen("a = 1\ne = d");
    s.gen(" - 100\r\n");
    s.user(0, 1, "A");
    assert.equal(s.region.unfinished(), undefined);
    const cut = new Sim("", 0);
    cut.gen("a = 1\ne = d");
    cut.region.ownDelete(6, 5); // `end` with keepLines
    cut.user(0, 1, "A");
    assert.equal(cut.region.unfinished(), undefined);
  });

  it("ownDelete shrinks only the part inside the region", () => {
    const r = new TrackedRegion(10, 20);
    r.ownDelete(10, 10);
    assert.deepEqual([r.start, r.end], [10, 10]);
    const t = new TrackedRegion(10, 20);
    t.ownDelete(18, 5);
    assert.deepEqual([t.start, t.end], [10, 18]);
  });

  it("never loses, duplicates or reorders generated text under random typing outside it", () => {
    // A seeded generator: the same run every time.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let run = 0; run < 50; run++) {
      const s = new Sim("# head\n\n# tail\n", 7);
      const userLines: string[] = [];
      for (let i = 0; i < 150; i++) {
        s.gen(`v${i} = ${i}\n`);
        const kind = rnd(3);
        const line = `# u${run}-${i}\n`;
        if (kind === 0) {
          // a whole line somewhere above: at the start of a line before the region
          const starts = [0, ...[...s.text.slice(0, s.region.start)].flatMap((c, j) => (c === "\n" ? [j + 1] : []))].filter(
            (o) => o <= s.region.start,
          );
          assert.notEqual(s.user(starts[rnd(starts.length)]!, 0, line), "conflict");
        } else if (kind === 1) {
          assert.equal(s.user(s.text.length, 0, line), "after");
        } else {
          assert.equal(s.user(s.region.end, 0, line), "after");
        }
        userLines.push(line.trim());
      }
      assert.equal(s.regionText(), s.written);
      const generated = s.text.split("\n").filter((l) => /^v\d+ = \d+$/.test(l));
      assert.deepEqual(
        generated,
        Array.from({ length: 150 }, (_, i) => `v${i} = ${i}`),
      );
      const typed = s.text.split("\n").filter((l) => l.startsWith("# u"));
      assert.deepEqual([...typed].sort(), [...userLines].sort());
    }
  });
});

describe("rebasing a begin made for an older version", () => {
  const P = (line: number, character: number) => ({ line, character });
  const insAt = (line: number, character: number, text: string) => ({ start: P(line, character), end: P(line, character), text });

  it("moves a point past edits before it and keeps it for edits after it", () => {
    assert.deepEqual(rebasePos(P(3, 0), insAt(0, 0, "a\nb\n"), true), P(5, 0));
    assert.deepEqual(rebasePos(P(3, 4), { start: P(3, 0), end: P(3, 2), text: "xyz" }, true), P(3, 5));
    assert.deepEqual(rebasePos(P(3, 4), { start: P(1, 0), end: P(3, 2), text: "" }, true), P(1, 2));
    assert.deepEqual(rebasePos(P(3, 0), { start: P(3, 0), end: P(4, 0), text: "" }, true), P(3, 0));
    assert.deepEqual(rebasePos(P(3, 0), insAt(5, 0, "x"), true), P(3, 0));
    assert.equal(rebasePos(P(2, 3), { start: P(2, 0), end: P(2, 5), text: "" }, true), undefined);
  });

  it("sends text typed at the point before it (start) or after it (end)", () => {
    assert.deepEqual(rebasePos(P(2, 0), insAt(2, 0, "# typed\n"), true), P(3, 0));
    assert.deepEqual(rebasePos(P(2, 0), insAt(2, 0, "#"), true), P(2, 1));
    assert.deepEqual(rebasePos(P(2, 0), insAt(2, 0, "#"), false), P(2, 0));
  });

  it("replays the versions after the one the server saw", () => {
    const log = new ChangeLog(4);
    log.record(5, [insAt(0, 0, "# one\n")]);
    log.record(6, [insAt(0, 0, "# two\n")]);
    log.record(7, [insAt(9, 0, "below\n")]);
    const at = (v: number) => rebaseRange(log, P(2, 0), P(2, 0), v)?.start;
    assert.deepEqual(at(7), P(2, 0));
    assert.deepEqual(at(5), P(3, 0));
    assert.deepEqual(at(4), P(4, 0));
    assert.equal(at(3), undefined); // older than anything logged
  });

  it("refuses a range to replace that was edited inside, keeps one edited around", () => {
    const log = new ChangeLog(0);
    log.record(1, [insAt(2, 0, "# above\n")]);
    log.record(2, [insAt(6, 0, "# below\n")]);
    assert.deepEqual(rebaseRange(log, P(3, 0), P(5, 0), 0), { start: P(4, 0), end: P(6, 0) }); // typed at its end: after it
    log.record(3, [insAt(5, 2, "X")]);
    assert.equal(rebaseRange(log, P(3, 0), P(5, 0), 0), undefined);
  });

  it("forgets the oldest versions beyond its size", () => {
    const log = new ChangeLog(0, 3);
    for (let v = 1; v <= 5; v++) log.record(v, [insAt(0, 0, "x\n")]);
    assert.equal(log.since(1), undefined);
    assert.equal(log.since(2)?.length, 3);
  });
});

describe("offsetAfterLines", () => {
  it("finds where the first k lines end", () => {
    assert.equal(offsetAfterLines("a\nbb\nc", 0), 0);
    assert.equal(offsetAfterLines("a\nbb\nc", 1), 2);
    assert.equal(offsetAfterLines("a\nbb\nc", 2), 5);
    assert.equal(offsetAfterLines("a\nbb\nc", 3), undefined);
    assert.equal(offsetAfterLines("a\r\nb\r\n", 2), 6);
  });
});

describe("SerialQueue", () => {
  it("runs one job at a time in order, and goes on after a failure", async () => {
    const q = new SerialQueue();
    const events: string[] = [];
    let running = 0;
    const job = (name: string, ms: number, fail = false) => async () => {
      running++;
      assert.equal(running, 1, "two jobs ran at once");
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      events.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
      return name;
    };
    const a = q.run(job("a", 20));
    const b = q.run(job("b", 1, true));
    const c = q.run(job("c", 5));
    assert.equal(q.size, 3);
    assert.equal(await a, "a");
    await assert.rejects(b, /b/);
    assert.equal(await c, "c");
    assert.deepEqual(events, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    assert.equal(q.size, 0);
  });
});

describe("Debouncer", () => {
  it("fires once per key after the pokes stop", async () => {
    const fired: string[] = [];
    const d = new Debouncer<string>(15, (k) => fired.push(k));
    d.poke("a");
    d.poke("b");
    d.poke("a");
    d.cancel("b");
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(fired, ["a"]);
    d.dispose();
  });
});

describe("withEol and stopMessage", () => {
  it("measures the line break at an offset", () => {
    assert.deepEqual(["a\r\nb", "a\nb", "a\rb", "ab", "a"].map((t) => lineBreakAt(t, 1)), [2, 1, 1, 0, 0]);
  });

  it("declines a partial line only where text follows on its line", () => {
    const doc = "v2=2\n# mine\n\nend\r\nx";
    const mine = doc.indexOf("# mine");
    assert.equal(gluesPartialLine(doc, mine, "v3="), true); // v3=# mine
    assert.equal(gluesPartialLine(doc, mine, "v3=3\n"), false); // a whole line goes above it
    assert.equal(gluesPartialLine(doc, mine, "3\r\nv4=4\r\n"), false);
    assert.equal(gluesPartialLine(doc, mine + 7, "v3="), false); // an empty line
    assert.equal(gluesPartialLine(doc, doc.indexOf("\r"), "v3="), false); // before \r\n
    assert.equal(gluesPartialLine(doc, doc.length, "v3="), false); // the end of the document
    assert.equal(gluesPartialLine(doc, doc.length - 1, "v3="), true);
  });

  it("writes line breaks the document's way", () => {
    assert.equal(withEol("a\nb\r\nc", "\n"), "a\nb\nc");
    assert.equal(withEol("a\nb\r\nc\n", "\r\n"), "a\r\nb\r\nc\r\n");
  });

  it("says what stop did", () => {
    assert.equal(stopMessage({ stopped: false }), "Eager: nothing was running.");
    assert.equal(stopMessage({ stopped: true }), "Eager: stopped.");
    assert.match(stopMessage({ stopped: true, interrupted: true }) ?? "", /interrupted/);
    assert.match(stopMessage({ stopped: true, interrupted: true, stateLost: true }) ?? "", /restarted/);
  });

  it("says nothing the summary of what it stopped already said", () => {
    assert.equal(stopMessage({ stopped: true }, true), undefined);
    // a stop whose interrupt landed is told by its summary; one that killed, by this message
    assert.equal(stopMessage({ stopped: true, interrupted: true }, true), undefined);
    assert.match(stopMessage({ stopped: true, interrupted: true, stateLost: true }, true) ?? "", /^Eager: stopped\. .*variables are gone/);
    assert.equal(stopMessage({ stopped: false }, true), "Eager: nothing was running.");
  });
});
