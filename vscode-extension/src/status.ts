// Status bar text and the end-of-generation summary. Pure: no `vscode` import (unit-tested in Node).

import type { GenerationSummaryParams, StatusParams } from "./methods";

export interface StatusView {
  /** Status bar text; `$(name)` are codicons. */
  text: string;
  tooltip: string;
  /** True when the item should draw as an error. */
  error: boolean;
  /** True while something runs that "Eager: Stop" would stop. */
  busy: boolean;
}

function rate(tps: number | undefined): string | undefined {
  if (tps === undefined || tps === null || !Number.isFinite(tps) || tps <= 0) return undefined;
  return tps >= 10 ? `${Math.round(tps)} tok/s` : `${tps.toFixed(1)} tok/s`;
}

/** What the status bar shows for one document's `eager/status` (undefined: nothing heard yet). */
export function statusView(s: StatusParams | undefined): StatusView {
  const clickHint = "Click to stop.";
  if (s === undefined || s.state === "idle") {
    return { text: "$(zap) Eager", tooltip: "Eager: idle", error: false, busy: false };
  }
  const total = s.chunksTotal ?? 0;
  const done = s.chunksDone ?? 0;
  switch (s.state) {
    case "generating": {
      const parts = ["$(loading~spin) Eager: generating"];
      const r = rate(s.tokensPerSecond);
      if (r !== undefined) parts.push(r);
      if (total > 0) parts.push(`ran ${done}/${total}`);
      const tokens = s.tokens ? `${s.tokens} tokens so far. ` : "";
      return {
        text: parts.join(" · "),
        tooltip: `Eager: generating code. ${tokens}${clickHint}`,
        error: false,
        busy: true,
      };
    }
    case "running": {
      const text =
        total > 0
          ? `$(play) Eager: running chunk ${Math.min(done + 1, total)} of ${total}`
          : "$(play) Eager: running";
      return { text, tooltip: `Eager: running code. ${clickHint}`, error: false, busy: true };
    }
    case "error":
      return {
        text: "$(error) Eager: error",
        tooltip: `Eager: ${s.message ? s.message : "an error occurred"}. See the "Eager" output.`,
        error: true,
        busy: false,
      };
    default:
      return { text: "$(zap) Eager", tooltip: `Eager: ${String(s.state)}`, error: false, busy: false };
  }
}

/** Seconds with one decimal (never "-0.0"). */
export function seconds(s: number | undefined): string {
  const v = s ?? 0;
  return `${(Math.abs(v) < 0.05 ? 0 : v).toFixed(1)} s`;
}

/** The message shown when a generation or run ends. `error` is what ended it early (the code's
 * exception, or a failure of the model endpoint). */
export function summaryMessage(s: GenerationSummaryParams): string {
  const n = s.chunks;
  const chunks = n !== undefined ? `${n} statement${n === 1 ? "" : "s"} run` : undefined;
  if (s.error) {
    const verb = s.stoppedEarly ? "stopped" : "ended";
    return `Eager: ${verb} after ${seconds(s.elapsedS)} (${s.error})`;
  }
  if (s.stoppedEarly) return `Eager: stopped after ${seconds(s.elapsedS)}${chunks ? ` (${chunks})` : ""}`;
  const saved = s.savedS ?? 0;
  if (saved >= 0.05) {
    return `Eager: done in ${seconds(s.elapsedS)} — ${seconds(saved)} saved against generating first and running afterwards`;
  }
  return `Eager: done in ${seconds(s.elapsedS)}${chunks ? ` (${chunks})` : ""}`;
}

/** One line for the output channel, with every number of the summary. */
export function summaryLogLine(s: GenerationSummaryParams): string {
  const fields = [
    `elapsed ${seconds(s.elapsedS)}`,
    `last token ${seconds(s.lastTokenS)}`,
    `execution ${seconds(s.execTotalS)}`,
    `serial estimate ${seconds(s.serialEstimateS)}`,
    `saved ${seconds(s.savedS)}`,
    `${s.chunks ?? 0} chunks`,
    `${s.tokens ?? 0} tokens`,
  ];
  if (s.stoppedEarly) fields.push("stopped early");
  if (s.error) fields.push(`error: ${s.error}`);
  return `[summary] ${fields.join(", ")}`;
}
