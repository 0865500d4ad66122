// The VS Code half of the write path: the server sends generated text as `eager/streamEdit`
// requests (begin / insert / end, docs/protocol.md) and the extension writes it into a region it
// tracks itself (region.ts), so the user can type anywhere while code streams in.
//
// Rules:
// - One edit at a time for the whole extension (SerialQueue): VS Code rejects a second edit on an
//   editor while one is in flight, and the region must be up to date before the next offset is
//   computed.
// - Every edit is version-checked by VS Code (`TextEditor.edit` and `workspace.applyEdit` refuse
//   when the document changed since the extension host last saw it): on a refusal we wait for the
//   user's change to arrive, recompute the offset from the tracked region, and retry. So an insert
//   only ever lands at the region's current end.
// - Our own change is recognised in onDidChangeTextDocument by the version it must produce (the
//   version before the edit + 1: a version-checked edit applies to exactly that version) and its
//   offset; every other change is classified by TrackedRegion (before / after / conflict).
// - Undo: the first edit of a generation opens an undo group (undoStopBefore: true), the others
//   join it (no stops), `end` closes it; after someone else's change the next insert opens a new
//   group so the user's typing is never undone together with generated text. Without a visible
//   editor the edit goes through a WorkspaceEdit (its own undo step).
// - A reply states the region in a document version whose didChange has already been handed to
//   the connection (DocumentSync), so the server never sees a range in a version it has not seen.

import * as vscode from "vscode";

import {
  type LspPosition,
  type LspRange,
  type StreamBeginParams,
  type StreamEditFailure,
  type StreamEditParams,
  type StreamEditResult,
  type StreamEndParams,
  type StreamInsertParams,
} from "./methods";
import {
  ChangeLog,
  type OffsetChange,
  gluesPartialLine,
  lineBreakAt,
  offsetAfterLines,
  rebaseRange,
  SerialQueue,
  TrackedRegion,
  rebaseAnchor,
  withEol,
} from "./region";

/** How long a reply waits for the didChange of its version to be sent (a document outside the
 * client's selector never is). */
const SENT_TIMEOUT_MS = 3000;
/** How long an applied edit may take to show up as a change event. */
const ECHO_TIMEOUT_MS = 5000;
/** Refused (version-checked) edits retried before giving up; each retry first waits for the
 * change that beat it. */
const MAX_ATTEMPTS = 200;
/** Ended generations remembered, so that a repeated request gets the same answer. */
const REMEMBER_ENDED = 32;

/** Which document versions' didOpen/didChange vscode-languageclient has handed to the connection,
 * and a gate that holds later didChanges back while an answer naming a version goes out. */
export class DocumentSync {
  private sent = new Map<string, number>();
  private waiters = new Map<string, { version: number; resolve: () => void }[]>();
  private gates = new Map<string, Promise<void>>();

  /** Hold back every didChange of `uri` not yet on its way until the returned function is
   * called; didChanges already past the gate go on. */
  hold(uri: vscode.Uri): () => void {
    const key = uri.toString();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    this.gates.set(key, gate);
    return () => {
      if (this.gates.get(key) === gate) this.gates.delete(key);
      release();
    };
  }

  markSent(uri: vscode.Uri, version: number): void {
    const key = uri.toString();
    if ((this.sent.get(key) ?? -1) < version) this.sent.set(key, version);
    const list = this.waiters.get(key);
    if (!list) return;
    const keep = list.filter((w) => {
      if (w.version <= version) {
        w.resolve();
        return false;
      }
      return true;
    });
    if (keep.length > 0) this.waiters.set(key, keep);
    else this.waiters.delete(key);
  }

  forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.sent.delete(key);
    for (const w of this.waiters.get(key) ?? []) w.resolve();
    this.waiters.delete(key);
  }

  /** Resolves once `version` of the document has been sent (or after the timeout). */
  waitSent(uri: vscode.Uri, version: number, timeoutMs = SENT_TIMEOUT_MS): Promise<boolean> {
    const key = uri.toString();
    if ((this.sent.get(key) ?? -1) >= version) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const list = this.waiters.get(key) ?? [];
      list.push({
        version,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      });
      this.waiters.set(key, list);
    });
  }

  /** vscode-languageclient middleware: record what was sent. */
  middleware() {
    return {
      didOpen: async (doc: vscode.TextDocument, next: (doc: vscode.TextDocument) => Promise<void>) => {
        const version = doc.version;
        await next(doc);
        this.markSent(doc.uri, version);
      },
      didChange: async (
        e: vscode.TextDocumentChangeEvent,
        next: (e: vscode.TextDocumentChangeEvent) => Promise<void>,
      ) => {
        // (languageclient captured the version and the changes when the event fired.)
        const version = e.document.version;
        // Behind the gate closed when this change came (if any), in order: the changes held by a
        // gate await the same promise. A gate closed later does not hold this one: its answer
        // names a version that includes this change and waits for it to be sent.
        const gate = this.gates.get(e.document.uri.toString());
        if (gate) await gate;
        await next(e);
        this.markSent(e.document.uri, version);
      },
    };
  }
}

interface PendingOwn {
  /** The version our edit produces when it applies. */
  version: number;
  offset: number;
  removed: number;
  text: string;
  /** What the region does with the change once seen. */
  apply: (c: OffsetChange) => void;
  seen: boolean;
  onSeen?: () => void;
}

class Generation {
  readonly key: string;
  lastSeq = -1;
  lastResult: StreamEditResult | undefined;
  /** The next editor edit opens an undo group. */
  needStop = true;
  /** The last edit went through the editor with no stop after it: `end` must close the group. */
  groupOpen = false;
  pendingOwn: PendingOwn | undefined;
  closed = false;
  /** With EAGER_TRACE_EDITS set in the extension host's environment: every step, logged at the end. */
  readonly trace: string[] | undefined = process.env.EAGER_TRACE_EDITS ? [] : undefined;
  /** When the generation began (the trace's times are relative to it). */
  readonly born = Date.now();
  /** Edits that had to be retried because the user's change came first. */
  retries = 0;
  writes = 0;
  /** `begin`'s trimTrailing: what `end` would do with the line break after the region. */
  trimTrailing = false;

  constructor(
    readonly id: string,
    readonly doc: vscode.TextDocument,
    readonly region: TrackedRegion,
  ) {
    this.key = doc.uri.toString();
  }
}

type Outcome = "ok" | StreamEditFailure;

export class StreamWriter implements vscode.Disposable {
  private readonly gens = new Map<string, Generation>();
  private readonly ended = new Map<string, StreamEditResult>();
  private readonly queue = new SerialQueue();
  /** Each Python document's recent changes, to rebase a `begin` made for an older version. */
  private readonly logs = new Map<string, ChangeLog>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Resolvers woken by any change of a document (a refused edit waits for one). */
  private changeWaiters: (() => void)[] = [];

  constructor(
    private readonly sync: DocumentSync,
    private readonly toCodeUri: (uri: string) => vscode.Uri,
    private readonly log: (s: string) => void,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.onClose(doc)),
    );
  }

  /** The server went away: forget its generations. */
  reset(): void {
    this.gens.clear();
    this.ended.clear();
  }

  /** A range the user chose in document version `from`, in the current version (undefined when
   * it was edited inside or is older than what is logged). */
  rebaseToNow(doc: vscode.TextDocument, range: vscode.Range, from: number): vscode.Range | undefined {
    if (from === doc.version) return range;
    const log = this.logs.get(doc.uri.toString());
    if (!log || from > doc.version) return undefined;
    const moved = rebaseRange(log, range.start, range.end, from);
    return moved && new vscode.Range(toPosition(moved.start), toPosition(moved.end));
  }

  /** Put the cursor of `editor` where the running generation in its document inserts its next
   * text (the end of its region; the latest generation when several run there). False when none
   * runs there. Runs in the edit queue: no edit of ours is in flight, so the region's end is in
   * the document version the extension host has, and the selection goes to the window before
   * our next edit (which then pushes the cursor along, as text inserted at a cursor does). */
  moveToGenerationPoint(editor: vscode.TextEditor): Promise<boolean> {
    const asked = Date.now();
    const queued = this.queue.size;
    return this.queue.run(async () => {
      this.log(`[edits] go to generation point: waited ${Date.now() - asked} ms behind ${queued} edits`);
      const doc = editor.document;
      let gen: Generation | undefined;
      for (const g of this.gens.values()) {
        if (g.key === doc.uri.toString() && !g.closed && !g.region.conflicted) gen = g;
      }
      if (!gen) return false;
      const point = doc.positionAt(gen.region.end);
      editor.selection = new vscode.Selection(point, point);
      editor.revealRange(new vscode.Range(point, point), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return true;
    });
  }

  /** Handler of `eager/streamEdit`. */
  handle(p: StreamEditParams): Promise<StreamEditResult> {
    const received = Date.now();
    return this.queue.run(async () => {
      const started = Date.now();
      const gen = this.gens.get(p.generationId);
      gen?.trace?.push(`+${started - gen.born}ms ${p.op} #${p.seq} starts (queued ${started - received} ms)`);
      try {
        switch (p.op) {
          case "begin":
            return await this.begin(p);
          case "insert":
            return await this.insert(p);
          case "end":
            return await this.end(p);
          default:
            return { ok: false, reason: "conflict", message: `unknown op ${String((p as { op?: unknown }).op)}` };
        }
      } catch (e) {
        this.log(`[edits] ${p.op} of generation ${p.generationId} failed: ${String(e)}`);
        return { ok: false, reason: "conflict", message: String(e) };
      }
    });
  }

  // ---- change tracking ----------------------------------------------------------------------

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const doc = e.document;
    const key = doc.uri.toString();
    if (doc.languageId === "python" || this.logs.has(key)) {
      let changeLog = this.logs.get(key);
      if (!changeLog) {
        changeLog = new ChangeLog(doc.version - 1);
        this.logs.set(key, changeLog);
      }
      changeLog.record(
        doc.version,
        e.contentChanges.map((c) => ({
          start: { line: c.range.start.line, character: c.range.start.character },
          end: { line: c.range.end.line, character: c.range.end.character },
          text: c.text,
        })),
      );
    }
    for (const gen of this.gens.values()) {
      if (gen.key !== key) continue;
      const own = gen.pendingOwn;
      const first = e.contentChanges[0]!;
      if (
        own &&
        !own.seen &&
        doc.version === own.version &&
        e.contentChanges.length === 1 &&
        first.rangeOffset === own.offset &&
        first.rangeLength === own.removed &&
        first.text === own.text // the user typing the same length at the same place is not us
      ) {
        own.seen = true;
        own.apply({ offset: first.rangeOffset, removed: first.rangeLength, text: first.text });
        gen.trace?.push(`+${Date.now() - gen.born}ms v${doc.version} own ${first.rangeOffset}-${first.rangeLength}+${first.text.length} → [${gen.region.start},${gen.region.end})`);
        own.onSeen?.();
        continue;
      }
      for (const c of e.contentChanges) {
        const placed = gen.region.foreign({ offset: c.rangeOffset, removed: c.rangeLength, text: c.text });
        gen.trace?.push(`+${Date.now() - gen.born}ms v${doc.version} user ${c.rangeOffset}-${c.rangeLength}+${JSON.stringify(c.text)} ${placed} → [${gen.region.start},${gen.region.end})`);
        if (placed !== "none") gen.needStop = true;
        if (placed === "conflict") {
          this.log(`[edits] generation ${gen.id}: the user edited the generated text; it stops here`);
        }
      }
    }
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private onClose(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    for (const gen of this.gens.values()) if (gen.key === key) gen.closed = true;
    this.logs.delete(key);
    this.sync.forget(doc.uri);
  }

  private nextChange(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.changeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---- the ops ------------------------------------------------------------------------------

  private findDocument(uri: string): vscode.TextDocument | undefined {
    const target = this.toCodeUri(uri).toString();
    return vscode.workspace.textDocuments.find((d) => d.uri.toString() === target && !d.isClosed);
  }

  private async begin(p: StreamBeginParams): Promise<StreamEditResult> {
    const known = this.gens.get(p.generationId);
    if (known) return known.lastResult ?? this.result(known);
    const doc = this.findDocument(p.uri);
    if (!doc) return this.remember(p.generationId, { ok: false, reason: "closed" });
    let where = { start: p.replace?.start ?? p.position, end: p.replace?.end ?? p.position };
    let rebased = false;
    if (doc.version !== p.version) {
      // The user typed since the server placed it: bring the place up to date (the marks' rules),
      // or, if that cannot be done, refuse; the server then rebases and sends begin again once
      // it has the changes we are about to answer for.
      const log = this.logs.get(doc.uri.toString());
      const moved = p.version < doc.version && log ? rebaseRange(log, where.start, where.end, p.version) : undefined;
      if (!moved) {
        await this.sync.waitSent(doc.uri, doc.version);
        return { ok: false, reason: "conflict", message: `the document is at version ${doc.version}, not ${p.version}` };
      }
      where = moved;
      rebased = true;
    }
    const eol = doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n";
    const before = withEol(p.before ?? "", eol);
    const after = withEol(p.after ?? "", eol);
    const from = doc.offsetAt(toPosition(where.start));
    const to = p.replace ? Math.max(from, doc.offsetAt(toPosition(where.end))) : from;
    // Until it is placed, the region is the range to replace (or the empty point), followed like
    // the region itself: a user edit inside the range to replace is a conflict.
    // A point rebased past a line the user was still typing there: that line counts as typed at
    // the point, so the first generated line goes above it, not joined to its end.
    const log = this.logs.get(doc.uri.toString());
    const anchor = rebased && to === from && !p.replace && log ? rebaseAnchor(log, p.position, p.version) : undefined;
    const typedFrom = anchor && doc.offsetAt(toPosition(anchor)) + before.length;
    const gen = new Generation(p.generationId, doc, new TrackedRegion(from, to, typedFrom));
    gen.lastSeq = p.seq;
    gen.trimTrailing = p.trimTrailing === true;
    this.gens.set(gen.id, gen); // so that the change event of our edit finds it
    if (to > from || before + after !== "") {
      const r = gen.region;
      const outcome = await this.write(gen, () => ({ offset: r.start, removed: r.end - r.start, text: before + after }), (c) => {
        r.place(c.offset + before.length);
      });
      if (outcome !== "ok") return this.fail(gen, outcome);
    }
    return this.reply(gen);
  }

  private async insert(p: StreamInsertParams): Promise<StreamEditResult> {
    const gen = this.gens.get(p.generationId);
    if (!gen) return this.ended.get(p.generationId) ?? { ok: false, reason: "conflict", message: "unknown generation" };
    if (p.seq <= gen.lastSeq && gen.lastResult) return gen.lastResult; // a repeated request
    gen.lastSeq = p.seq;
    if (p.text === "") return this.reply(gen);
    const text = withEol(p.text, gen.doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n");
    const outcome = await this.write(
      gen,
      () => {
        if (gen.region.start === gen.region.end) gen.region.settle(gen.doc.getText());
        if (gluesPartialLine(gen.doc.getText(), gen.region.end, text)) return undefined;
        return { offset: gen.region.end, removed: 0, text };
      },
      (c) => gen.region.ownInsert(c.text),
    );
    if (outcome === "declined") return this.reply(gen, true);
    if (outcome !== "ok") return this.fail(gen, outcome, !/^[\r\n]/.test(p.text));
    return this.reply(gen);
  }

  private async end(p: StreamEndParams): Promise<StreamEditResult> {
    const gen = this.gens.get(p.generationId);
    if (!gen) return this.ended.get(p.generationId) ?? { ok: false, reason: "conflict", message: "unknown generation" };
    gen.lastSeq = p.seq;
    // Unless the model's text has ended, the region's last line is unfinished here.
    const unfinished = p.complete !== true;
    if (gen.closed || gen.doc.isClosed) return this.fail(gen, "closed");
    if (gen.region.conflicted) return this.fail(gen, "edited", unfinished);
    const r = gen.region;
    if (p.keepLines !== undefined && p.keepLines >= 0) {
      // Keep the region's first k lines (an error stopped the code there, or a stop left an
      // unfinished line): delete what follows the k-th line break.
      const cut = offsetAfterLines(gen.doc.getText().slice(r.start, r.end), p.keepLines);
      if (cut !== undefined && r.start + cut < r.end) {
        const outcome = await this.write(gen, () => ({ offset: r.start + cut, removed: r.end - (r.start + cut), text: "" }), (c) =>
          r.ownDelete(c.offset, c.removed),
        );
        if (outcome !== "ok") return this.fail(gen, outcome, unfinished);
      }
    }
    if (p.trimTrailing) {
      const text = gen.doc.getText();
      const ownBreak = r.end > r.start && /[\r\n]$/.test(text.slice(r.start, r.end));
      const next = lineBreakAt(text, r.end);
      if (ownBreak && next > 0) {
        // The line break opened after the region (`after` of begin) is not needed: the region
        // ends with its own. It lies outside the region, which does not change.
        const outcome = await this.write(gen, () => ({ offset: r.end, removed: next, text: "" }), () => undefined);
        if (outcome !== "ok") return this.fail(gen, outcome, unfinished);
      }
    }
    await this.closeGroup(gen);
    const result = await this.reply(gen);
    this.log(`[edits] generation ${gen.id} ended: ${gen.writes} writes, ${gen.retries} retried after a user change`);
    this.forget(gen, result);
    return result;
  }

  // ---- writing ------------------------------------------------------------------------------

  private editorFor(doc: vscode.TextDocument): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active && active.document === doc) return active;
    return vscode.window.visibleTextEditors.find((e) => e.document === doc);
  }

  /** Apply one change computed by `target` (recomputed on every retry); `apply` updates the region
   * when the change event arrives. A refusal (the user's change came first) is retried. */
  private async write(gen: Generation, target: () => OffsetChange, apply: (c: OffsetChange) => void): Promise<Outcome>;
  /** `target` may decline the change (undefined): "declined", nothing written. */
  private async write(
    gen: Generation,
    target: () => OffsetChange | undefined,
    apply: (c: OffsetChange) => void,
  ): Promise<Outcome | "declined">;
  private async write(
    gen: Generation,
    target: () => OffsetChange | undefined,
    apply: (c: OffsetChange) => void,
  ): Promise<Outcome | "declined"> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const expected = gen.doc.version;
      const change = target();
      if (change === undefined) return "declined";
      const outcome = await this.attempt(gen, change, apply);
      if (outcome !== "refused") return outcome;
      gen.retries++;
      // Wait for the change that beat us to reach the extension host, then recompute.
      if (gen.doc.version === expected) await this.nextChange(attempt < 5 ? 20 : 100);
    }
    return "conflict";
  }

  private async attempt(gen: Generation, t: OffsetChange, apply: (c: OffsetChange) => void): Promise<Outcome | "refused"> {
    const doc = gen.doc;
    if (gen.closed || doc.isClosed) return "closed";
    if (gen.region.conflicted) return "edited";
    const range = new vscode.Range(doc.positionAt(t.offset), doc.positionAt(t.offset + t.removed));
    let seenResolve: (() => void) | undefined;
    const seen = new Promise<void>((r) => (seenResolve = r));
    const own: PendingOwn = { version: doc.version + 1, offset: t.offset, removed: t.removed, text: t.text, apply, seen: false };
    own.onSeen = () => seenResolve?.();
    gen.pendingOwn = own;
    const editor = this.editorFor(doc);
    let applied = false;
    let viaEditor = false;
    try {
      if (editor) {
        // edit() captures the document version synchronously, with `range`: VS Code refuses the
        // edit if the document changed before it reached the editor.
        viaEditor = true;
        applied = await editor.edit((b) => b.replace(range, t.text), {
          undoStopBefore: gen.needStop,
          undoStopAfter: false,
        });
      }
    } catch (e) {
      // The editor was closed meanwhile: fall back to a workspace edit.
      this.log(`[edits] editor edit failed (${String(e)}); using a workspace edit`);
      viaEditor = false;
    }
    if (!viaEditor) {
      if (doc.version + 1 !== own.version) {
        gen.pendingOwn = undefined;
        return "refused";
      }
      const we = new vscode.WorkspaceEdit();
      we.replace(doc.uri, range, t.text);
      try {
        applied = await vscode.workspace.applyEdit(we);
      } catch {
        applied = false;
      }
    }
    gen.trace?.push(`+${Date.now() - gen.born}ms v${doc.version} ${applied ? "applied" : "refused"} at ${t.offset} (${viaEditor ? "editor" : "workspace edit"})`);
    if (!applied) {
      gen.pendingOwn = undefined;
      if (own.seen) {
        // Cannot happen with version-checked edits; never write the same text twice.
        gen.region.markConflict("an edit was reported both applied and refused");
        return "conflict";
      }
      return "refused";
    }
    if (!own.seen) {
      const timedOut = await Promise.race([
        seen.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), ECHO_TIMEOUT_MS)),
      ]);
      if (timedOut || !own.seen) {
        gen.pendingOwn = undefined;
        gen.region.markConflict("lost track of an applied edit");
        this.log(`[edits] generation ${gen.id}: an applied edit never showed up as a change`);
        return "conflict";
      }
    }
    gen.pendingOwn = undefined;
    gen.writes++;
    // Editor edits join one undo group; a workspace edit is its own step.
    gen.needStop = !viaEditor;
    gen.groupOpen = viaEditor;
    return "ok";
  }

  /** Close the generation's undo group: a no-op edit with a stop after it. */
  private async closeGroup(gen: Generation): Promise<void> {
    if (!gen.groupOpen) return;
    for (let attempt = 0; attempt < 20; attempt++) {
      const editor = this.editorFor(gen.doc);
      if (!editor || gen.doc.isClosed) return;
      const at = gen.doc.positionAt(gen.region.end);
      try {
        const ok = await editor.edit((b) => b.insert(at, ""), { undoStopBefore: false, undoStopAfter: true });
        if (ok) {
          gen.groupOpen = false;
          return;
        }
      } catch {
        return;
      }
      await this.nextChange(20);
    }
  }

  // ---- replies ------------------------------------------------------------------------------

  private result(gen: Generation): Extract<StreamEditResult, { ok: true }> {
    const range: LspRange = {
      start: toLsp(gen.doc.positionAt(gen.region.start)),
      end: toLsp(gen.doc.positionAt(gen.region.end)),
    };
    return { ok: true, version: gen.doc.version, range };
  }

  /** The region in the document's latest version, answered after that version's didChange and
   * before any later one: the gate holds later didChanges back until the answer has been handed
   * to the connection (they wait one timer tick; the answer is written in the microtasks after the
   * handler resolves). Every change event whose didChange got past the gate has already moved the
   * region (both listeners run when the event fires), so the range is that of `version`. */
  /** `declined`: an insert not written (`gluesPartialLine`): `conflict`, with the region's range
   * all the same, so the server places the region and decides again. The region stays. */
  private async reply(gen: Generation, declined = false): Promise<StreamEditResult> {
    const release = this.sync.hold(gen.doc.uri);
    try {
      const placed = this.result(gen);
      const message = "a partial line would be glued in front of the text after it";
      const result: StreamEditResult = declined ? { ...placed, ok: false, reason: "conflict", message } : placed;
      gen.lastResult = result;
      await this.sync.waitSent(gen.doc.uri, placed.version);
      return result;
    } finally {
      setTimeout(release, 0);
    }
  }

  /** The region is gone (edited inside, closed, lost): answer so, forget it, change nothing more. */
  /** `unfinished`: the op refused would have gone on with the region's last line (an insert
   * that does not start with a line break, an `end` without `complete`). */
  private async fail(gen: Generation, outcome: StreamEditFailure, unfinished = false): Promise<StreamEditResult> {
    if (outcome === "edited" && unfinished) await this.dropUnfinished(gen);
    const result: StreamEditResult =
      outcome === "edited"
        ? { ok: false, reason: "edited", message: gen.region.reason ?? "the generated text was edited" }
        : { ok: false, reason: outcome, ...(gen.region.reason ? { message: gen.region.reason } : {}) };
    this.log(`[edits] generation ${gen.id} stopped: ${result.reason}${result.message ? ` (${result.message})` : ""}`);
    void this.closeGroup(gen);
    this.forget(gen, result);
    return result;
  }

  /** The user edited the generated text above the unfinished line the model was writing: that
   * line was never run (`x = d` of `x = d - 100` reads as a different statement), so it goes, as
   * a stop removes it, when it is still exactly as written and alone on its line: its text, and
   * with `begin`'s trimTrailing the line break after it, as `end` (keepLines, trimTrailing) would.
   * Its own undo step. */
  private async dropUnfinished(gen: Generation): Promise<void> {
    const at = gen.region.unfinished();
    if (!at || gen.closed || gen.doc.isClosed) return;
    const editor = this.editorFor(gen.doc);
    const doc = gen.doc;
    const text = doc.getText();
    const before = at.start > 0 ? text[at.start - 1] : "\n";
    if (text.slice(at.start, at.end) !== at.text || (before !== "\n" && before !== "\r")) return;
    const next = lineBreakAt(text, at.end);
    if (next === 0 && at.end !== text.length) return; // the user's text follows on its line
    const range = new vscode.Range(doc.positionAt(at.start), doc.positionAt(at.end + (gen.trimTrailing ? next : 0)));
    let applied = false;
    try {
      if (editor) {
        applied = await editor.edit((b) => b.delete(range), { undoStopBefore: true, undoStopAfter: true });
        if (applied) gen.groupOpen = false; // (its stop before closed the group: no empty step)
      } else {
        const we = new vscode.WorkspaceEdit();
        we.delete(doc.uri, range);
        applied = await vscode.workspace.applyEdit(we);
      }
    } catch {
      applied = false;
    }
    this.log(`[edits] generation ${gen.id}: ${applied ? "removed" : "could not remove"} its unfinished last line ${JSON.stringify(at.text)}`);
  }

  private remember(id: string, result: StreamEditResult): StreamEditResult {
    this.ended.set(id, result);
    return result;
  }

  private forget(gen: Generation, result: StreamEditResult): void {
    if (gen.trace) this.log(`[edits] trace of ${gen.id}:\n  ${gen.trace.join("\n  ")}`);
    this.gens.delete(gen.id);
    this.remember(gen.id, result);
    while (this.ended.size > REMEMBER_ENDED) {
      const oldest = this.ended.keys().next().value as string;
      this.ended.delete(oldest);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.gens.clear();
  }
}

function toLsp(p: vscode.Position): LspPosition {
  return { line: p.line, character: p.character };
}

function toPosition(p: LspPosition): vscode.Position {
  return new vscode.Position(p.line, p.character);
}
