// Starts and stops `python -c SERVER_MAIN serve` (python.ts) through vscode-languageclient, and forwards the
// server's custom notifications to the UI. Nothing here decides anything the server should.

import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  MessageType,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  ShowMessageNotification,
  type ShowMessageParams,
  State,
  type StaticFeature,
} from "vscode-languageclient/node";

import { buildInitializationOptions, redacted, type SettingKey } from "./config";
import { CursorReporter } from "./cursor";
import {
  CONFIG_SECTION,
  type ChunkResultParams,
  ClientNotifications,
  type CursorParams,
  type GenerationSummaryParams,
  Notifications,
  type OutputParams,
  Requests,
  STREAM_EDITS_CAPABILITY,
  type StaleParams,
  type StatusParams,
  type StreamEditParams,
} from "./methods";
import { RecentMessages } from "./status";
import { DocumentSync, StreamWriter } from "./streamEdits";
import {
  type Interpreter,
  candidateInterpreters,
  checkImport,
  chooseInterpreter,
  notImportableMessage,
  serverCommand,
} from "./python";

export interface NotificationSink {
  chunkResult(p: ChunkResultParams): void;
  status(p: StatusParams): void;
  stale(p: StaleParams): void;
  generationSummary(p: GenerationSummaryParams): void;
  /** A statement still running printed (its chunkResult follows with all of its output). */
  output(p: OutputParams): void;
  /** The server process went away (stopped or crashed). */
  stopped(): void;
}

const PYTHON_EXTENSION = "ms-python.python";

interface PythonExtensionApi {
  ready?: Thenable<void>;
  environments?: {
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
    getActiveEnvironmentPath?(resource?: vscode.Uri): { id?: string; path?: string } | undefined;
    resolveEnvironment?(
      env: { id?: string; path?: string } | string,
    ): Thenable<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined;
  };
}

/** The Python extension waits for its own discovery; never let it hold the server's start forever. */
const PYTHON_EXTENSION_TIMEOUT_MS = 15000;

function withTimeout<T>(p: Thenable<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (!ext) return undefined;
  const api = ext.isActive ? ext.exports : await withTimeout(ext.activate(), PYTHON_EXTENSION_TIMEOUT_MS, "the Python extension");
  if (api?.ready) await withTimeout(api.ready, PYTHON_EXTENSION_TIMEOUT_MS, "the Python extension");
  return api ?? undefined;
}

/** The interpreter selected in the Python extension, or undefined (not installed, no interpreter,
 * or its API misbehaved: every step is optional). */
async function pythonFromPythonExtension(
  resource: vscode.Uri | undefined,
  log: (s: string) => void,
): Promise<string[] | undefined> {
  try {
    const api = await pythonExtensionApi();
    if (!api) return undefined;
    const envPath = api.environments?.getActiveEnvironmentPath?.(resource);
    if (envPath && api.environments?.resolveEnvironment) {
      const env = await api.environments.resolveEnvironment(envPath);
      const exe = env?.executable?.uri?.fsPath;
      if (exe) return [exe];
    }
    if (envPath?.path) return [envPath.path];
    const exec = api.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (exec && exec.length > 0) return exec;
  } catch (e) {
    log(`[client] could not ask the Python extension for its interpreter: ${String(e)}`);
  }
  return undefined;
}

export function eagerConfiguration(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
}

/** Declares `capabilities.experimental.eagerStreamEdits`: the server then writes generated text
 * with `eager/streamEdit` requests that StreamWriter applies (docs/protocol.md). */
const streamEditsFeature: StaticFeature = {
  fillClientCapabilities(capabilities) {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    experimental[STREAM_EDITS_CAPABILITY] = true;
    capabilities.experimental = experimental;
  },
  initialize() {},
  getState() {
    return { kind: "static" };
  },
  clear() {},
};

export class EagerClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<boolean> | undefined;
  private interpreter: Interpreter | undefined;

  private pythonWatch: vscode.Disposable | undefined;
  /** What vscode-languageclient has sent of each document (replies wait for it). */
  readonly sync = new DocumentSync();
  /** What the server said lately with window/showMessage. */
  readonly serverMessages = new RecentMessages();
  /** When a generation summary was last said, per document URI (the server's form; set by
   * extension.ts, which leaves out the summary of a run the user's own command ended): "Eager:
   * Stop" says nothing more when the summary of what it stopped already did. */
  readonly summaryAt = new Map<string, number>();
  /** When "Eager: Interrupt" was last asked, per document URI (as normalizeUri has it): the
   * summary of the run it ended is not a warning (status.ts `summaryIsWarning`). */
  readonly interruptAskedAt = new Map<string, number>();
  private readonly writer: StreamWriter;
  private readonly cursor: CursorReporter;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly sink: NotificationSink,
  ) {
    this.writer = new StreamWriter(
      this.sync,
      (uri) => (this.client ? this.client.protocol2CodeConverter.asUri(uri) : vscode.Uri.parse(uri)),
      (s) => this.log(s),
    );
    this.cursor = new CursorReporter(
      this.sync,
      async (params: CursorParams) => {
        if (this.running) await this.client!.sendNotification(ClientNotifications.cursor, params);
      },
      (doc) => this.uri(doc),
    );
  }

  /** When the server's interpreter comes from the Python extension, follow its changes. */
  private async watchPythonExtension(): Promise<void> {
    if (this.pythonWatch) return;
    try {
      const event = (await pythonExtensionApi())?.environments?.onDidChangeActiveEnvironmentPath;
      if (!event || this.pythonWatch) return;
      this.pythonWatch = event(() => {
        if (this.interpreter?.source !== "python-extension" && this.client) return;
        if (eagerConfiguration().get<string>("server.python", "").trim() !== "") return;
        this.log("[client] the Python extension's interpreter changed: restarting the server");
        void this.restart();
      });
    } catch (e) {
      this.log(`[client] cannot follow the Python extension's interpreter: ${String(e)}`);
    }
  }

  get running(): boolean {
    return this.client !== undefined && this.client.state === State.Running;
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  private log(s: string): void {
    this.output.appendLine(s);
  }

  /** Whether the server runs, once the start under way (if any) has ended; starts nothing, so a
   * failed start is reported once, by whoever started it. */
  async runningOnceStarted(): Promise<boolean> {
    if (this.starting) await this.starting;
    return this.running;
  }

  /** Start the server unless it runs; resolves to whether it runs. */
  start(): Promise<boolean> {
    if (this.client && this.client.state === State.Stopped) {
      // languageclient gave up restarting a crashed server: start a fresh one.
      const dead = this.client;
      this.client = undefined;
      void dead.dispose().catch(() => undefined);
    }
    if (this.client) return Promise.resolve(true);
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<boolean> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = eagerConfiguration(folder?.uri);
    const configured = config.get<string>("server.python", "");
    const fromExt = configured.trim() === "" ? await pythonFromPythonExtension(folder?.uri, (s) => this.log(s)) : undefined;
    if (configured.trim() === "") void this.watchPythonExtension();
    const candidates = candidateInterpreters({
      configured,
      fromPythonExtension: fromExt,
      workspaceFolder: folder?.uri.fsPath,
    });
    const choice = await chooseInterpreter(candidates, (cmd) => checkImport(cmd));
    for (const f of choice.failures) {
      this.log(`[client] ${f.interpreter.command.join(" ")} (${f.interpreter.source}) cannot import eager_lsp: ${f.detail}`);
    }
    if (!choice.chosen) {
      const open = "Open Setting";
      void vscode.window.showErrorMessage(notImportableMessage(choice), open, "Show Output").then((pick) => {
        if (pick === open) {
          void vscode.commands.executeCommand("workbench.action.openSettings", `${CONFIG_SECTION}.server.python`);
        } else if (pick === "Show Output") {
          this.output.show(true);
        }
      });
      return false;
    }
    this.interpreter = choice.chosen;
    const { command, args } = serverCommand(choice.chosen);
    this.log(`[client] starting ${command} ${args.join(" ")} (interpreter from ${choice.chosen.source})`);

    const serverOptions: ServerOptions = {
      command,
      args,
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const initializationOptions = buildInitializationOptions((key: SettingKey) => config.get(key));
    this.log(`[client] initializationOptions ${JSON.stringify(redacted(initializationOptions))}`);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
      ],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions,
      synchronize: { configurationSection: CONFIG_SECTION },
      middleware: this.sync.middleware(),
    };
    const client = new LanguageClient("eager", "Eager", serverOptions, clientOptions);
    client.registerFeature(streamEditsFeature);
    client.onRequest(Requests.streamEdit, (p: StreamEditParams) => this.writer.handle(p));
    client.onNotification(Notifications.chunkResult, (p: ChunkResultParams) => this.sink.chunkResult(p));
    client.onNotification(Notifications.status, (p: StatusParams) => this.sink.status(p));
    client.onNotification(Notifications.stale, (p: StaleParams) => this.sink.stale(p));
    client.onNotification(Notifications.output, (p: OutputParams) => this.sink.output(p));
    client.onNotification(Notifications.generationSummary, (p: GenerationSummaryParams) => {
      this.sink.generationSummary(p);
    });
    // The client's own window/showMessage handler, replaced (it is registered first) to keep
    // what was said: a summary does not repeat it (RecentMessages).
    client.onNotification(ShowMessageNotification.type, (m: ShowMessageParams) => {
      this.serverMessages.add(m.message);
      if (m.type === MessageType.Error) void vscode.window.showErrorMessage(m.message);
      else if (m.type === MessageType.Warning) void vscode.window.showWarningMessage(m.message);
      else void vscode.window.showInformationMessage(m.message);
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        this.writer.reset();
        this.sink.stopped();
      }
    });
    try {
      // Commands wait for this (via `starting`): a request sent before start() resolves could reach
      // the server before the didOpen of the documents already open.
      await client.start();
      this.client = client;
      return true;
    } catch (e) {
      this.log(`[client] the server did not start: ${String(e)}`);
      void vscode.window
        .showErrorMessage(`Eager: the language server did not start (${String(e)}).`, "Show Output")
        .then((pick) => pick && this.output.show(true));
      try {
        await client.dispose();
      } catch {
        // already gone
      }
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting;
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop();
      } catch (e) {
        this.log(`[client] stopping the server: ${String(e)}`);
      }
    }
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  /** The chosen interpreter, once started. */
  get python(): Interpreter | undefined {
    return this.interpreter;
  }

  /** `workspace/executeCommand` with one argument object (docs/protocol.md). Undefined when the
   * server is not running (the user has been told). */
  async execute<T>(command: string, arg: object): Promise<T | undefined> {
    if (!(await this.start()) || !this.client) return undefined;
    const result: unknown = await this.client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: [arg],
    });
    return result as T;
  }

  /** `command` about `doc`, sent once the server has the document as the user sees it now: a
   * command given while the server starts (or right after typing) would otherwise reach it before
   * the document's didOpen (or last didChange) and name a document it does not know yet. */
  async executeOn<T>(doc: vscode.TextDocument, command: string, arg: object): Promise<T | undefined> {
    if (!(await this.start()) || !this.client) return undefined;
    if (!(await this.sync.waitSent(doc.uri, doc.version))) {
      this.log(`[client] ${command}: version ${doc.version} of ${doc.uri.toString()} was not sent in time; sending anyway`);
    }
    return this.execute<T>(command, arg);
  }

  /** `range` (chosen in document version `version`) in the document's current version, once that
   * version's didChange has been sent: what a command sends is then read in the same text.
   * Undefined when the range was edited inside meanwhile. */
  async rangeNow(doc: vscode.TextDocument, range: vscode.Range, version: number): Promise<vscode.Range | undefined> {
    for (let i = 0; i < 50; i++) {
      const now = doc.version;
      const moved = this.writer.rebaseToNow(doc, range, version);
      if (!moved) return undefined;
      await this.sync.waitSent(doc.uri, now);
      if (doc.version === now) return moved;
    }
    return undefined;
  }

  /** The cursor to where the running generation in the editor's document is inserting (false:
   * none is running there). */
  moveToGenerationPoint(editor: vscode.TextEditor): Promise<boolean> {
    return this.writer.moveToGenerationPoint(editor);
  }

  /** The document's URI as the server knows it. */
  uri(doc: vscode.TextDocument): string {
    return this.client ? this.client.code2ProtocolConverter.asUri(doc.uri) : doc.uri.toString();
  }

  dispose(): void {
    this.pythonWatch?.dispose();
    this.cursor.dispose();
    this.writer.dispose();
    void this.stop();
  }
}
