// "Eager: Show Whole Output": the server's whole copy of the result on the cursor's line
// (`eager.resultDetail`). The decorations, the hover, the results panel and the "Eager" channel
// show `eager/chunkResult`, which is cut to fit its payload (docs/protocol.md, "Limits"); this
// text has all the server kept: every line of stdout and stderr, the whole traceback. It is
// rendered as the "Eager" channel renders a result (`outputChannelText`), under a header.
// Pure: no `vscode` import (test/resultDetail.test.ts); detailView.ts shows it.

import { chunkPlace, formatElapsed, outputChannelText, resultKind } from "./decorations";
import type { ChunkResultParams, Refusal, SyntaxErrorDetail, ValueInfo } from "./methods";

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

/** What the command does with an answer about 0-based `line` of the file named `label`. */
export type DetailOutcome =
  | { kind: "show"; text: string }
  | { kind: "nothing"; message: string }
  /** Refused (the server has said why) or no answer (the server is not running: said too). */
  | { kind: "quiet" };

export function detailOutcome(answer: DetailAnswer, line: number, label: string): DetailOutcome {
  if (answer === undefined) return { kind: "quiet" };
  if (answer === null) return { kind: "nothing", message: `Eager: nothing ran on line ${line + 1} of ${label}.` };
  if ("error" in answer && typeof answer.error === "string") return { kind: "quiet" };
  return { kind: "show", text: resultDetailText(answer as ChunkResultParams | SyntaxErrorDetail, label) };
}
