// "Eager: Show Whole Output": the server's whole copy of the result on the cursor's line
// (`eager.resultDetail`). The decorations, the hover, the results panel and the "Eager" channel
// show `eager/chunkResult`, which is cut to fit its payload (docs/protocol.md, "Limits"); this
// text has all the server kept: every line of stdout and stderr, the whole traceback. It is
// rendered as the "Eager" channel renders a result (`outputChannelText`), under a header.
// Pure: no `vscode` import (test/resultDetail.test.ts); detailView.ts shows it.

import { chunkLines, chunkPlace, formatElapsed, outputChannelText, resultKind } from "./decorations";
import type { ChunkResultParams, Refusal, StatusParams, SyntaxErrorDetail, ValueInfo } from "./methods";
import type { ResultEntry } from "./results";

/** What `eager.resultDetail` answers: a result, a syntax error, nothing (null), or a refusal
 * (`{error, reason}`, which the server shows itself). */
export type DetailAnswer = ChunkResultParams | SyntaxErrorDetail | Refusal | null | undefined;

/** The last line when even the detail answer was cut to fit its cap (1 MiB of JSON). */
export const DETAIL_CUT_NOTE =
  "[... the server cut this answer to fit its cap (1 MiB): the longest texts above lack their middle]";

/** `prefix` and a value's text (all of it, over as many lines as it has). */
function valueLine(prefix: string, v: ValueInfo | string): string {
  const text = typeof v === "string" ? v : (v.repr ?? v.summary ?? "");
  return prefix + text.replace(/\s+$/, "");
}

/** The text of one answer, for the file named `label` (e.g. "a.py"). */
export function resultDetailText(d: ChunkResultParams | SyntaxErrorDetail, label: string): string {
  if ("syntaxError" in d) {
    const e = d.syntaxError;
    return `[${label}:${e.line + 1}] SyntaxError: ${e.message} (column ${e.column + 1})\n`;
  }
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
  if (output !== undefined) lines.push(output);
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

/** The result the editor draws at 0-based `line` (`entries` as ResultDecorations.entries gives
 * them, in their current lines), with its lines as they are now; undefined when none covers it. */
export function drawnAt(entries: readonly ResultEntry[], line: number): ChunkResultParams | undefined {
  const e = entries.find((x) => x.gone !== true && x.startLine <= line && line <= x.endLine);
  if (e === undefined) return undefined;
  const r = e.result;
  const moved = e.startLine - chunkLines(r.chunk).start;
  const range = { start: { line: e.startLine, character: 0 }, end: { line: e.endLine, character: 1 } };
  const error = r.error && typeof r.error.line === "number" ? { ...r.error, line: r.error.line + moved } : r.error;
  return { ...r, chunk: { ...r.chunk, startLine: e.startLine, endLine: e.endLine, range }, error };
}

/** What "Eager: Show Whole Output" does with the server's `answer` about 0-based `line` of the file
 * named `label`; `running`: whether the line or its file runs now; `drawn`: the result the editor
 * draws there (drawnAt), shown when the server no longer has one. */
export function detailOutcome(
  answer: DetailAnswer,
  line: number,
  label: string,
  running?: RunningNow,
  drawn?: ChunkResultParams,
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
    // The editor still draws a result there (stale, after a restart): show that copy, said so.
    if (drawn !== undefined) return { kind: "show", text: `${DRAWN_COPY_NOTE}\n${resultDetailText(drawn, label)}` };
    return { kind: "nothing", message: `Eager: nothing ran on ${where}.` };
  }
  if ("error" in answer && typeof answer.error === "string") return { kind: "quiet" };
  return { kind: "show", text: resultDetailText(answer as ChunkResultParams | SyntaxErrorDetail, label) };
}

/** The `{uri, line}` argument the hover's "Show whole output" link passes (decorations.ts
 * `wholeOutputLink`); undefined for anything else (the palette passes nothing: the cursor's line). */
export function detailTarget(arg: unknown): { uri: string; line: number } | undefined {
  if (typeof arg !== "object" || arg === null) return undefined;
  const { uri, line } = arg as { uri?: unknown; line?: unknown };
  if (typeof uri !== "string" || typeof line !== "number" || !Number.isInteger(line) || line < 0) return undefined;
  return { uri, line };
}
