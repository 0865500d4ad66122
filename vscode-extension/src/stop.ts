// What the user is told after "Eager: Stop" (the server's `eager.stop` result, docs/protocol.md).
// No `vscode` import: unit tests load it in Node.

import type { StopResult } from "./methods";

/** `summarized`: the summary of what was stopped ("Eager: stopped after 3.2 s …") was shown
 * already; then only what it does not say is told, if anything. */
export function stopMessage(r: StopResult, summarized = false): string | undefined {
  if (!r.stopped) return "Eager: nothing was running.";
  const more: string[] = [];
  if (r.interrupted === true) more.push("The code it started was interrupted.");
  if (r.stateLost === true) more.push("The interpreter did not stop in time and was restarted; its variables are gone.");
  if (!summarized) return ["Eager: stopped.", ...more].join(" ");
  return more.length > 0 ? `Eager: ${more.join(" ")}` : undefined;
}
