import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { statusView, summaryLogLine, summaryMessage } from "../src/status";

const uri = "file:///t/a.py";

describe("status bar", () => {
  it("is idle before anything is heard and when idle", () => {
    assert.equal(statusView(undefined).text, "$(zap) Eager");
    assert.deepEqual(statusView({ uri, state: "idle" }), statusView(undefined));
  });

  it("shows tokens per second while generating", () => {
    const v = statusView({ uri, state: "generating", tokens: 120, tokensPerSecond: 38.5, chunksDone: 3, chunksTotal: 5 });
    assert.equal(v.text, "$(loading~spin) Eager: generating · 39 tok/s · ran 3/5");
    assert.match(v.tooltip, /120 tokens so far/);
    assert.match(v.tooltip, /Click to stop/);
    assert.equal(v.busy, true);
    assert.equal(statusView({ uri, state: "generating", tokensPerSecond: 4.25 }).text, "$(loading~spin) Eager: generating · 4.3 tok/s");
    assert.equal(statusView({ uri, state: "generating", tokensPerSecond: 0 }).text, "$(loading~spin) Eager: generating");
  });

  it("shows which chunk runs", () => {
    assert.equal(statusView({ uri, state: "running", chunksDone: 3, chunksTotal: 5 }).text, "$(play) Eager: running chunk 4 of 5");
    assert.equal(statusView({ uri, state: "running", chunksDone: 5, chunksTotal: 5 }).text, "$(play) Eager: running chunk 5 of 5");
    assert.equal(statusView({ uri, state: "running" }).text, "$(play) Eager: running");
  });

  it("shows errors with the message in the tooltip", () => {
    const v = statusView({ uri, state: "error", message: "endpoint unreachable" });
    assert.equal(v.text, "$(error) Eager: error");
    assert.equal(v.error, true);
    assert.match(v.tooltip, /endpoint unreachable/);
  });
});

describe("generation summary", () => {
  const base = { uri, elapsedS: 4.1, lastTokenS: 3.9, execTotalS: 2.2, serialEstimateS: 6.1, savedS: 2.0, chunks: 6, tokens: 180, stoppedEarly: false, error: null };
  it("says how much time eager execution saved", () => {
    assert.equal(summaryMessage(base), "Eager: done in 4.1 s — 2.0 s saved against generating first and running afterwards");
  });
  it("does not claim savings that are not there", () => {
    assert.equal(summaryMessage({ ...base, savedS: -0.3 }), "Eager: done in 4.1 s (6 statements run)");
    assert.equal(summaryMessage({ ...base, savedS: 0, chunks: 1 }), "Eager: done in 4.1 s (1 statement run)");
  });
  it("reports early stops and what stopped them", () => {
    assert.equal(summaryMessage({ ...base, stoppedEarly: true }), "Eager: stopped after 4.1 s (6 statements run)");
    assert.equal(
      summaryMessage({ ...base, stoppedEarly: true, error: "ZeroDivisionError: division by zero" }),
      "Eager: stopped after 4.1 s (ZeroDivisionError: division by zero)",
    );
    assert.equal(summaryMessage({ ...base, error: "401 Unauthorized" }), "Eager: ended after 4.1 s (401 Unauthorized)");
  });
  it("never prints -0.0", () => {
    assert.match(summaryLogLine({ ...base, savedS: -0.01 }), /saved 0\.0 s/);
  });
  it("logs every number", () => {
    assert.equal(
      summaryLogLine({ ...base, error: "boom" }),
      "[summary] elapsed 4.1 s, last token 3.9 s, execution 2.2 s, serial estimate 6.1 s, saved 2.0 s, 6 chunks, 180 tokens, error: boom",
    );
  });
});
