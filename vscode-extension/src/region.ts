// Where generated text goes while the user keeps typing: the pure half of the write path
// (docs/vscode.md, "How generated text is written"). No `vscode` import: unit tests load it in Node.
//
// Rules (docs/protocol.md, "eager/streamEdit"; the reasons are in docs/architecture.md):
// - A generation owns a region [start, end) of the document, in UTF-16 offsets (what VS Code's
//   `offsetAt`/`rangeOffset` and LSP positions count). Our own inserts go at `end` and extend it.
// - Every other change is classified against the region, in the order VS Code reports it:
//   wholly before it → the region moves by the change's length difference; wholly after it →
//   nothing; touching its inside → a conflict (the user edited generated text: the generation
//   stops, both texts stay).
// - The boundaries behave like the protocol's marks: text inserted at `start` goes before the
//   region, text inserted at `end` (the insertion point) goes after it, so the next generated text
//   goes before the user's; while the region is empty, text inserted at its point goes before it
//   (a line typed at the insertion point as the generation starts stays above the code); an
//   unfinished line typed there when the first text arrives goes below it instead (`settle`), so
//   the first generated line is never joined to it.
// - `begin` names a position in the document version the server saw. When the user has typed
//   since, the position is rebased through the changes of the versions after it (ChangeLog), with
//   the same marks' rules, instead of refusing: with someone typing every few tens of
//   milliseconds, a refused `begin` would be refused again and again (docs/vscode.md).

/** One replacement as VS Code reports it: offsets in the document *before* the change. */
export interface OffsetChange {
  offset: number;
  removed: number;
  text: string;
}

export type Placement = "before" | "after" | "conflict" | "none";

/** Where a change falls relative to the region [start, end) (see the rules above). */
export function classify(c: OffsetChange, start: number, end: number): Placement {
  const s = c.offset;
  const e = c.offset + c.removed;
  if (c.removed === 0 && c.text === "") return "none";
  if (e <= start) return "before"; // ends at the start at the latest, or inserted there
  if (s >= end) return "after"; // starts at the end at the earliest, or inserted there
  return "conflict";
}

export interface Pos {
  line: number;
  character: number;
}

/** One replacement in line/character terms (VS Code's `contentChanges[i].range` and `text`). */
export interface RangeChange {
  start: Pos;
  end: Pos;
  text: string;
}

/** The generated region of one generation, followed through every change. */
export class TrackedRegion {
  private conflictReason: string | undefined;
  /** While the region is empty: where its point was placed, staying before text typed at it
   * (the point itself moves past such text). See `settle`. */
  private anchor: number | undefined;
  /** Our text after our last line break: the unfinished line we are writing ("" when the
   * region ends with a line break). */
  private tail = "";
  /** After a conflict that did not touch that unfinished line: where it is, followed through
   * later changes until one touches it. See `unfinished`. */
  private orphan: { start: number; end: number } | undefined;

  /** @param typedFrom for an empty region whose point was rebased past text the user typed at
   * it after the server's version (a `begin` for an older version): where that text begins.
   * It counts as typed at the point, so an unfinished line of it goes below the first
   * generated line (`settle`) instead of being joined to it. */
  constructor(
    public start: number,
    public end: number = start,
    typedFrom?: number,
  ) {
    if (start === end) this.anchor = typedFrom !== undefined && typedFrom < start ? typedFrom : start;
  }

  get conflicted(): boolean {
    return this.conflictReason !== undefined;
  }

  get reason(): string | undefined {
    return this.conflictReason;
  }

  /** A change someone else made; returns where it fell. After a conflict the region stops moving. */
  foreign(c: OffsetChange): Placement {
    if (this.conflicted) {
      this.followOrphan(c);
      return "conflict";
    }
    if (this.anchor !== undefined) {
      const s = c.offset;
      const e = c.offset + c.removed;
      if (e < this.anchor || (e === this.anchor && s < e)) this.anchor += c.text.length - c.removed;
      else if (s < this.anchor) this.anchor = undefined; // deleted around: no better place than the point
    }
    let p = classify(c, this.start, this.end);
    if (p === "after" && c.offset === this.end && c.removed === 0 && this.tail !== "" && !/^[\r\n]/.test(c.text)) {
      // Typed at the end of the unfinished line we are writing: on that line, not after it
      // (the rest of the model's line would go between: `e = d - 100` then the user's ` + 5`).
      p = "conflict";
    }
    if (p === "before") {
      const delta = c.text.length - c.removed;
      this.start += delta;
      this.end += delta;
    } else if (p === "conflict") {
      this.conflictReason = "the generated text was edited";
      const tailStart = this.end - this.tail.length;
      if (this.tail !== "" && c.offset + c.removed < tailStart) {
        // Edited above our unfinished line, not on it (nor the line break before it).
        const delta = c.text.length - c.removed;
        this.orphan = { start: tailStart + delta, end: this.end + delta };
      }
    }
    return p;
  }

  private followOrphan(c: OffsetChange): void {
    const o = this.orphan;
    if (!o || (c.removed === 0 && c.text === "")) return;
    const s = c.offset;
    const e = c.offset + c.removed;
    if (e < o.start) {
      const delta = c.text.length - c.removed;
      o.start += delta;
      o.end += delta;
    } else if (s <= o.end) {
      this.orphan = undefined; // on it, at its start or end, or across its line breaks
    }
  }

  /** Where the unfinished line we were writing is, and its text, when the user's edit inside
   * the region (a conflict) was above it and nothing touched it since; else undefined. The
   * line was never run: it is removed as a stop removes it (docs/protocol.md). */
  unfinished(): { start: number; end: number; text: string } | undefined {
    return this.orphan && { ...this.orphan, text: this.tail };
  }

  /** Our own placing edit is done: the region is the empty point `at`. */
  place(at: number): void {
    this.start = this.end = this.anchor = at;
  }

  /** Our own insert at the end: the region grows. */
  ownInsert(text: string): void {
    this.end += text.length;
    this.anchor = undefined;
    const lastBreak = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
    this.tail = lastBreak >= 0 ? text.slice(lastBreak + 1) : this.tail + text;
  }

  /** Before the first insert into the still empty region: the text typed at its point since it
   * was placed (`docText[anchor, start)`) went before it, as the marks' rule says. Whole lines of
   * it stay there (a line typed at the insertion point as the generation starts stays above the
   * code), but an unfinished last line would be joined to the first generated line: the region
   * goes back to the start of that line, so the generated text goes above it and both stay whole. */
  settle(docText: string): void {
    if (this.anchor === undefined || this.start !== this.end || this.anchor >= this.start) return;
    const typed = docText.slice(this.anchor, this.start);
    if (/[\r\n]$/.test(typed)) return;
    const lastBreak = Math.max(typed.lastIndexOf("\n"), typed.lastIndexOf("\r"));
    this.start = this.end = this.anchor + lastBreak + 1;
  }

  /** Our own deletion of [offset, offset+removed) inside the region (a trimmed tail). */
  ownDelete(offset: number, removed: number): void {
    const s = Math.max(offset, this.start);
    const e = Math.min(offset + removed, this.end);
    if (e > s) this.end -= e - s;
    this.tail = ""; // (only ever cuts after a line break: `end`'s keepLines)
  }

  markConflict(reason: string): void {
    this.conflictReason ??= reason;
  }
}

// ---- positions in line/character terms ------------------------------------------------------

function cmp(a: Pos, b: Pos): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

/** End position of `text` inserted at `at`. */
function endOfInsert(at: Pos, text: string): Pos {
  let line = at.line;
  let character = at.character;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */ || ch === 10 /* \n */) {
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      line++;
      character = 0;
    } else {
      character++;
    }
  }
  return { line, character };
}

/** `p` after the change, or undefined when the change swallowed it. `stickRight`: text inserted
 * exactly at `p` goes before it (a region's start, or an empty region's point); otherwise after
 * it (a region's end). */
export function rebasePos(p: Pos, c: RangeChange, stickRight: boolean): Pos | undefined {
  const removedNothing = cmp(c.start, c.end) === 0;
  if (removedNothing && c.text === "") return p;
  const atPoint = removedNothing && cmp(c.start, p) === 0;
  if (cmp(c.end, p) < 0 || (cmp(c.end, p) === 0 && !removedNothing) || (atPoint && stickRight)) {
    // Before the point (or a deletion ending at it, or an insertion at it that goes before it).
    const newEnd = endOfInsert(c.start, c.text);
    if (p.line === c.end.line) {
      return { line: newEnd.line, character: newEnd.character + (p.character - c.end.character) };
    }
    return { line: p.line + (newEnd.line - c.end.line), character: p.character };
  }
  if (cmp(c.start, p) >= 0) return p; // after the point (or a deletion starting at it)
  return undefined;
}

/** The changes each document version brought, kept for a while, so that a position the server
 * computed in an older version can be brought up to date. */
export class ChangeLog {
  private entries: { version: number; changes: RangeChange[] }[] = [];

  /** @param baseVersion the document's version when logging began (nothing older is known). */
  constructor(
    private baseVersion: number,
    private readonly keep = 2000,
  ) {}

  record(version: number, changes: RangeChange[]): void {
    this.entries.push({ version, changes });
    if (this.entries.length > this.keep) {
      const dropped = this.entries.splice(0, this.entries.length - this.keep);
      this.baseVersion = dropped[dropped.length - 1]!.version;
    }
  }

  /** The changes after version `from`, in order; undefined when `from` is older than the log. */
  since(from: number): RangeChange[] | undefined {
    if (from < this.baseVersion) return undefined;
    return this.entries.filter((e) => e.version > from).flatMap((e) => e.changes);
  }
}

/** A range of version `from` in the latest version: its start sticks right (text inserted there
 * goes before it), its end sticks left; undefined when the log does not reach back that far or a
 * change touched the inside of the range (or swallowed an empty range's point). */
export function rebaseRange(log: ChangeLog, start: Pos, end: Pos, from: number): { start: Pos; end: Pos } | undefined {
  const changes = log.since(from);
  if (!changes) return undefined;
  let s: Pos | undefined = start;
  let e: Pos | undefined = end;
  const empty = cmp(start, end) === 0;
  for (const c of changes) {
    if (!empty && cmp(c.start, e!) < 0 && cmp(c.end, s!) > 0) return undefined; // inside
    if (!empty && cmp(c.start, c.end) === 0 && cmp(c.start, s!) > 0 && cmp(c.start, e!) < 0) return undefined;
    s = rebasePos(s!, c, true);
    e = empty ? s : rebasePos(e!, c, false);
    if (!s || !e) return undefined;
  }
  return { start: s!, end: e! };
}

/** Where the text typed at a point of version `from` since then begins now: the point rebased
 * with text inserted at it going after it (the left side of what the marks' rule moved the
 * point past). Undefined when the log does not reach back or a change swallowed the point. */
export function rebaseAnchor(log: ChangeLog, p: Pos, from: number): Pos | undefined {
  const changes = log.since(from);
  if (!changes) return undefined;
  let q: Pos | undefined = p;
  for (const c of changes) {
    q = rebasePos(q, c, false);
    if (!q) return undefined;
  }
  return q;
}

// ---- one edit at a time -----------------------------------------------------------------------

/** Runs async jobs one after another, in the order they were queued (VS Code rejects a second
 * edit on an editor while one is in flight). A failing job does not stop the queue. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get size(): number {
    return this.pending;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(job, job);
    this.tail = result.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    return result;
  }
}

/** Calls `fire(key)` once `ms` after the last `poke(key)` for that key. */
export class Debouncer<K> {
  private timers = new Map<K, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly ms: number,
    private readonly fire: (key: K) => void,
  ) {}

  poke(key: K): void {
    const t = this.timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.fire(key);
      }, this.ms),
    );
  }

  cancel(key: K): void {
    const t = this.timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(key);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** The length of the line break at `offset` of `text`: 2 for "\r\n", 1 for "\n" or "\r", 0 for none. */
export function lineBreakAt(text: string, offset: number): number {
  if (text.startsWith("\r\n", offset)) return 2;
  return text[offset] === "\n" || text[offset] === "\r" ? 1 : 0;
}

/** Whether inserting `insert` at `offset` of `text` would glue a partial line (no line break at
 * its end) in front of text that follows on that line: the user's, typed after the region's end
 * before the server knew. Such an insert is declined (`conflict`) and comes again once whole. */
export function gluesPartialLine(text: string, offset: number, insert: string): boolean {
  return !/[\r\n]$/.test(insert) && offset < text.length && lineBreakAt(text, offset) === 0;
}

/** Text with every line break as `eol` (what VS Code stores in a document of that EOL). */
export function withEol(text: string, eol: "\n" | "\r\n"): string {
  const lf = text.replace(/\r\n?/g, "\n");
  return eol === "\n" ? lf : lf.replace(/\n/g, "\r\n");
}

/** Offset just after the k-th line break of `text` (0 for k = 0), undefined if it has fewer. */
export function offsetAfterLines(text: string, k: number): number | undefined {
  if (k === 0) return 0;
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\n" || (ch === "\r" && text[i + 1] !== "\n")) {
      seen++;
      if (seen === k) return i + 1;
    }
  }
  return undefined;
}
