// What the user is told after "Eager: Stop" (the server's `eager.stop` result, docs/protocol.md).
// No `vscode` import: unit tests load it in Node.

import type { StopResult } from "./methods";

/** `summarized`: the summary of what was stopped came already (shown, "Eager: stopped after
 * 3.2 s …", or left to this message when the status says the interpreter was restarted:
 * status.ts `summaryToldByCommand`); then only what it does not say is told, if anything: that
 * the variables are gone (a stopped run that was interrupted says so by being stopped). */
export function stopMessage(r: StopResult, summarized = false): string | undefined {
  if (!r.stopped) return "Eager: nothing was running.";
  const lost = "The code did not stop in time; the interpreter was restarted and its variables are gone.";
  if (summarized) return r.stateLost === true ? `Eager: stopped. ${lost}` : undefined;
  const more: string[] = [];
  if (r.interrupted === true && r.stateLost !== true) more.push("The code it started was interrupted.");
  if (r.stateLost === true) more.push(lost);
  return ["Eager: stopped.", ...more].join(" ");
}
