// "Eager: Whole Output of Statement": the server's whole copy of the result on the cursor's line
// (`eager.resultDetail`). The decorations, the hover, the results panel and the "Eager" channel
// show `eager/chunkResult`, which is cut to fit its payload (docs/protocol.md, "Limits"); this
// text has all the server kept: every line of stdout and stderr, the whole traceback. It is
// rendered as the "Eager" channel renders a result (`outputChannelText`), under a header, each
// line of output as a terminal leaves it (`screenLine`: a progress bar redrawn with "\r" is its
// latest state, as Neovim's :EagerDetail shows it). A statement still running is shown as
// running (for how long, the end of its output so far), never as a result; a syntax error
// shows its line of code with a caret under its column, as Python prints it.
// Pure: no `vscode` import (test/resultDetail.test.ts); detailView.ts shows it.

import { asTerminal, chunkLines, chunkPlace, formatElapsed, outputChannelText, resultKind } from "./decorations";
import type { ChunkResultParams, Refusal, RunningDetail, StatusParams, SyntaxErrorDetail, ValueInfo } from "./methods";
import type { ResultEntry } from "./results";

/** What `eager.resultDetail` answers: a result, a syntax error, a statement still running, nothing
 * (null), or a refusal (`{error, reason}`, which the server shows itself). */
export type DetailAnswer = ChunkResultParams | SyntaxErrorDetail | RunningDetail | Refusal | null | undefined;

/** Reads one line of the source document (0-based); undefined past its end. */
export type SourceLine = (line: number) => string | undefined;

/** The last line when even the detail answer was cut to fit its cap (1 MiB of JSON). */
export const DETAIL_CUT_NOTE =
  "[... the server cut this answer to fit its cap (1 MiB): the longest texts above lack their middle]";

/** Where lines `start`..`end` (0-based) are, as the channel's headers name them: `a.py:3`, `a.py:2-4`. */
function linesPlace(start: number, end: number, label: string): string {
  return start === end ? `${label}:${start + 1}` : `${label}:${start + 1}-${end + 1}`;
}

/** The line of code a syntax error is on and a caret under its `column` (0-based, in characters),
 * as Python prints them: the line without its leading spaces, indented by four, and under it the
 * caret after as many columns as the text before the error (tabs kept, so they line up). */
export function caretLines(code: string, column: number): string[] {
  const indent = /^[ \f]*/.exec(code)![0].length;
  const chars = Array.from(code.slice(indent));
  const at = Math.max(0, Math.min(column - indent, chars.length));
  const pad = chars
    .slice(0, at)
    .map((c) => (c === "\t" ? "\t" : " "))
    .join("");
  return [`    ${chars.join("")}`, `    ${pad}^`];
}

/** `prefix` and a value's text (all of it, over as many lines as it has). */
function valueLine(prefix: string, v: ValueInfo | string): string {
  const text = typeof v === "string" ? v : (v.repr ?? v.summary ?? "");
  return prefix + text.replace(/\s+$/, "");
}

/** The answer is about a statement still running. */
export function isRunning(d: ChunkResultParams | SyntaxErrorDetail | RunningDetail): d is RunningDetail {
  return (d as Partial<RunningDetail>).running === true;
}

/** The text of an answer about a statement still running: its lines and for how long, then the
 * end of each stream it printed so far (a line says how much is left out above, when it printed
 * more than the server keeps). */
export function runningDetailText(d: RunningDetail, label: string): string {
  const where = linesPlace(d.startLine, Math.max(d.startLine, d.endLine), label);
  const elapsed = formatElapsed((d.elapsedS ?? 0) * 1000) ?? "a moment";
  const lines = [`[${where}] running for ${elapsed}, no result yet (ask again for more of its output)`];
  for (const stream of ["stdout", "stderr"] as const) {
    const text = d[stream] ?? "";
    const before = d[`${stream}Before`] ?? 0;
    if (text === "" && before === 0) continue;
    lines.push(`[${where}] ${stream} so far`);
    if (before > 0) lines.push(`[... ${before} characters above not kept: the last ${Array.from(text).length} follow]`);
    if (text !== "") lines.push(asTerminal(text.replace(/\s+$/, "")));
  }
  if (lines.length === 1) lines.push("(no output yet)");
  return lines.join("\n") + "\n";
}

/** The text of a syntax error: where, its line of code with a caret (when `source` has it), its
 * message. */
function syntaxErrorText(d: SyntaxErrorDetail, label: string, source?: SourceLine): string {
  const e = d.syntaxError;
  const lines = [`[${label}:${e.line + 1}] syntax error (column ${e.column + 1})`];
  const code = source?.(e.line);
  if (code !== undefined) lines.push(...caretLines(code, e.column));
  lines.push(`SyntaxError: ${e.message}`);
  return lines.join("\n") + "\n";
}

/** The text of one answer, for the file named `label` (e.g. "a.py"); `source` reads the file's
 * lines (a syntax error's line of code). */
export function resultDetailText(d: ChunkResultParams | SyntaxErrorDetail | RunningDetail, label: string, source?: SourceLine): string {
  if ("syntaxError" in d) return syntaxErrorText(d, label, source);
  if (isRunning(d)) return runningDetailText(d, label);
  const kind = resultKind(d);
  let status: string = kind;
  if (kind === "skipped") {
    status += " (not run: an earlier statement failed or the run stopped)";
  } else {
    const elapsed = formatElapsed(d.timings?.elapsedMs);
    if (elapsed !== undefined) status += ` · ${elapsed}`;
  }
  const lines = [`[${chunkPlace(d.chunk, label)}] ${status}`];
  for (const v of d.values ?? []) lines.push(valueLine(`${v.name ?? "value"} = `, v));
  if (d.expr !== undefined && d.expr !== null) lines.push(valueLine("→ ", d.expr));
  const output = outputChannelText(d, label);
  if (output !== undefined) lines.push(asTerminal(output));
  else if (kind !== "skipped") lines.push("(no output)");
  if (d.truncated === true) lines.push(DETAIL_CUT_NOTE);
  return lines.join("\n") + "\n";
}

/** What the command does with an answer. */
export type DetailOutcome =
  | { kind: "show"; text: string }
  | { kind: "nothing"; message: string }
  /** Refused (the server has said why) or no answer (the server is not running: said too). */
  | { kind: "quiet" };

/** Where the line asked about stands in a run going on in its file: its statement is running
 * (`"line"`), or the file is generating or running (`"file"`); undefined otherwise. */
export type RunningNow = "line" | "file" | undefined;

/** `RunningNow` for 0-based `line` from the file's `eager/status` (its `runningLines` are the first
 * lines of the statements running) and whether a statement running there has printed
 * (`printing`: the extension draws it as running; a multi-line one covers more than its first line). */
export function runningNow(status: StatusParams | undefined, line: number, printing: boolean): RunningNow {
  if (printing) return "line";
  if (status === undefined || (status.state !== "running" && status.state !== "generating")) return undefined;
  return status.runningLines?.includes(line) ? "line" : "file";
}

/** The first line of the document when the server no longer has the result the editor draws. */
export const DRAWN_COPY_NOTE =
  "[the server no longer has this result (the interpreter restarted, or its code changed): this is the copy drawn in the editor, which may be cut]";

/** What the editor draws at a line the server has no result for: a result (stale, after a
 * restart or an edit), or `"edited"`: a result was there, but the statement that ran was edited
 * or deleted since (the editor no longer draws it: nothing there resembles it). */
export type Drawn = ChunkResultParams | "edited";

/** The result the editor draws at 0-based `line` (`entries` as ResultDecorations.entries gives
 * them, in their current lines), with its lines as they are now; `"edited"` when the only one
 * there is a result whose statement is gone from the line (edited or deleted since it ran);
 * undefined when none covers it. */
export function drawnAt(entries: readonly ResultEntry[], line: number): Drawn | undefined {
  const covers = (x: ResultEntry): boolean => x.startLine <= line && line <= x.endLine;
  const e = entries.find((x) => x.gone !== true && covers(x));
  if (e === undefined) return entries.some((x) => x.gone === true && covers(x)) ? "edited" : undefined;
  const r = e.result;
  const moved = e.startLine - chunkLines(r.chunk).start;
  const range = { start: { line: e.startLine, character: 0 }, end: { line: e.endLine, character: 1 } };
  const error = r.error && typeof r.error.line === "number" ? { ...r.error, line: r.error.line + moved } : r.error;
  return { ...r, chunk: { ...r.chunk, startLine: e.startLine, endLine: e.endLine, range }, error };
}

/** What "Eager: Whole Output of Statement" does with the server's `answer` about 0-based `line` of
 * the file named `label`; `running`: whether the line or its file runs now; `drawn`: what the
 * editor draws there (drawnAt), shown when the server no longer has a result; `source`: reads the
 * file's lines (a syntax error's caret). A statement still running is the server's answer too
 * (`running: true`); `running` only words a `null` from a server that does not send that. */
export function detailOutcome(
  answer: DetailAnswer,
  line: number,
  label: string,
  running?: RunningNow,
  drawn?: Drawn,
  source?: SourceLine,
): DetailOutcome {
  if (answer === undefined) return { kind: "quiet" };
  if (answer === null) {
    // The server has no result there: say why when the line, or its file, is still running
    // (an earlier result drawn stale at a statement that runs again is no longer kept).
    const where = `line ${line + 1} of ${label}`;
    if (running === "line") {
      return {
        kind: "nothing",
        message: `Eager: ${where} is still running: nothing to show until it ends (what it prints so far is in the "Eager" output channel).`,
      };
    }
    if (running === "file") return { kind: "nothing", message: `Eager: nothing has run on ${where} yet (the file is still running).` };
    // The statement that ran there was edited (or deleted) since: not "nothing ran".
    if (drawn === "edited") return { kind: "nothing", message: `Eager: ${where} was edited since it ran: nothing has run there as it is now.` };
    // The editor still draws a result there (stale, after a restart or an edit): show that copy, said so.
    if (drawn !== undefined) return { kind: "show", text: `${DRAWN_COPY_NOTE}\n${resultDetailText(drawn, label)}` };
    return { kind: "nothing", message: `Eager: nothing ran on ${where}.` };
  }
  if ("error" in answer && typeof answer.error === "string") return { kind: "quiet" };
  return { kind: "show", text: resultDetailText(answer as ChunkResultParams | SyntaxErrorDetail | RunningDetail, label, source) };
}

/** An editor group as detailView.ts sees it: its column, whether it is the active one, the
 * whole-output documents among its tabs (their URIs), and whether the document asked about is the
 * one it shows (its active tab). */
export interface DetailGroup {
  viewColumn: number;
  active: boolean;
  details: readonly string[];
  showsSource: boolean;
}

/** The column to show the whole-output document `uri` in: a group that has it open already, else
 * a group that shows whole output (the active one first: asked while reading one), never over the
 * document asked about; undefined: beside the active editor. So asking again, from any group (the
 * rightmost one too), does not open one more group each time. */
export function detailColumn(groups: readonly DetailGroup[], uri: string): number | undefined {
  const usable = groups.filter((g) => !g.showsSource);
  const own = usable.find((g) => g.details.includes(uri));
  if (own !== undefined) return own.viewColumn;
  const showing = usable.filter((g) => g.details.length > 0);
  return (showing.find((g) => g.active) ?? showing[0])?.viewColumn;
}

/** The `{uri, line}` argument the hover's "Show whole output" link passes (decorations.ts
 * `wholeOutputLink`); undefined for anything else (the palette passes nothing: the cursor's line). */
export function detailTarget(arg: unknown): { uri: string; line: number } | undefined {
  if (typeof arg !== "object" || arg === null) return undefined;
  const { uri, line } = arg as { uri?: unknown; line?: unknown };
  if (typeof uri !== "string" || typeof line !== "number" || !Number.isInteger(line) || line < 0) return undefined;
  return { uri, line };
}
