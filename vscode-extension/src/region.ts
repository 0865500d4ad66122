// Where generated text goes while the user keeps typing: the pure half of the write path
// (docs/vscode.md, "How generated text is written"). No `vscode` import: unit tests load it in Node.
//
// Rules (the reasons are in docs/architecture.md, "The VS Code write path"):
// - A generation owns a region [start, end) of the document, in UTF-16 offsets (what VS Code's
//   `offsetAt`/`rangeOffset` and LSP positions count). Our own inserts go at `end` and extend it.
// - Every other change is classified against the region, in the order VS Code reports it:
//   wholly before it → the region moves by the change's length difference; wholly after it →
//   nothing; overlapping it → a conflict (the user edited generated text: the generation stops,
//   both texts stay).
// - The two boundaries. An insertion at `end` (the insertion point) is *after* the region: the
//   user's text follows the generated text and the next generated text goes before it, so
//   neither is bent. An insertion at `start` is *before* the region when it ends with a newline
//   (a whole line typed or pasted above); otherwise it would join the first generated line: a
//   conflict. While the region is still empty, start = end: a partial line typed there stays after
//   the point (the generation then writes above it, keeping both lines whole), a text ending in a
//   newline goes before it.
// - A position the server computed in an older document version is rebased through the changes
//   since then (ChangeLog) by the same rules, with the point treated as an empty region.

/** One replacement as VS Code reports it: offsets in the document *before* the change. */
export interface OffsetChange {
  offset: number;
  removed: number;
  text: string;
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

export type Placement = "before" | "after" | "conflict" | "none";

/** Where a change falls relative to the region [start, end) (see the rules above). */
export function classify(c: OffsetChange, start: number, end: number): Placement {
  const s = c.offset;
  const e = c.offset + c.removed;
  if (c.removed === 0 && c.text === "") return "none";
  if (e < start) return "before";
  if (e === start && s < e) return "before";
  if (s === start && e === start) {
    const endsLine = c.text.endsWith("\n") || c.text.endsWith("\r");
    if (start === end) return endsLine ? "before" : "after";
    return endsLine ? "before" : "conflict";
  }
  if (s > end) return "after";
  if (s === end && start < end) return "after";
  if (s === end && start === end) return "after"; // a deletion starting at the empty point
  return "conflict";
}

/** The generated region of one generation, followed through every change. */
export class TrackedRegion {
  private conflictReason: string | undefined;

  constructor(
    public start: number,
    public end: number = start,
  ) {}

  get conflicted(): boolean {
    return this.conflictReason !== undefined;
  }

  get reason(): string | undefined {
    return this.conflictReason;
  }

  /** A change someone else made; returns where it fell. After a conflict the region stops moving. */
  foreign(c: OffsetChange): Placement {
    if (this.conflicted) return "conflict";
    const p = classify(c, this.start, this.end);
    if (p === "before") {
      const delta = c.text.length - c.removed;
      this.start += delta;
      this.end += delta;
    } else if (p === "conflict") {
      this.conflictReason = "the generated text was edited";
    }
    return p;
  }

  /** Our own insert at the end: the region grows. */
  ownInsert(text: string): void {
    this.end += text.length;
  }

  /** Our own deletion of [offset, offset+removed) inside the region (a trimmed tail). */
  ownDelete(offset: number, removed: number): void {
    const s = Math.max(offset, this.start);
    const e = Math.min(offset + removed, this.end);
    if (e > s) this.end -= e - s;
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
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */ || ch === 10 /* \n */) {
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      line++;
      character = 0;
    } else {
      character++;
    }
    i++;
  }
  return { line, character };
}

/** `p` after the change, or undefined when the change swallowed it (a conflict). The point
 * behaves like an empty region (see `classify`). */
export function rebasePos(p: Pos, c: RangeChange): Pos | undefined {
  const removedNothing = cmp(c.start, c.end) === 0;
  if (removedNothing && c.text === "") return p;
  if (cmp(c.end, p) < 0 || (cmp(c.end, p) === 0 && !removedNothing)) {
    // Wholly before the point (or a deletion ending at it): the point moves.
    const newEnd = endOfInsert(c.start, c.text);
    if (p.line === c.end.line) {
      return { line: newEnd.line, character: newEnd.character + (p.character - c.end.character) };
    }
    return { line: p.line + (newEnd.line - c.end.line), character: p.character };
  }
  if (cmp(c.start, p) === 0 && removedNothing) {
    const endsLine = c.text.endsWith("\n") || c.text.endsWith("\r");
    return endsLine ? endOfInsert(c.start, c.text) : p;
  }
  if (cmp(c.start, p) >= 0) return p; // wholly after the point (or a deletion starting at it)
  return undefined;
}

/** The changes each document version brought, kept for a while so that a position the server
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

  /** `p` (a position in document version `from`) in the latest version; undefined when `from` is
   * older than the log or an edit swallowed the position. */
  rebase(p: Pos, from: number): Pos | undefined {
    if (from < this.baseVersion) return undefined;
    let cur: Pos | undefined = p;
    for (const entry of this.entries) {
      if (entry.version <= from) continue;
      for (const c of entry.changes) {
        cur = rebasePos(cur, c);
        if (cur === undefined) return undefined;
      }
    }
    return cur;
  }
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

/** Text with every line break as `eol` (what VS Code stores in a document of that EOL). */
export function withEol(text: string, eol: "\n" | "\r\n"): string {
  const lf = text.replace(/\r\n?/g, "\n");
  return eol === "\n" ? lf : lf.replace(/\n/g, "\r\n");
}
