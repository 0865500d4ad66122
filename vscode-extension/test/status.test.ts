import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { RecentMessages, runEnded, statusView, summaryIsWarning, summaryLogLine, summaryMessage } from "../src/status";

const uri = "file:///t/a.py";

describe("status bar", () => {
  it("is idle before anything is heard and when idle", () => {
    assert.equal(statusView(undefined).text, "$(zap) Eager");
    assert.deepEqual(statusView({ uri, state: "idle" }), statusView(undefined));
  });

  it("says how a run the user ended ended", () => {
    assert.equal(statusView({ uri, state: "idle", message: "interrupted" }).text, "$(zap) Eager: interrupted");
    assert.equal(statusView({ uri, state: "idle", message: "interpreter restarted" }).tooltip, "Eager: idle (interpreter restarted)");
    assert.equal(statusView({ uri, state: "idle", message: "" }).text, "$(zap) Eager");
    assert.equal(statusView({ uri, state: "idle", message: "following · interpreter restarted" }).text, "$(eye) Eager: following · interpreter restarted");
    // follow mode's own words around it (its stream, a re-run of an edit)
    assert.equal(statusView({ uri, state: "idle", message: "following · interrupted; edit it to re-run" }).text, "$(eye) Eager: following · interrupted");
    assert.equal(
      statusView({ uri, state: "idle", message: "following · re-ran 1 of 5 statements (0.51 s; a full rebuild would take ≈0.5 s); stopped" }).text,
      "$(eye) Eager: following · stopped",
    );
  });

  it("shows tokens per second while generating", () => {
    const v = statusView({ uri, state: "generating", tokens: 120, tokensPerSecond: 38.5, chunksDone: 3, chunksRunning: 1, chunksPending: 1, chunksTotal: 5 });
    assert.equal(v.text, "$(loading~spin) Eager: generating · 39 tok/s · 3 done · 1 running · 1 pending");
    assert.match(v.tooltip, /120 tokens so far/);
    assert.match(v.tooltip, /Click to stop/);
    assert.equal(v.busy, true);
    assert.equal(statusView({ uri, state: "generating", tokensPerSecond: 4.25 }).text, "$(loading~spin) Eager: generating · 4.3 tok/s");
    assert.equal(statusView({ uri, state: "generating", tokensPerSecond: 0 }).text, "$(loading~spin) Eager: generating");
  });

  it("shows what is done, running and still pending", () => {
    assert.equal(
      statusView({ uri, state: "running", chunksDone: 2, chunksRunning: 1, chunksPending: 2, chunksTotal: 5 }).text,
      "$(play) Eager: running · 2 done · 1 running · 2 pending",
    );
    assert.equal(statusView({ uri, state: "running", chunksDone: 5, chunksRunning: 0, chunksPending: 0, chunksTotal: 5 }).text, "$(play) Eager: running · 5 done");
    assert.equal(statusView({ uri, state: "running" }).text, "$(play) Eager: running");
  });

  it("names the statements running in parallel", () => {
    assert.equal(
      statusView({ uri, state: "running", chunksDone: 2, chunksRunning: 3, chunksPending: 1, chunksTotal: 6, runningLines: [4, 5, 6] }).text,
      "$(play) Eager: running · 2 done · 3 running in parallel (lines 5, 6, 7) · 1 pending",
    );
    assert.equal(
      statusView({ uri, state: "running", chunksDone: 0, chunksRunning: 6, chunksTotal: 6, runningLines: [0, 1, 2, 3, 4, 5] }).text,
      "$(play) Eager: running · 0 done · 6 running in parallel (lines 1, 2, 3, 4 +2)",
    );
    // One statement at a time: as before.
    assert.equal(
      statusView({ uri, state: "running", chunksDone: 1, chunksRunning: 1, chunksTotal: 2, runningLines: [3] }).text,
      "$(play) Eager: running · 1 done · 1 running",
    );
  });

  it("says follow mode waits, and which model is in use", () => {
    const v = statusView({ uri, state: "idle", message: "following", provider: "local", model: "Qwen2.5-Coder-0.5B-Instruct (bundled)" });
    assert.equal(v.text, "$(eye) Eager: following");
    assert.equal(v.busy, false);
    assert.match(v.tooltip, /Model: Qwen2\.5-Coder-0\.5B-Instruct \(bundled\) \(local\)/);
    const o = statusView({ uri, state: "generating", provider: "openai", model: "gpt-4o-mini", baseUrl: "http://127.0.0.1:8/v1" });
    assert.match(o.tooltip, /Model: gpt-4o-mini \(openai, http:\/\/127\.0\.0\.1:8\/v1\)/);
  });

  it("shows the local model's start", () => {
    assert.equal(
      statusView({ uri, state: "generating", tokens: 0, message: "starting the local model… (3 s)" }).text,
      "$(loading~spin) Eager: generating · starting the local model… (3 s)",
    );
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
  it("never prints -0.0, nor a negative saving", () => {
    assert.match(summaryLogLine({ ...base, savedS: 0.01 }), /saved 0\.0 s/);
    assert.match(summaryLogLine({ ...base, savedS: -0.07 }), /no time saved \(0\.1 s slower\)/);
    assert.doesNotMatch(summaryLogLine({ ...base, savedS: -0.07 }), /saved -/);
  });
  it("logs every number", () => {
    assert.equal(
      summaryLogLine({ ...base, error: "boom" }),
      "[summary] elapsed 4.1 s, last token 3.9 s, execution 2.2 s, serial estimate 6.1 s, saved 2.0 s, 6 chunks, 180 tokens, error: boom",
    );
  });
});

describe("recent server messages", () => {
  it("knows a stop the server just said, for a few seconds", () => {
    let now = 1000;
    const recent = new RecentMessages(5000, () => now);
    recent.add("eager: generation stopped: the generated text was edited; removed 3 statements you deleted");
    assert.equal(recent.said("the generated text was edited; removed 3 statements you deleted"), true);
    assert.equal(recent.said("ZeroDivisionError: division by zero"), false);
    assert.equal(recent.said(""), false);
    now += 6000;
    assert.equal(recent.said("the generated text was edited; removed 3 statements you deleted"), false);
  });
});

describe("follow mode's idle state", () => {
  it("says where and why the safe gate holds what waits", () => {
    const s = { uri: "file:///a.py", state: "running" as const, chunksDone: 2, chunksPending: 2, chunksTotal: 4, heldLine: 2, heldReason: "calls signal.getsignal" };
    const v = statusView(s);
    assert.equal(v.text, "$(play) Eager: running · 2 done · 2 held from line 3");
    assert.match(v.tooltip, /The safe gate holds line 3 \(it calls signal\.getsignal\) and what follows/);
    // nothing pending: nothing held (the fields may linger in no status, but say nothing then)
    assert.equal(statusView({ ...s, chunksPending: 0 }).text, "$(play) Eager: running · 2 done");
  });

  it("stays 'following' after an edit re-ran statements, and says what re-ran", () => {
    const v = statusView({ uri: "file:///a.py", state: "idle", message: "following · re-ran 2 of 6 statements (0.01 s)" });
    assert.equal(v.text, "$(eye) Eager: following");
    assert.match(v.tooltip, /Last: re-ran 2 of 6 statements/);
    assert.equal(statusView({ uri: "file:///a.py", state: "idle", message: "re-ran 1 of 2 statements" }).text, "$(zap) Eager");
  });
});

describe("the end of a document's run", () => {
  it("is an idle or error status: nothing of the run is running any more", () => {
    const uri = "file:///a.py";
    assert.equal(runEnded({ uri, state: "idle" }), true);
    assert.equal(runEnded({ uri, state: "error", message: "ZeroDivisionError" }), true);
    assert.equal(runEnded({ uri, state: "running", chunksRunning: 1 }), false);
    assert.equal(runEnded({ uri, state: "generating" }), false);
  });
});

describe("summaryIsWarning", () => {
  const interrupted = { uri, elapsedS: 2.3, stoppedEarly: true, error: "KeyboardInterrupt" };
  it("is a warning when the run ended at an error", () => {
    assert.equal(summaryIsWarning({ ...interrupted, error: "ZeroDivisionError: division by zero" }, 1000, 2000), true);
    assert.equal(summaryIsWarning(interrupted, undefined, 2000), true); // no interrupt was asked
    assert.equal(summaryIsWarning({ uri, elapsedS: 1 }, undefined, 2000), false);
  });
  it("is not when the error is the KeyboardInterrupt of the user's own interrupt", () => {
    assert.equal(summaryIsWarning(interrupted, 1000, 2500), false);
    assert.equal(summaryIsWarning(interrupted, 1000, 1000 + 31000), true); // long ago
    assert.equal(summaryIsWarning({ ...interrupted, error: "ValueError: x" }, 1000, 2500), true);
  });
});
