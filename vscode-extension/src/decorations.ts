// What the extension draws for each executed chunk, and which results are stale.
// Pure: no `vscode` import, so it is unit-tested in plain Node (test/decorations.test.ts).
// The VS Code side (decoration types, editors) lives in ui.ts and only renders `DecorationView`s.

import { type ChunkInfo, type ChunkResultParams, ClientCommands, type ErrorInfo, type OutputParams, type ValueInfo } from "./methods";

/** Reads one line of the document as it is now; undefined past the end. */
export type LineReader = (line: number) => string | undefined;

/** One content change, as VS Code reports it (positions refer to the document before the change). */
export interface TextChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/** "interrupted": the user ended it (its error's `byUser`: a KeyboardInterrupt, or the
 * interpreter killed for an interrupt, a stop or a restart), not wrong, as its Information
 * diagnostic says. */
export type ResultKind = "ok" | "error" | "interrupted" | "skipped";

/** Everything the renderer needs for one chunk. Lines are 0-based and inclusive. */
export interface DecorationView {
  startLine: number;
  endLine: number;
  kind: ResultKind;
  stale: boolean;
  /** Text drawn after the chunk's last line. */
  text: string;
  /** Markdown for the hover: full values, output, error. */
  hover: string;
}

const ARROW = "⟵";
const HOVER_BLOCK_LIMIT = 4000;

// ---- text -----------------------------------------------------------------------------------------

/** Collapse whitespace (multi-line reprs) so a value fits on one line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Cut to at most `max` characters (code points), ending with "…" when cut. */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  if (max <= 1) return "…";
  return chars.slice(0, max - 1).join("") + "…";
}

/** 0.4 ms, 12 ms, 1.2 s, 2 min 5 s. */
export function formatElapsed(ms: number | undefined): string | undefined {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return undefined;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

function valueText(v: ValueInfo): string {
  return oneLine(v.summary ?? v.repr ?? "");
}

function exprText(expr: ChunkResultParams["expr"]): string | undefined {
  if (expr === undefined || expr === null) return undefined;
  if (typeof expr === "string") return oneLine(expr);
  const t = valueText(expr);
  return t === "" ? undefined : t;
}

// Line breaks as Python's str.splitlines() has them: "1\r2\r3" is three lines (lastLine).
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** A line of output as a terminal leaves it: its text after its last carriage return (a
 * progress bar's latest state; a "\r" just before the line break is part of it). */
export function screenLine(line: string): string {
  const l = line.replace(/\r+$/, ""); // (nothing drawn over it yet: the state before stays)
  return l.slice(l.lastIndexOf("\r") + 1);
}

/** Each line of `text` as a terminal leaves it (its text after its last carriage return). */
export function asTerminal(text: string): string {
  return text.split("\n").map(screenLine).join("\n");
}

/** The first line with text, as a terminal shows it, as the server's inlay hint takes it
 * (publish.py `hint_label`): a finished progress bar reads "100%", not its first state "0%". */
function firstLine(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const line = s
    .split("\n")
    .map(screenLine)
    .find((l) => l.trim() !== "");
  return line === undefined ? undefined : line.trim();
}

/** The last line with text (after a carriage return: what a progress bar shows now). */
function lastLine(s: string): string | undefined {
  const lines = s.split(LINE_BREAK);
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim() !== "") return lines[i]!.trim();
  return undefined;
}

const TRUNCATION_MARK = "\n[... output truncated: "; // the worker's note on a cut stream
const CLIPPED = /\n\[\.\.\. \d+ characters omitted \.\.\.\]\n/; // limits.CLIPPED_MARKER (clip_middle's)

/** The first line of some output and, when there are more, how many, as the server's inlay
 * hint says it (publish.py `_more_lines`; a loop that printed 1 to 25 read "» 1", as if that
 * were all): "25+ lines" when the output was cut (the worker's note at its end, or a middle
 * left out: by the kernel backend, or to fit the payload); blank lines at the end do not
 * count. */
function outputText(s: string | undefined): string | undefined {
  const first = firstLine(s);
  if (first === undefined || s === undefined) return undefined;
  let text = s.replace(/\s+$/, "");
  let cut = false;
  const mark = text.lastIndexOf(TRUNCATION_MARK);
  if (mark >= 0 && !text.slice(mark + 1).includes("\n")) {
    text = text.slice(0, mark).replace(/\s+$/, "");
    cut = true;
  }
  let lines = text.split("\n").length;
  if (CLIPPED.test(text)) {
    lines -= 1; // the marker's own line
    cut = true;
  }
  if (cut) return `${first} … (${lines}+ lines)`;
  return lines > 1 ? `${first} … (${lines} lines)` : first;
}

export function resultKind(r: ChunkResultParams): ResultKind {
  if (r.skipped) return "skipped";
  if (r.ok) return "ok";
  return r.error?.byUser === true ? "interrupted" : "error";
}

/** The text drawn after a chunk, e.g. `⟵ x = 42 · 0.4 ms`. `maxLength` bounds the part between the
 * arrow and the time. */
export function inlineText(r: ChunkResultParams, maxLength: number, stale = false): string {
  const kind = resultKind(r);
  let main: string;
  if (kind === "skipped") {
    main = "skipped";
  } else if (kind === "error") {
    const e = r.error;
    main = "✗ " + (e ? oneLine(errorHeadline(e)) : "error");
  } else if (kind === "interrupted") {
    main = "interrupted: " + oneLine(errorHeadline(r.error!));
  } else {
    const parts: string[] = [];
    const values = (r.values ?? []).map((v) => (v.name ? `${v.name} = ${valueText(v)}` : valueText(v)));
    if (values.length > 0) parts.push(values.join(", "));
    const expr = exprText(r.expr);
    if (expr !== undefined) parts.push(expr);
    const out = outputText(r.stdout);
    if (out !== undefined) parts.push(`» ${out}`);
    main = parts.length > 0 ? parts.join(" · ") : "✓";
  }
  let text = `${ARROW} ${truncate(main, Math.max(1, maxLength))}`;
  const time = kind === "skipped" ? undefined : formatElapsed(r.timings?.elapsedMs);
  if (time !== undefined) text += ` · ${time}`;
  if (stale) text += " · stale";
  return text;
}

/** The text drawn after a statement that is still running and has printed: `⟵ … » tick 2`, its
 * last line so far (`⟵ …` while that is blank). */
export function runningText(printed: string, maxLength: number): string {
  const last = lastLine(printed);
  return last === undefined ? `${ARROW} …` : `${ARROW} … » ${truncate(oneLine(last), Math.max(1, maxLength))}`;
}

/** The hover over a statement that is still running: what it printed so far (its end). */
export function runningHover(printed: string, startLine: number, endLine: number, cut = false): string {
  const lines = startLine === endLine ? `line ${startLine + 1}` : `lines ${startLine + 1}–${endLine + 1}`;
  // Its end, which `fence` keeps whole (it cuts longer text after its head).
  const room = HOVER_BLOCK_LIMIT - 2;
  const end = printed.length > room ? printed.slice(-room).replace(/^[\udc00-\udfff]/, "") : printed;
  const body = (cut || end !== printed ? "…\n" : "") + end;
  return [`**Eager** · ${lines} · running`, "Output so far:", fence(body, "text")].join("\n\n");
}

/** `Type: message`, or just `Type` when the message is empty (`KeyboardInterrupt`), as Python
 * prints an exception's last line. */
export function errorHeadline(e: Pick<ErrorInfo, "type" | "message">): string {
  return e.message ? `${e.type}: ${e.message}` : e.type;
}

const FRAME = '\n  File "'; // a traceback's frame line, as CPython writes it

/** What a hover block shows of `body`: all of it; longer than HOVER_BLOCK_LIMIT, its head
 * (`keep: "head"`), or for a traceback (`"ends"`) its first lines and its last ones, where the
 * innermost frames and the exception are, around a line saying how much is left out. */
export function clipBlock(body: string, keep: "head" | "ends" = "head"): { text: string; cut: boolean } {
  if (body.length <= HOVER_BLOCK_LIMIT) return { text: body, cut: false };
  if (keep === "head") return { text: body.slice(0, HOVER_BLOCK_LIMIT).replace(/[\ud800-\udbff]$/, "") + "\n…", cut: true };
  // a quarter for the outermost frames, the rest for the innermost ones; cut before a frame
  // (`  File "…", line N, in f`), else at a line break
  const headRoom = Math.floor(HOVER_BLOCK_LIMIT / 4);
  const tailRoom = HOVER_BLOCK_LIMIT - headRoom;
  const from = body.length - tailRoom;
  let head = body.lastIndexOf(FRAME, headRoom);
  if (head <= 0) head = body.lastIndexOf("\n", headRoom);
  if (head <= 0) head = headRoom;
  let tail = body.indexOf(FRAME, from);
  if (tail < 0 || tail - from > tailRoom / 2) tail = body.indexOf("\n", from);
  if (tail < head) tail = from;
  const left = body.slice(0, head).replace(/[\ud800-\udbff]$/, "");
  const right = body.slice(tail).replace(/^[\udc00-\udfff]/, "");
  const omitted = body.length - left.length - right.length;
  return { text: `${left}\n[... ${omitted} characters not shown here ...]${right.startsWith("\n") ? "" : "\n"}${right}`, cut: true };
}

function fence(body: string, lang = "", keep: "head" | "ends" = "head"): string {
  let ticks = "```";
  while (body.includes(ticks)) ticks += "`";
  const { text } = clipBlock(body, keep);
  return `${ticks}${lang}\n${text.replace(/\s+$/, "")}\n${ticks}`;
}

/** The hover's second paragraph when it shows a result cut (to fit the hover, or the server cut
 * its copy to fit its payload): a link that runs "Eager: Whole Output of Statement" on the chunk's first
 * line (the hover must trust that command: ui.ts). */
export function wholeOutputLink(uri: string, line: number): string {
  const args = encodeURIComponent(JSON.stringify([{ uri, line }]));
  return `*Cut to fit.* [Show whole output](command:${ClientCommands.showResultDetail}?${args} "Eager: Whole Output of Statement")`;
}

/** Escape text for a Markdown paragraph. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => "\\" + c);
}

/** Reads a PNG the server wrote and returns it as a `data:` URI, or undefined (gone, too large). */
export type ImageReader = (path: string) => string | undefined;

/** Markdown for the hover over a chunk: every value in full (a data frame as a table), output,
 * images (through `image`, as data: URIs), the error and its traceback. */
export function hoverMarkdown(
  r: ChunkResultParams,
  startLine: number,
  endLine: number,
  stale = false,
  image?: ImageReader,
): string {
  const lines = startLine === endLine ? `line ${startLine + 1}` : `lines ${startLine + 1}–${endLine + 1}`;
  const head = [`**Eager** · ${lines}`];
  const time = formatElapsed(r.timings?.elapsedMs);
  if (time !== undefined) head.push(time);
  const kind = resultKind(r);
  if (kind === "skipped" || kind === "interrupted") head.push(kind);
  const out: string[] = [head.join(" · ")];
  if (stale) out.push("*Stale: the code changed after this ran.*");
  // whether a block is shown cut (the whole text is one command away)
  let cut = r.truncated === true;
  const block = (body: string, lang: string, keep: "head" | "ends" = "head"): string => {
    if (body.length > HOVER_BLOCK_LIMIT) cut = true;
    return fence(body, lang, keep);
  };
  for (const v of r.values ?? []) {
    const label = v.name ? `\`${v.name.replace(/`/g, "")}\`` : "value";
    out.push(v.type ? `${label}: *${escapeMarkdown(v.type)}*` : label);
    // A data frame's head: the server built and escaped the table (cells cannot break out of it).
    out.push(v.table ? v.table.slice(0, HOVER_BLOCK_LIMIT * 2) : block(v.repr ?? v.summary ?? "", "python"));
  }
  if (r.expr !== undefined && r.expr !== null) {
    if (typeof r.expr === "string") {
      out.push("Result:", block(r.expr, "python"));
    } else {
      out.push(r.expr.type ? `Result: *${escapeMarkdown(r.expr.type)}*` : "Result:");
      out.push(block(r.expr.repr ?? r.expr.summary ?? "", "python"));
    }
  }
  // output as a terminal shows it (a progress bar's latest state), its start and its end (the
  // server's hover, Neovim's, keeps the end; the worker keeps head and end of long output)
  if (r.stdout) out.push("Output:", block(asTerminal(r.stdout), "text", "ends"));
  for (const img of r.images ?? []) {
    const uri = image?.(img.path);
    const label = escapeMarkdown(img.label ?? "image");
    out.push(uri !== undefined ? `${label}:\n\n![${label}](${uri})` : `${label}: \`${img.path.replace(/`/g, "")}\``);
  }
  if (r.stderr) out.push("stderr:", block(asTerminal(r.stderr), "text", "ends"));
  if (r.error) {
    const message = r.error.message ? `: ${escapeMarkdown(r.error.message)}` : "";
    out.push(`**${escapeMarkdown(r.error.type)}**${message}`);
    // its end is where it was raised
    if (r.error.traceback) out.push(block(r.error.traceback, "text", "ends"));
  }
  // right under the heading: a long hover is read from its top
  if (cut) out.splice(1, 0, wholeOutputLink(r.uri, startLine));
  return out.join("\n\n");
}

/** Where a chunk is, as the "Eager" output channel's headers name it: `a.py:3`, `a.py:2-4`. */
export function chunkPlace(chunk: ChunkInfo, label: string): string {
  const { start, end } = chunkLines(chunk);
  return start === end ? `${label}:${start + 1}` : `${label}:${start + 1}-${end + 1}`;
}

/** What goes into the "Eager" output channel for one chunk (its stdout, stderr and error), or
 * undefined when it printed nothing. `label` names the file, e.g. "a.py". */
export function outputChannelText(r: ChunkResultParams, label: string): string | undefined {
  const where = chunkPlace(r.chunk, label);
  const parts: string[] = [];
  const body = (s: string): string => s.replace(/\s+$/, "");
  if (r.stdout) parts.push(`[${where}] stdout\n${body(r.stdout)}`);
  if (r.stderr) parts.push(`[${where}] stderr\n${body(r.stderr)}`);
  for (const img of r.images ?? []) parts.push(`[${where}] image (${img.label ?? "PNG"}): ${img.path}`);
  if (r.error) {
    const errLine = typeof r.error.line === "number" ? `${label}:${r.error.line + 1}` : where;
    const tb = r.error.traceback ? `\n${body(r.error.traceback)}` : "";
    parts.push(`[${errLine}] ${errorHeadline(r.error)}${tb}`);
  }
  return parts.length > 0 ? parts.join("\n") : undefined;
}

// ---- positions and staleness ------------------------------------------------------------------------

/** The chunk's first and last line (0-based, inclusive). Prefers the LSP range; a range ending at
 * character 0 of a later line ends on the line before. */
export function chunkLines(chunk: ChunkInfo): { start: number; end: number } {
  if (chunk.range) {
    const start = chunk.range.start.line;
    let end = chunk.range.end.line;
    if (chunk.range.end.character === 0 && end > start) end -= 1;
    return { start, end: Math.max(start, end) };
  }
  return { start: chunk.startLine, end: Math.max(chunk.startLine, chunk.endLine) };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Something drawn at a statement's lines, following them through edits. */
interface Placed {
  /** Current first line; the statement spans `snapshot.length` lines from here. */
  start: number;
  /** Text of the statement's lines when it arrived. */
  snapshot: string[];
  /** Its lines no longer hold `snapshot` (goes back to false if an undo restores them). */
  staleByText: boolean;
  /** Its statement is gone from its place (deleted, undone): nothing there resembles it, so it
   * is not drawn (it stayed, struck through, on whatever line moved up, a user's own line
   * included); kept, so an undo that brings the text back shows it fresh again. */
  gone: boolean;
}

interface Tracked extends Placed {
  result: ChunkResultParams;
  /** The server said so (`eager/stale`); stays until the result is replaced. */
  staleByServer: boolean;
}

/** How much of a running statement's output is kept for its hover (the end of it). */
export const RUNNING_TAIL = 4000;

/** A statement still running that has printed (`eager/output`). */
interface Running extends Placed {
  /** Its chunk index in the run (its result has the same). */
  index: number;
  /** The end of what it printed so far, stdout and stderr as they came. */
  printed: string;
  /** `printed` lost its beginning. */
  cut: boolean;
}

function overlaps(p: Placed, start: number, end: number): boolean {
  return p.start <= end && p.start + p.snapshot.length - 1 >= start;
}

/** The name a line starts with (`x` of `x = 1`, `def` of `def f():`), "" for a blank line. */
function leadingWord(line: string | undefined): string {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*|\S)/.exec(line ?? "");
  return m ? m[1]! : "";
}

/** The line at the result's place still starts as its statement did (an edited statement:
 * stale, drawn struck through), rather than with another statement or nothing (it is gone). */
function resembles(getLine: LineReader, start: number, snapshot: string[]): boolean {
  const word = leadingWord(snapshot[0]);
  return word !== "" && leadingWord(getLine(start)) === word;
}

function readLines(getLine: LineReader, start: number, count: number): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const l = getLine(start + i);
    if (l === undefined) return undefined;
    out.push(l);
  }
  return out;
}

/** True when every line is blank (stops at the first line with text). */
function blankDocument(getLine: LineReader): boolean {
  for (let i = 0; ; i++) {
    const l = getLine(i);
    if (l === undefined) return true;
    if (l.trim() !== "") return false;
  }
}

function sameLines(a: string[] | undefined, b: string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The results of one document: follows them through edits (line shifts) and knows which are stale,
 * i.e. whose lines no longer hold the text that ran, or that the server declared stale. */
export class ResultTracker {
  private items: Tracked[] = [];
  /** Statements running now that printed: their last line is drawn instead of an earlier
   * result at their lines, until their own result comes (or the run ends without it). */
  private running: Running[] = [];

  /** Record a result; results it overlaps, and an earlier result of the same statement (the
   * server ledger's `statementId`) wherever it has moved, are replaced. `getLine` reads the
   * document now. */
  add(result: ChunkResultParams, getLine: LineReader): void {
    const { start, end } = chunkLines(result.chunk);
    const id = result.statementId;
    this.items = this.items.filter(
      (t) =>
        (t.start + t.snapshot.length - 1 < start || t.start > end) &&
        (id === undefined || t.result.statementId !== id),
    );
    this.running = this.running.filter((r) => r.index !== result.chunk.index && !overlaps(r, start, end));
    const snapshot = readLines(getLine, start, end - start + 1) ?? [];
    this.items.push({
      result,
      start,
      snapshot: snapshot.length > 0 ? snapshot : new Array<string>(end - start + 1).fill(""),
      staleByText: snapshot.length === 0,
      staleByServer: false,
      gone: false,
    });
    this.items.sort((a, b) => a.start - b.start);
  }

  /** `eager/output`: a statement still running printed `p.stdout`/`p.stderr`; it is drawn as
   * running, with its last line so far, at the lines the server names (as they are now). */
  live(p: OutputParams, getLine: LineReader): void {
    const { start, end } = chunkLines(p.chunk);
    const before = this.running.find((r) => r.index === p.chunk.index);
    this.running = this.running.filter((r) => r !== before && !overlaps(r, start, end));
    const snapshot = readLines(getLine, start, end - start + 1);
    if (snapshot === undefined) return; // not in the document as the extension has it
    let printed = (before?.printed ?? "") + (p.stdout ?? "") + (p.stderr ?? "");
    let cut = before?.cut ?? false;
    if (printed.length > RUNNING_TAIL) {
      printed = printed.slice(-RUNNING_TAIL).replace(/^[\udc00-\udfff]/, ""); // no half of a pair
      cut = true;
    }
    this.running.push({ index: p.chunk.index, start, snapshot, printed, cut, staleByText: false, gone: false });
  }

  /** The document's run ended: a running statement whose result did not come (stopped) is
   * no longer drawn as running. True when one was. */
  settle(): boolean {
    const had = this.running.length > 0;
    this.running = [];
    return had;
  }

  clear(): void {
    this.items = [];
    this.running = [];
  }

  /** A statement drawn as running (it printed) covers 0-based `line`. */
  runningAt(line: number): boolean {
    return this.running.some((r) => overlaps(r, line, line));
  }

  get size(): number {
    return this.items.length + this.running.length;
  }

  /** `eager/stale`: results on lines `fromLine`..`toLine` (inclusive; without `toLine`, to the end)
   * no longer match; a chunk that overlaps those lines is stale too. */
  markStaleFrom(fromLine: number, toLine?: number): void {
    for (const t of this.items) {
      const last = t.start + t.snapshot.length - 1;
      if (last >= fromLine && (toLine === undefined || t.start <= toLine)) t.staleByServer = true;
    }
  }

  /** Follow one `onDidChangeTextDocument` event: `changes` in the order VS Code gives them (each
   * relative to the document after the previous ones), `getLine` reads the document after all. */
  applyChanges(changes: readonly TextChange[], getLine: LineReader): void {
    if (changes.length === 0) return;
    // For each result, the line offsets it may have moved by. An edit on the chunk's own first or
    // last line is ambiguous (text inserted before it, after it, or into it); the text decides.
    const placed: Placed[] = [...this.items, ...this.running];
    const offsets = new Map<Placed, Set<number>>();
    for (const t of placed) offsets.set(t, new Set([0]));
    for (const c of changes) {
      const delta = countNewlines(c.text) - (c.endLine - c.startLine);
      for (const t of placed) {
        const set = offsets.get(t)!;
        const next = new Set<number>();
        for (const off of set) {
          const first = t.start + off;
          const last = first + t.snapshot.length - 1;
          if (c.endLine < first) {
            next.add(off + delta); // entirely above: the chunk moves
          } else if (c.startLine > last) {
            next.add(off); // entirely below: nothing moves
          } else {
            next.add(off);
            next.add(off + delta);
          }
        }
        offsets.set(t, next);
      }
    }
    for (const t of placed) {
      const candidates = [...offsets.get(t)!].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
      const match = candidates.find((off) =>
        sameLines(readLines(getLine, t.start + off, t.snapshot.length), t.snapshot),
      );
      if (match !== undefined) {
        t.start += match;
        t.staleByText = false;
        t.gone = false;
      } else {
        // The chunk's own text changed: an edit inside a chunk leaves its first line where it was,
        // so keep the smallest move.
        t.start = Math.max(0, t.start + candidates[0]!);
        t.staleByText = true;
        t.gone = !resembles(getLine, t.start, t.snapshot);
      }
    }
    // The file was emptied (select all, delete): no code is left for any result to describe, so
    // none is drawn (a deleted statement elsewhere keeps its result, struck through as stale).
    // A running statement edited meanwhile: the server sends no more of its output, and its
    // result, which has it all, will be drawn stale.
    this.running = this.running.filter((r) => !r.staleByText);
    if (blankDocument(getLine)) this.clear();
    this.items.sort((a, b) => a.start - b.start);
  }

  /** The results with their current lines, in line order (the results panel lists them). */
  entries(): { result: ChunkResultParams; startLine: number; endLine: number; stale: boolean; gone: boolean }[] {
    return this.items.map((t) => ({
      result: t.result,
      startLine: t.start,
      endLine: t.start + t.snapshot.length - 1,
      stale: t.staleByText || t.staleByServer,
      gone: t.gone,
    }));
  }

  /** Decorations to draw, in line order. */
  views(maxLength: number, image?: ImageReader): DecorationView[] {
    const running = this.running.map((r): DecorationView => {
      const endLine = r.start + r.snapshot.length - 1;
      return {
        startLine: r.start,
        endLine,
        kind: "ok",
        stale: false,
        text: runningText(r.printed, maxLength),
        hover: runningHover(r.printed, r.start, endLine, r.cut),
      };
    });
    const shown = this.items.filter(
      (t) => !t.gone && !this.running.some((r) => overlaps(r, t.start, t.start + t.snapshot.length - 1)),
    );
    const results = shown.map((t) => {
      const stale = t.staleByText || t.staleByServer;
      const endLine = t.start + t.snapshot.length - 1;
      return {
        startLine: t.start,
        endLine,
        kind: resultKind(t.result),
        stale,
        text: inlineText(t.result, maxLength, stale),
        hover: hoverMarkdown(t.result, t.start, endLine, stale, image),
      };
    });
    return [...results, ...running].sort((a, b) => a.startLine - b.startLine);
  }
}
