// Status bar text and the end-of-generation summary. Pure: no `vscode` import (unit-tested in Node).

import type { GenerationSummaryParams, InterruptResult, StatusParams } from "./methods";

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

/** The document's run is over (idle, or stopped at an error): no statement of it runs any more,
 * so one that printed while it ran and got no result (stopped) is no longer running. */
export function runEnded(s: StatusParams): boolean {
  return s.state === "idle" || s.state === "error";
}

/** "lines 5, 6, 7" for statements running side by side (gate `parallel`); undefined for one or none. */
export function parallelText(s: StatusParams): string | undefined {
  const lines = s.runningLines ?? [];
  if (lines.length < 2) return undefined;
  const shown = lines.slice(0, 4).map((l) => String(l + 1));
  const more = lines.length > 4 ? ` +${lines.length - 4}` : "";
  return `lines ${shown.join(", ")}${more}`;
}

/** `3 done · 1 running · 2 pending` (zero running/pending left out); undefined before any statement.
 * Statements running in parallel: `3 done · 3 running in parallel (lines 5, 6, 7)`. */
export function countsText(s: StatusParams): string | undefined {
  const total = s.chunksTotal ?? 0;
  if (total <= 0) return undefined;
  const parts = [`${s.chunksDone ?? 0} done`];
  const parallel = parallelText(s);
  if (parallel !== undefined) parts.push(`${s.runningLines?.length} running in parallel (${parallel})`);
  else if (s.chunksRunning) parts.push(`${s.chunksRunning} running`);
  if (s.chunksPending && s.heldLine !== undefined) parts.push(`${s.chunksPending} held from line ${s.heldLine + 1}`);
  else if (s.chunksPending) parts.push(`${s.chunksPending} pending`);
  return parts.join(" · ");
}

/** The tooltip's sentence on what the safe gate holds, or "" (`heldLine`, `heldReason`). */
export function heldText(s: StatusParams): string {
  if (!s.chunksPending || s.heldLine === undefined) return "";
  const why = s.heldReason ? ` (it ${s.heldReason})` : "";
  return ` The safe gate holds line ${s.heldLine + 1}${why} and what follows until the stream ends (execution.gate).`;
}

/** "Model: gpt-4o-mini (openai, https://…/v1)", or "" when the server has not said. */
export function modelText(s: StatusParams | undefined): string {
  if (!s || !s.provider) return "";
  const where = s.provider === "openai" && s.baseUrl ? `${s.provider}, ${s.baseUrl}` : s.provider;
  return `Model: ${s.model ?? "?"} (${where})`;
}

/** The idle `message`s of a run the user ended (server lsp/methods.py INTERRUPTED, STOPPED,
 * RESTARTED): shown, so an interrupt does not look like nothing happened. */
const USER_ENDED = new Set(["interrupted", "stopped", "interpreter restarted"]);

/** How the user ended the last run, from an idle `message`: the message itself, or in follow
 * mode one of its parts ("following · interrupted; edit it to re-run", "following · re-ran 1
 * of 5 statements (…); interpreter restarted"); "" when the user did not end it. Neovim's
 * init.lua `user_ended` has the same rule. */
export function userEnded(message: string): string {
  const rest = message.startsWith("following · ") ? message.slice("following · ".length) : message;
  return rest.split("; ").find((part) => USER_ENDED.has(part)) ?? "";
}

/** What the status bar shows for one document's `eager/status` (undefined: nothing heard yet). */
export function statusView(s: StatusParams | undefined): StatusView {
  const clickHint = "Click to stop.";
  const model = modelText(s);
  const tip = (text: string): string => (model ? `${text}\n${model}` : text);
  if (s === undefined || s.state === "idle") {
    // "following", or "following · re-ran 2 of 6 statements (…)" after an edit re-ran some
    const message = s?.message ?? "";
    const following = message === "following" || message.startsWith("following · ");
    const reran = following ? message.slice("following · ".length) : "";
    // otherwise how the last run ended when the user ended it: "interrupted", "stopped",
    // "interpreter restarted" (an error is state "error")
    const ended = userEnded(message);
    return {
      text: following
        ? `$(eye) Eager: following${ended ? ` · ${ended}` : ""}`
        : ended
          ? `$(zap) Eager: ${ended}`
          : "$(zap) Eager",
      tooltip: tip(
        following
          ? `Eager: follow mode; waiting for the next statement${reran ? `. Last: ${reran}` : ""}`
          : ended
            ? `Eager: idle (${ended})`
            : "Eager: idle",
      ),
      error: false,
      busy: false,
    };
  }
  const counts = countsText(s);
  switch (s.state) {
    case "generating": {
      const parts = ["$(loading~spin) Eager: generating"];
      const r = rate(s.tokensPerSecond);
      if (r !== undefined) parts.push(r);
      if (counts !== undefined) parts.push(counts);
      else if (!s.tokens && s.message) parts.push(s.message); // e.g. starting the local model… (3 s)
      const tokens = s.tokens ? `${s.tokens} tokens so far. ` : "";
      return {
        text: parts.join(" · "),
        tooltip: tip(`Eager: generating code. ${tokens}${clickHint}${heldText(s)}`),
        error: false,
        busy: true,
      };
    }
    case "running": {
      const text = counts !== undefined ? `$(play) Eager: running · ${counts}` : "$(play) Eager: running";
      return { text, tooltip: tip(`Eager: running code. ${clickHint}${heldText(s)}`), error: false, busy: true };
    }
    case "error":
      return {
        text: "$(error) Eager: error",
        tooltip: tip(`Eager: ${s.message ? s.message : "an error occurred"}. See the "Eager" output.`),
        error: true,
        busy: false,
      };
    default:
      return { text: "$(zap) Eager", tooltip: tip(`Eager: ${String(s.state)}`), error: false, busy: false };
  }
}

/** Seconds with one decimal (never "-0.0"). */
export function seconds(s: number | undefined): string {
  const v = s ?? 0;
  return `${(Math.abs(v) < 0.05 ? 0 : v).toFixed(1)} s`;
}

/** How long a run took, as a person reads it: seconds with one decimal ("4.1 s"), but
 * milliseconds under a tenth of a second ("60 ms": one decimal read "0.0 s" or "0.1 s"). */
export function duration(s: number | undefined): string {
  const v = Math.max(0, s ?? 0);
  return v < 0.0995 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`;
}

/** The message shown when a generation or run ends. `error` is what ended it early (the code's
 * exception, or a failure of the model endpoint). `chunks` counts the statements that ran to their
 * end (not one interrupted). A run the user interrupted (its `error` a KeyboardInterrupt) says
 * "interrupted"; one that could not start (nothing ran, nothing was stopped) says why, not
 * "ended after 0 ms"; a stopped run claims no saving. */
export function summaryMessage(s: GenerationSummaryParams): string {
  const n = s.chunks;
  const chunks = n !== undefined ? `${n} statement${n === 1 ? "" : "s"} run` : undefined;
  const took = duration(s.elapsedS);
  if (s.error) {
    if (!s.stoppedEarly && !s.elapsedS && !n) return `Eager: ${s.error.replace(/^eager: /, "")}`;
    const verb = !s.stoppedEarly ? "ended" : /^KeyboardInterrupt\b/.test(s.error) ? "interrupted" : "stopped";
    return `Eager: ${verb} after ${took} (${s.error})`;
  }
  if (s.stoppedEarly) return `Eager: stopped after ${took}${chunks ? ` (${chunks})` : ""}`;
  const saved = s.savedS ?? 0;
  if (saved >= 0.05) {
    return `Eager: done in ${took} — ${duration(saved)} saved against generating first and running afterwards`;
  }
  return `Eager: done in ${took}${chunks ? ` (${chunks})` : ""}`;
}

/** Whether the summary of a run is shown as a warning: it ended at an error, unless the user ended
 * it with "Eager: Interrupt", asked (at `interruptAskedAt`) less than `windowMs` before: its
 * KeyboardInterrupt, or the loss of the interpreter the interrupt had to kill (InterpreterLost; the
 * interrupt's own answer says the variables are gone). As with Stop, the status bar says how it
 * ended ("Eager: interrupted", "Eager: interpreter restarted"). */
export function summaryIsWarning(
  s: GenerationSummaryParams,
  interruptAskedAt: number | undefined,
  now: number,
  windowMs = 30000,
): boolean {
  if (!s.error) return false;
  const asked = interruptAskedAt !== undefined && now - interruptAskedAt >= 0 && now - interruptAskedAt <= windowMs;
  return !(asked && /^(KeyboardInterrupt|InterpreterLost)\b/.test(s.error));
}

/** The idle `message`s of a run ended by the user's own "Eager: Interrupt" or "Eager: Restart
 * Interpreter" (server lsp/methods.py INTERRUPTED, RESTARTED; an interrupt or a stop that had to
 * kill the interpreter ends RESTARTED too). Neovim's handlers.lua has the same list. */
const TOLD_BY_THE_COMMAND = new Set(["interrupted", "interpreter restarted"]);

/** Whether a run's summary is not shown as a message: it stopped early and the document's last
 * `eager/status` (which comes before the summary) says the user's own command ended it. That
 * command says what happened (`interruptMessage`, "Eager: interpreter restarted.", the Stop's
 * message): one action, one message, as in Neovim (handlers.lua `ended_by_a_command`; follow
 * mode prefixes "following · "). The summary still goes to the "Eager" channel. */
export function summaryToldByCommand(s: GenerationSummaryParams, status: StatusParams | undefined): boolean {
  if (!s.stoppedEarly || status === undefined || status.state !== "idle" || typeof status.message !== "string") return false;
  return TOLD_BY_THE_COMMAND.has(status.message.replace(/^following · /, ""));
}

/** What "Eager: Interrupt" says of the server's answer (the run's summary then says nothing:
 * `summaryToldByCommand`); `warning`: shown as a warning (the variables are gone, or the code
 * still runs). */
export function interruptMessage(r: InterruptResult): { text: string; warning: boolean } {
  if (r.stillRunning) {
    return {
      text: "Eager: the kernel ignored the interrupt and is still running (an attached kernel is never restarted by eager).",
      warning: true,
    };
  }
  if (!r.interrupted) return { text: "Eager: nothing was interrupted (no code was running, or it finished first).", warning: false };
  if (r.stateLost) return { text: "Eager: the code did not stop in time; the interpreter was restarted and its variables are gone.", warning: true };
  return { text: "Eager: interrupted.", warning: false };
}

/** One line for the output channel, with every number of the summary. */
export function summaryLogLine(s: GenerationSummaryParams): string {
  const fields = [
    `elapsed ${seconds(s.elapsedS)}`,
    `last token ${seconds(s.lastTokenS)}`,
    `execution ${seconds(s.execTotalS)}`,
    `serial estimate ${seconds(s.serialEstimateS)}`,
    s.savedS !== undefined && s.savedS !== null && s.savedS < 0
      ? `no time saved (${seconds(-s.savedS)} slower)`
      : `saved ${seconds(s.savedS)}`,
    `${s.chunks ?? 0} chunks`,
    `${s.tokens ?? 0} tokens`,
  ];
  if (s.stoppedEarly) fields.push("stopped early");
  if (s.error) fields.push(`error: ${s.error}`);
  return `[summary] ${fields.join(", ")}`;
}

/** What the server said lately with `window/showMessage` (shown as it came), so that a
 * generation's summary does not say the same stop again a moment later: a stop by an edit read
 * "eager: generation stopped: X" and "Eager: stopped after 2.6 s (X)" side by side. */
export class RecentMessages {
  private items: { text: string; at: number }[] = [];

  constructor(private readonly windowMs = 5000, private readonly now: () => number = Date.now) {}

  add(text: string): void {
    this.items.push({ text, at: this.now() });
    if (this.items.length > 20) this.items.shift();
  }

  /** A message of the last few seconds contains `text`. */
  said(text: string): boolean {
    const since = this.now() - this.windowMs;
    return text !== "" && this.items.some((m) => m.at >= since && m.text.includes(text));
  }
}
