// The end of a run the user interrupted, as the summary message says it (found in a tour: a
// 60 ms run read "done in 0.0 s", a KeyboardInterrupt read "stopped", the loss of an interpreter
// the user's interrupt had to kill was a warning, a run whose interpreter could not start read
// "stopped after 0.0 s").
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { duration, summaryIsWarning, summaryMessage } from "../src/status";

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
