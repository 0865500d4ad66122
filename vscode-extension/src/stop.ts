// What the user is told after "Eager: Stop" (the server's `eager.stop` result, docs/protocol.md).
// No `vscode` import: unit tests load it in Node.

import type { StopResult } from "./methods";

export function stopMessage(r: StopResult): string {
  if (!r.stopped) return "Eager: nothing was running.";
  const parts = ["Eager: stopped."];
  if (r.interrupted === true) parts.push("The code it started was interrupted.");
  if (r.stateLost === true) parts.push("The interpreter did not stop in time and was restarted; its variables are gone.");
  return parts.join(" ");
}
