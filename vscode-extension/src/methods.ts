// Every name this extension exchanges with the server, and the shapes of the payloads, in one place.
// The definitions are server/eager_lsp/lsp/payloads.py (names: lsp/methods.py); an interface here
// has the same name and the same fields as its Python definition (LspPosition/LspRange: Position/
// Range), which tests/lsp/test_payloads.py checks.
// No `vscode` import: unit tests load this module in plain Node.

/** Server-side commands (`workspace/executeCommand`). vscode-languageclient also registers these
 * as VS Code commands (that is how the "Fix with AI" code action runs), so the extension's own
 * command ids below must differ from them. */
export const ServerCommands = {
  generate: "eager.generate",
  stop: "eager.stop",
  runDocument: "eager.runDocument",
  follow: "eager.follow",
  interrupt: "eager.interrupt",
  restartInterpreter: "eager.restartInterpreter",
  debugAttachInfo: "eager.debugAttachInfo",
  fixWithAI: "eager.fixWithAI",
  /** The result shown on a line with its whole output and traceback (ChunkResultParams or
   * SyntaxErrorDetail; null when nothing ran there). */
  resultDetail: "eager.resultDetail",
  info: "eager.info",
  /** Sent when the prompt box opens: the bundled model loads while the prompt is typed. */
  prepareModel: "eager.prepareModel",
} as const;

/** Server → client notifications. */
export const Notifications = {
  chunkResult: "eager/chunkResult",
  status: "eager/status",
  stale: "eager/stale",
  generationSummary: "eager/generationSummary",
  /** What a statement still running printed since the last one (its chunkResult has all of it). */
  output: "eager/output",
} as const;

/** Server → client requests. */
export const Requests = {
  /** Generated text, written by the extension into a region it tracks (StreamEditParams). */
  streamEdit: "eager/streamEdit",
} as const;

/** Client → server notifications. */
export const ClientNotifications = {
  /** Where the cursor is (follow mode runs a statement once the cursor has left it). */
  cursor: "eager/cursor",
} as const;

/** The client capability (under `capabilities.experimental`) that asks the server to write
 * generated text with `eager/streamEdit` instead of `workspace/applyEdit`. */
export const STREAM_EDITS_CAPABILITY = "eagerStreamEdits";

/** The extension's own commands (palette, context menu, status bar). */
export const ClientCommands = {
  generateHere: "eager.client.generateHere",
  stop: "eager.client.stop",
  runFile: "eager.client.runFile",
  toggleFollow: "eager.client.toggleFollow",
  interrupt: "eager.client.interrupt",
  restartInterpreter: "eager.client.restartInterpreter",
  attachDebugger: "eager.client.attachDebugger",
  restartServer: "eager.client.restartServer",
  showOutput: "eager.client.showOutput",
  showResults: "eager.showResults",
  goToGenerationPoint: "eager.client.goToGenerationPoint",
  showResultDetail: "eager.client.showResultDetail",
} as const;

/** The configuration section sent as initializationOptions and answered on workspace/configuration. */
export const CONFIG_SECTION = "eager";

// ---- payloads (docs/protocol.md) ----------------------------------------------------------------

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface ValueInfo {
  name?: string;
  type?: string;
  repr?: string;
  summary?: string;
  /** A data frame's head as a Markdown table (bounded by the server). */
  table?: string;
}

/** A PNG the statement produced (a matplotlib figure, a `_repr_png_`), a file on the server's machine. */
export interface ImageInfo {
  path: string;
  label?: string;
  size?: number;
}

export interface FrameInfo {
  path: string;
  line: number;
  function: string;
  inDocument: boolean;
  /** This frame stood for N more identical calls (collapsed as CPython does). */
  repeated?: number;
}

export interface ErrorInfo {
  type: string;
  message: string;
  line?: number | null;
  traceback?: string;
  /** The interpreter died or was killed; its state is gone. */
  stateLost?: boolean;
  /** The user ended it: its KeyboardInterrupt, or its interpreter killed for an interrupt, a
   * stop or a restart the user asked for (`stateLost` alone cannot tell that from a crash).
   * Shown as interrupted, not as an error. */
  byUser?: boolean;
  frames?: FrameInfo[];
  /** Frames left out in the middle of a very long chain. */
  framesOmitted?: number;
}

export interface Timings {
  releasedMs?: number;
  dispatchedMs?: number;
  startMs?: number;
  endMs?: number;
  resultMs?: number;
  elapsedMs?: number;
  /** First lines (0-based) of the statements that ran at the same time (gate `parallel`). */
  parallelWith?: number[];
}

export interface ChunkInfo {
  index: number;
  startLine: number;
  endLine: number;
  range?: LspRange;
}

export interface ChunkResultParams {
  uri: string;
  version?: number | null;
  chunk: ChunkInfo;
  ok: boolean;
  skipped?: boolean;
  values?: ValueInfo[];
  /** A trailing expression's value; the protocol leaves its shape to the server (a value object or
   * a plain string). */
  expr?: ValueInfo | string | null;
  stdout?: string;
  stderr?: string;
  error?: ErrorInfo | null;
  images?: ImageInfo[];
  timings?: Timings;
  /** The server ledger's statement id: the same statement run again has the same id. */
  statementId?: number;
  /** The payload was cut to fit its cap; eager.resultDetail has more. */
  truncated?: boolean;
}

/** `eager/output`: what a statement that is still running wrote since the previous one for it
 * (either text may be "" or end inside a line). Its `eager/chunkResult` (same `uri` and
 * `chunk.index`) follows and holds all of its output, which starts with these texts joined. */
export interface OutputParams {
  uri: string;
  version?: number | null;
  chunk: ChunkInfo;
  stdout: string;
  stderr: string;
}

export type StatusState = "idle" | "generating" | "running" | "error";

export interface StatusParams {
  uri: string;
  state: StatusState;
  tokens?: number;
  tokensPerSecond?: number;
  chunksDone?: number;
  /** Statements executing now / complete and waiting to run. */
  chunksRunning?: number;
  chunksPending?: number;
  chunksTotal?: number;
  /** First lines (0-based) of the statements running now; more than one with gate `parallel`. */
  runningLines?: number[];
  /** The safe gate holds the statements from this (0-based) line on until the stream ends,
   * and why ("calls os.remove"); they are among `chunksPending`. */
  heldLine?: number;
  heldReason?: string;
  message?: string;
  /** The model in use ("openai" | "local"), its name, and the endpoint. */
  provider?: string;
  model?: string;
  baseUrl?: string;
}

export interface StaleParams {
  uri: string;
  fromLine: number;
  /** Without it: everything from `fromLine` on. */
  toLine?: number;
}

export interface GenerationSummaryParams {
  uri: string;
  elapsedS: number;
  lastTokenS?: number;
  execTotalS?: number;
  serialEstimateS?: number;
  savedS?: number;
  chunks?: number;
  tokens?: number;
  stoppedEarly?: boolean;
  error?: string | null;
}

/** A syntax error where `eager.resultDetail` was asked (nothing ran there: the detector found it). */
export interface SyntaxErrorInfo {
  /** 0-based: the first line of the statement it is in. */
  line: number;
  /** 0-based. */
  column: number;
  message: string;
}

/** `eager.resultDetail`'s answer on a syntax error. */
export interface SyntaxErrorDetail {
  uri: string;
  version?: number | null;
  syntaxError: SyntaxErrorInfo;
}

/** `eager.resultDetail` about a statement running now (RunningDetail in payloads.py). */
export interface RunningDetail {
  uri: string;
  version?: number | null;
  running: true;
  /** 0-based: its lines now. */
  startLine: number;
  endLine: number;
  /** Seconds it has run so far. */
  elapsedS: number;
  /** The end of what it printed so far (the server keeps each stream's last 32,000 characters). */
  stdout: string;
  stderr: string;
  /** Characters printed before `stdout` / `stderr`, not kept. */
  stdoutBefore: number;
  stderrBefore: number;
}

/** The argument of `eager.resultDetail` (0-based `line`). */
export interface LineArgs {
  uri: string;
  line: number;
}

export interface GenerateArgs {
  uri: string;
  prompt: string;
  position?: LspPosition;
  range?: LspRange;
}

export interface DebugAttachInfo {
  host: string;
  port: number;
}

// ---- command results (payloads.py; a refused command's result also carries a Refusal) --------

export interface Refusal {
  error: string;
  reason: string;
}

export interface StartedResult {
  started: boolean;
}

export interface FollowResult {
  enabled: boolean;
}

export interface InterruptResult {
  interrupted: boolean;
  stateLost: boolean;
  /** It ignored the interrupt and is not ours to kill (an attached Jupyter kernel). */
  stillRunning?: boolean;
}

export interface RestartResult {
  restarted: boolean;
}

export interface PrepareResult {
  preparing: boolean;
  /** "not_local": generations go to an endpoint, nothing to prepare. */
  reason?: string;
}

// ---- the streamed write path (docs/protocol.md, "eager/streamEdit") ------------------------------

interface StreamEditBase {
  uri: string;
  generationId: string;
  seq: number;
}

export interface StreamBeginParams extends StreamEditBase {
  op: "begin";
  /** Where the region goes, in document `version` (the client refuses any other version). */
  position: LspPosition;
  version: number;
  /** Replaced (Fix with AI) instead of inserting at `position`, in the same undo step. */
  replace?: LspRange;
  /** Written before / after the (empty) region: `before + after` replaces `replace` or goes in
   * at `position`, the region sits between the two. */
  before?: string;
  after?: string;
  /** What `end` will ask for: known at the start, so that an unfinished last line removed
   * before an "edited" answer takes the line break after it too, as `end` would. */
  trimTrailing?: boolean;
}

export interface StreamInsertParams extends StreamEditBase {
  op: "insert";
  text: string;
}

export interface StreamEndParams extends StreamEditBase {
  op: "end";
  /** Remove the line break right after the region when the region ends with its own. */
  trimTrailing?: boolean;
  /** Delete the region's text after its k-th line break. */
  keepLines?: number;
  /** The model's text has ended: its last line is finished even without a line break (it ran),
   * so an "edited" answer to this `end` drops no unfinished line. */
  complete?: boolean;
}

export type StreamEditParams = StreamBeginParams | StreamInsertParams | StreamEndParams;

export type StreamEditFailure = "edited" | "closed" | "conflict";

export type StreamEditResult =
  | { ok: true; version: number; range: LspRange }
  | { ok: false; reason: StreamEditFailure; message?: string; version?: number; range?: LspRange };

export interface CursorParams {
  uri: string;
  position: LspPosition;
  /** The document version the position refers to (its didChange has been sent). */
  version: number;
}

export interface StopResult {
  stopped: boolean;
  /** The code it was running was interrupted; `stateLost`: the interpreter was killed for it. */
  interrupted?: boolean;
  stateLost?: boolean;
}
