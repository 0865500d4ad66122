// The "Eager" output channel as one stream of appends. A statement that runs for a while sends
// what it prints in pieces (`eager/output`); they are shown at once under the statement's usual
// header (`[a.py:2-4] stdout`), and its `eager/chunkResult`, which holds all of its output, then
// adds only what was not shown yet (docs/protocol.md).
// Pure: no `vscode` import, so it is unit-tested in plain Node (test/outputLog.test.ts);
// extension.ts hands it the channel's `append`, and everything written to the channel goes
// through it (it has to know whether the channel ends inside a statement's output).

import { chunkPlace, outputChannelText } from "./decorations";
import type { ChunkResultParams, OutputParams } from "./methods";

type Stream = "stdout" | "stderr";
const STREAMS: readonly Stream[] = ["stdout", "stderr"];

/** A statement whose output was shown while it ran. */
interface Live {
  uri: string;
  /** Each stream's text shown so far, joined (the result's text starts with it). */
  shown: Record<Stream, string>;
}

/** `s` without the whitespace it ends with, and that whitespace. */
function splitTrailingSpace(s: string): [string, string] {
  const body = s.replace(/\s+$/, "");
  return [body, s.slice(body.length)];
}

function keyOf(uri: string, index: number): string {
  return `${uri}\u0000${index}`;
}

/** Writes the executed code's output into the "Eager" channel: live pieces as they come, then
 * each result's rest. Without live pieces a result reads exactly as `outputChannelText` says;
 * with them the channel ends up the same, unless something else was written in between (then
 * the statement's header is repeated, with "(continued)", before its next text). URIs must be
 * in one form (ui.ts normalizes them). */
export class OutputLog {
  private readonly live = new Map<string, Live>();
  /** The live stream the channel ends with: its next text goes on without a header. */
  private tail: { key: string; stream: Stream } | undefined;
  /** Whitespace ending the tail's text, not written yet: written before more of its text, and
   * dropped when the statement's output ends there (the result format trims it). */
  private pending = "";
  /** The channel ends inside a line. */
  private open = false;

  constructor(private readonly append: (text: string) => void) {}

  private write(text: string): void {
    if (text === "") return;
    this.append(text);
    this.open = !text.endsWith("\n");
  }

  /** Whatever comes next starts on a line of its own, and a live stream's next text under its
   * header again. */
  private endLine(): void {
    if (this.open) this.write("\n");
    this.tail = undefined;
    this.pending = "";
  }

  /** Any other line (a summary, a client message). */
  line(text: string): void {
    this.endLine();
    this.write(text + "\n");
  }

  /** `eager/output`: new text of a running statement, shown now. `label` names its file. */
  output(p: OutputParams, label: string): void {
    const key = keyOf(p.uri, p.chunk.index);
    let live = this.live.get(key);
    if (live === undefined) {
      live = { uri: p.uri, shown: { stdout: "", stderr: "" } };
      this.live.set(key, live);
    }
    for (const stream of STREAMS) {
      const text = p[stream];
      if (!text) continue;
      const continued = live.shown[stream] !== "";
      live.shown[stream] += text;
      if (this.tail?.key !== key || this.tail.stream !== stream) {
        this.endLine();
        this.write(`[${chunkPlace(p.chunk, label)}] ${stream}${continued ? " (continued)" : ""}\n`);
        this.tail = { key, stream };
      }
      const [body, space] = splitTrailingSpace(this.pending + text);
      this.write(body);
      this.pending = space;
    }
  }

  /** `eager/chunkResult`: its output, less what was shown while it ran; a stream whose text
   * does not start with what was shown (a backend cut its middle) is shown whole again, under
   * a header that says "(in full)". Then its images and error, as `outputChannelText` has them. */
  result(p: ChunkResultParams, label: string): void {
    const key = keyOf(p.uri, p.chunk.index);
    const live = this.live.get(key);
    this.live.delete(key);
    if (live === undefined) {
      const text = outputChannelText(p, label);
      if (text !== undefined) this.line(text);
      return;
    }
    const place = chunkPlace(p.chunk, label);
    const ours = (stream: Stream): boolean => this.tail?.key === key && this.tail.stream === stream;
    // The stream the channel ends with goes on first, without a header.
    const order: readonly Stream[] = ours("stderr") ? ["stderr", "stdout"] : STREAMS;
    for (const stream of order) {
      const all = p[stream] ?? "";
      const shown = live.shown[stream];
      const follows = shown !== "" && all.startsWith(shown);
      const rest = follows ? all.slice(shown.length) : all;
      if (follows && ours(stream)) {
        this.write(splitTrailingSpace(this.pending + rest)[0]);
        this.pending = "";
        continue;
      }
      const [body] = splitTrailingSpace(rest);
      if (follows ? body === "" : all === "") continue;
      this.endLine();
      const note = shown === "" ? "" : follows ? " (continued)" : " (in full)";
      this.write(`[${place}] ${stream}${note}\n${body}`);
    }
    const more = outputChannelText({ ...p, stdout: "", stderr: "" }, label);
    if (more !== undefined) {
      this.endLine();
      this.write(more);
    }
    this.endLine();
  }

  /** The document's run ended (`eager/status` idle or error, nothing running): a statement
   * shown live whose result never came (the run was stopped) is forgotten, so that a statement
   * of a later run with the same index starts afresh. */
  settle(uri: string): void {
    for (const [key, live] of this.live) {
      if (live.uri !== uri) continue;
      this.live.delete(key);
      if (this.tail?.key === key) this.endLine();
    }
  }

  /** The server is gone: no result is coming for anything shown live. */
  clear(): void {
    this.live.clear();
    this.endLine();
  }
}
