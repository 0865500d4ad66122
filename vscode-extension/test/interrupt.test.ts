// The end of a run the user interrupted, as the summary message says it (found in a tour: a
// 60 ms run read "done in 0.0 s", a KeyboardInterrupt read "stopped", the loss of an interpreter
// the user's interrupt had to kill was a warning, a run whose interpreter could not start read
// "stopped after 0.0 s").
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { hoverMarkdown, inlineText, resultKind } from "../src/decorations";
import type { ChunkResultParams, StatusParams } from "../src/methods";
import { resultDetailText } from "../src/resultDetail";
import { resultsHtml } from "../src/results";
import { duration, interruptMessage, summaryIsWarning, summaryMessage, summaryToldByCommand } from "../src/status";

const uri = "file:///t/a.py";

describe("durations", () => {
  it("are seconds with one decimal, but milliseconds where that would read 0.0 s or 0.1 s", () => {
    assert.equal(duration(0.06), "60 ms");
    assert.equal(duration(0.0994), "99 ms");
    assert.equal(duration(0.0004), "0 ms");
    assert.equal(duration(0), "0 ms");
    assert.equal(duration(undefined), "0 ms");
    assert.equal(duration(0.6), "0.6 s");
    assert.equal(duration(4.14), "4.1 s");
    assert.equal(duration(42.4), "42.4 s");
    assert.equal(duration(-0.01), "0 ms");
  });

  it("are how a short run's summary says it", () => {
    assert.equal(summaryMessage({ uri, elapsedS: 0.06, chunks: 2, stoppedEarly: false, error: null }), "Eager: done in 60 ms (2 statements run)");
  });
});

describe("an interrupted run's summary", () => {
  const interrupted = { uri, elapsedS: 2.3, chunks: 1, stoppedEarly: true, error: "KeyboardInterrupt" };
  it("says it was interrupted, not stopped", () => {
    assert.equal(summaryMessage(interrupted), "Eager: interrupted after 2.3 s (KeyboardInterrupt)");
  });
  it("is no warning when the interrupt had to kill the interpreter", () => {
    const killed = { ...interrupted, error: "InterpreterLost: killed: did not stop within 2 s of an interrupt; the interpreter was restarted and its state is lost" };
    assert.equal(summaryIsWarning(killed, 1000, 3500), false);
    assert.equal(summaryIsWarning(killed, undefined, 3500), true); // a crash nobody asked for
  });
});

describe("a run whose interpreter could not start", () => {
  it("says so and why, not how long it took", () => {
    const error = "eager: could not start the Python interpreter for a.py: cannot start /x/python3: No such file";
    assert.equal(
      summaryMessage({ uri, elapsedS: 0, chunks: 0, stoppedEarly: false, error }),
      "Eager: could not start the Python interpreter for a.py: cannot start /x/python3: No such file",
    );
  });
});

// A statement the user ended (its error's `byUser`: a KeyboardInterrupt, or the interpreter
// killed for an interrupt, a stop or a restart) is headed "interrupted" wherever a result is
// headed, as its Information diagnostic says; a crash (InterpreterLost, stateLost too, but not
// by the user) stays an error.
function ended(error: ChunkResultParams["error"]): ChunkResultParams {
  return {
    uri,
    version: 3,
    chunk: { index: 2, startLine: 2, endLine: 2, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 14 } } },
    ok: false,
    skipped: false,
    values: [],
    expr: null,
    stdout: "",
    stderr: "",
    error,
    images: [],
    timings: { elapsedMs: 2000 },
  };
}
const interruptedResult = ended({
  type: "KeyboardInterrupt",
  message: "",
  line: 2,
  traceback: 'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\nKeyboardInterrupt\n',
  stateLost: false,
  byUser: true,
});
const lostMessage = "killed: did not stop within 2 s of an interrupt; the interpreter was restarted and its state is lost";
const killed = ended({ type: "InterpreterLost", message: lostMessage, line: null, traceback: "", stateLost: true, byUser: true });
const crashed = ended({ type: "InterpreterLost", message: "exit code 3; the interpreter was restarted and its state is lost", line: null, traceback: "", stateLost: true, byUser: false });

describe("a result the user ended", () => {
  it("is of its own kind, not an error; a crash is an error", () => {
    assert.equal(resultKind(interruptedResult), "interrupted");
    assert.equal(resultKind(killed), "interrupted");
    assert.equal(resultKind(crashed), "error");
    assert.equal(resultKind(ended({ type: "ZeroDivisionError", message: "division by zero", line: 2 })), "error");
  });

  it("is drawn on its line as interrupted, without the error's ✗", () => {
    assert.equal(inlineText(interruptedResult, 80), "⟵ interrupted: KeyboardInterrupt · 2.0 s");
    assert.ok(inlineText(killed, 200).startsWith(`⟵ interrupted: InterpreterLost: ${lostMessage}`), inlineText(killed, 200));
    assert.ok(inlineText(crashed, 80).startsWith("⟵ ✗ InterpreterLost"), inlineText(crashed, 80));
  });

  it("says so in its hover's heading", () => {
    assert.ok(hoverMarkdown(killed, 2, 2).startsWith("**Eager** · line 3 · 2.0 s · interrupted\n"), hoverMarkdown(killed, 2, 2));
    assert.ok(hoverMarkdown(crashed, 2, 2).startsWith("**Eager** · line 3 · 2.0 s\n"), hoverMarkdown(crashed, 2, 2));
  });

  it("is headed interrupted in the results panel, not in the error's colour", () => {
    const entry = (result: ChunkResultParams) => ({ result, startLine: 2, endLine: 2, stale: false });
    const html = resultsHtml("a.py", [entry(killed), entry(crashed)], () => undefined, "csp");
    assert.match(html, /<h3 class="interrupted">line 3 · interrupted · 2\.0 s<\/h3>/);
    assert.match(html, /<div class="interrupted">InterpreterLost: killed: /);
    assert.match(html, /<h3 class="error">line 3 · error · 2\.0 s<\/h3>/);
  });

  it("is headed interrupted in its whole output", () => {
    assert.equal(resultDetailText(interruptedResult, "a.py").split("\n")[0], "[a.py:3] interrupted · 2.0 s");
    assert.equal(resultDetailText(crashed, "a.py").split("\n")[0], "[a.py:3] error · 2.0 s");
  });
});

// One user action, one message: a run that the user's Interrupt or Restart Interpreter ended
// (an interrupt that had to kill the interpreter, a restart during a run) showed the command's
// message and the run's summary too. The status that comes before the summary says which.
describe("the summary of a run the user's own command ended", () => {
  const status = (message: string, state: StatusParams["state"] = "idle"): StatusParams => ({ uri, state, message });
  const stopped = { uri, elapsedS: 2.3, chunks: 1, stoppedEarly: true, error: "KeyboardInterrupt" };

  it("is left to that command after an interrupt or a restart (also while following)", () => {
    assert.equal(summaryToldByCommand(stopped, status("interrupted")), true);
    const lost = { ...stopped, error: `InterpreterLost: ${lostMessage}` };
    assert.equal(summaryToldByCommand(lost, status("interpreter restarted")), true);
    assert.equal(summaryToldByCommand({ ...stopped, error: null }, status("interpreter restarted")), true);
    assert.equal(summaryToldByCommand(stopped, status("following · interrupted")), true);
  });

  it("is shown otherwise: a run that ended by itself, a Stop, an error, no status yet", () => {
    assert.equal(summaryToldByCommand({ ...stopped, stoppedEarly: false, error: null }, status("interrupted")), false);
    assert.equal(summaryToldByCommand({ ...stopped, error: null }, status("stopped")), false);
    assert.equal(summaryToldByCommand({ ...stopped, error: "ZeroDivisionError: division by zero" }, status("x", "error")), false);
    assert.equal(summaryToldByCommand(stopped, status("")), false);
    assert.equal(summaryToldByCommand(stopped, undefined), false);
    assert.equal(summaryToldByCommand(stopped, status("following · interrupted; edit it to re-run")), false);
  });

  it("Interrupt says what happened itself, in one message", () => {
    assert.deepEqual(interruptMessage({ interrupted: true, stateLost: false }), { text: "Eager: interrupted.", warning: false });
    const lost = interruptMessage({ interrupted: true, stateLost: true });
    assert.ok(lost.warning && lost.text.includes("the interpreter was restarted and its variables are gone"), lost.text);
    assert.equal(interruptMessage({ interrupted: false, stateLost: false }).warning, false);
    assert.match(interruptMessage({ interrupted: false, stateLost: false }).text, /nothing was interrupted/);
    const ignored = interruptMessage({ interrupted: false, stateLost: false, stillRunning: true });
    assert.ok(ignored.warning && ignored.text.includes("still running"), ignored.text);
  });
});
