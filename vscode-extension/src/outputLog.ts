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

/** Characters of a stream's live text kept to match its result against (the worker keeps a
 * result's first and last 32 Ki characters; a statement may print for hours). */
export const LIVE_KEEP = 256 * 1024;
/** Characters of a stream's newest live text kept to find where it ends in the result. */
const END_KEEP = 512;

/** A statement whose output was shown while it ran. */
interface Live {
  uri: string;
  /** Each stream's text shown so far, joined (the result's text starts with it), up to
   * LIVE_KEEP characters; `over` once more was shown. */
  shown: Record<Stream, string>;
  over: Record<Stream, boolean>;
  /** The newest END_KEEP characters shown of each stream, after the last omission marker. */
  end: Record<Stream, string>;
}

/** `s` without the whitespace it ends with, and that whitespace. */
function splitTrailingSpace(s: string): [string, string] {
  const body = s.replace(/\s+$/, "");
  return [body, s.slice(body.length)];
}

function keyOf(uri: string, index: number): string {
  return `${uri}\u0000${index}`;
}

// limits.clip_middle's marker (the server cuts a result's long strings in the middle to fit its
// payload cap); N counts code points, as Python does.
const CLIPPED = /\n\[\.\.\. (\d+) characters omitted \.\.\.\]\n/g;
const HAS_CLIP = new RegExp(CLIPPED.source); // (a test with no lastIndex kept between calls)

/** Code points in `s` (a surrogate pair is one, as Python counts). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i + 1 < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The last `n` code points of `s`. */
function lastCodePoints(s: string, n: number): string {
  let i = s.length;
  for (; n > 0 && i > 0; n--) {
    i--;
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = s.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) i--;
    }
  }
  return s.slice(i);
}

/** What a stream shown live (`shown`) lacks of its output, known from its result cut to fit
 * its payload (`cut`: the output's head and tail around clip_middle's marker, which counts what
 * it left out): the end printed after the last `eager/output` (or the worker's "[... output
 * truncated: …]" note), "" when `shown` has it all ("whole"); when the tail starts after
 * `shown` ends, the tail after a marker of its own ("gap": a middle part nobody received);
 * undefined when `cut` is not one such cut of text that starts with `shown` (cut twice, or by
 * a kernel too), so that where `shown` ends in it is unknown. */
function unseenEnd(shown: string, cut: string): { text: string; gap: boolean } | undefined {
  const marks = [...cut.matchAll(CLIPPED)];
  if (marks.length !== 1) return undefined;
  const mark = marks[0]!;
  const head = cut.slice(0, mark.index);
  const tail = cut.slice(mark.index! + mark[0].length);
  if (!shown.startsWith(head)) return undefined;
  const tailLength = codePoints(tail);
  const unseen = codePoints(head) + Number(mark[1]) + tailLength - codePoints(shown);
  if (unseen < 0) return undefined;
  if (unseen > tailLength) {
    const gap = `[... ${unseen - tailLength} characters omitted ...]\n`;
    return { text: `${shown.endsWith("\n") ? "" : "\n"}${gap}${tail}`, gap: true };
  }
  const end = lastCodePoints(tail, unseen);
  return (shown + end).endsWith(tail) ? { text: end, gap: false } : undefined;
}

/** The line after a stream shown live whose result was cut to fit its payload, instead of the
 * result's copy. Nothing in the editor has more of it: the hover and the results panel show
 * that cut copy (only the server's `eager.resultDetail` has the whole output). */
function cutNote(place: string, stream: Stream, end: { gap: boolean } | undefined): string {
  const above =
    end === undefined
      ? "above is what was shown as it ran, maybe without its end"
      : end.gap
        ? "above is what was shown as it ran, then the end of the result's copy"
        : "above is all of it";
  return `[${place}] ${stream}: ${above} (the result's copy was cut to fit its payload; not repeated)`;
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
      live = {
        uri: p.uri,
        shown: { stdout: "", stderr: "" },
        over: { stdout: false, stderr: false },
        end: { stdout: "", stderr: "" },
      };
      this.live.set(key, live);
    }
    for (const stream of STREAMS) {
      const text = p[stream];
      if (!text) continue;
      const continued = live.shown[stream] !== "";
      if (live.shown[stream].length + text.length <= LIVE_KEEP) live.shown[stream] += text;
      else live.over[stream] = true; // (kept bounded: only matching the result needs it)
      // (a piece past the cap starts with the worker's marker, which the result has not)
      const marks = [...text.matchAll(CLIPPED)];
      const last = marks[marks.length - 1];
      const fresh = last === undefined ? live.end[stream] + text : text.slice(last.index! + last[0].length);
      live.end[stream] = fresh.slice(-END_KEEP);
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

  /** `eager/chunkResult`: its output, less what was shown while it ran. A stream whose text
   * does not start with what was shown:
   * - the result was cut to fit its payload (`truncated`: its middle left out): what was shown
   *   stays, as it has more; only the end it did not have yet is added (`unseenEnd`), then one
   *   line saying so (`cutNote`);
   * - else (a Jupyter kernel cut its middle): shown whole again, under a header that says
   *   "(in full)".
   * - past the worker's cap (the result keeps its output's head and end, the live pieces went
   *   on with the newest text): what follows the newest text shown, found in the result's end;
   * Then its images and error, as `outputChannelText` has them. */
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
      let rest: string | undefined; // what follows the shown text, when known
      let note: string | undefined;
      const endAt = live.end[stream] === "" ? -1 : all.lastIndexOf(live.end[stream]);
      if (shown !== "" && !live.over[stream] && all.startsWith(shown)) {
        rest = all.slice(shown.length);
      } else if (shown !== "" && (live.over[stream] || (p.truncated !== true && HAS_CLIP.test(all))) && endAt >= 0) {
        // Past the worker's cap (its result keeps the head and the end; its live pieces went on
        // with the newest text): what follows the last text shown, found in the result's end.
        rest = all.slice(endAt + live.end[stream].length);
      } else if (shown !== "" && p.truncated === true) {
        const end = unseenEnd(shown, all);
        rest = end?.text ?? "";
        note = cutNote(place, stream, end);
      }
      if (rest !== undefined && ours(stream)) {
        this.write(splitTrailingSpace(this.pending + rest)[0]);
        this.pending = "";
      } else if (rest !== undefined) {
        const [body] = splitTrailingSpace(rest);
        if (body !== "") {
          this.endLine();
          this.write(`[${place}] ${stream} (continued)\n${body}`);
        }
      } else if (all !== "") {
        this.endLine();
        this.write(`[${place}] ${stream}${shown === "" ? "" : " (in full)"}\n${splitTrailingSpace(all)[0]}`);
      }
      if (note !== undefined) this.line(note);
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
