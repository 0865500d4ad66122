// The palette/context-menu commands. Each one gathers its argument from the editor and forwards it
// to the server's command of docs/protocol.md; the server does the work and reports failures itself.

import * as path from "node:path";
import * as vscode from "vscode";

import type { EagerClient } from "./client";
import type { DetailDocuments } from "./detailView";
import {
  ClientCommands,
  type DebugAttachInfo,
  type FollowResult,
  type GenerateArgs,
  type InterruptResult,
  type LineArgs,
  type PrepareResult,
  type Refusal,
  type RestartResult,
  ServerCommands,
  type StartedResult,
  type StopResult,
} from "./methods";
import { type DetailAnswer, detailOutcome, detailTarget, drawnAt, runningNow } from "./resultDetail";
import type { ResultEntry } from "./results";
import { interruptMessage } from "./status";
import { stopMessage } from "./stop";
import { normalizeUri, type StatusBar } from "./ui";

const DEBUGGER_EXTENSIONS = ["ms-python.debugpy", "ms-python.python"];

function activePythonEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor && editor.document.languageId === "python") return editor;
  void vscode.window.showWarningMessage("Eager: open a Python file first.");
  return undefined;
}

/** The "Eager" output channel as the commands use it (extension.ts: its lines go through OutputLog). */
export interface CommandOutput {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

export function registerCommands(
  client: EagerClient,
  status: StatusBar,
  output: CommandOutput,
  details: DetailDocuments,
  /** What the editor draws for a document (VS Code's URI): statements running that printed,
   * results (ui.ts ResultDecorations). */
  drawn: { runningAt(uri: string, line: number): boolean; entries(uri: string): ResultEntry[] },
): vscode.Disposable[] {
  const follow = new Map<string, boolean>();

  const onDocument = async <T>(command: string, extra: object = {}): Promise<{ result: T | undefined; uri: string } | undefined> => {
    const editor = activePythonEditor();
    if (!editor) return undefined;
    const uri = client.uri(editor.document);
    const result = await client.executeOn<T>(editor.document, command, { uri, ...extra });
    // What the server answered, in the output: a refusal is also shown by the server itself.
    output.appendLine(`[client] ${command}: ${JSON.stringify(result ?? null).slice(0, 300)}`);
    return { result, uri };
  };

  /** `eager.prepareModel` at `at` (the prompt box is opening). Its answer is not shown (with an
   * endpoint there is nothing to prepare), a failure only in the output: the generation itself says
   * what went wrong, if anything. */
  const prepareModel = async (editor: vscode.TextEditor, at: vscode.Position): Promise<void> => {
    try {
      // A running server, or one starting (the first prompt box of a session often opens while it
      // starts: the case preparing is for); a start that fails is reported once, by the start.
      if (!(await client.runningOnceStarted())) return;
      const lc = client.languageClient;
      if (!lc) return;
      const position = lc.code2ProtocolConverter.asPosition(at);
      await client.executeOn<PrepareResult>(editor.document, ServerCommands.prepareModel, {
        uri: client.uri(editor.document),
        position,
      });
    } catch (e) {
      output.appendLine(`[client] ${ServerCommands.prepareModel} failed: ${String(e)}`);
    }
  };

  const report = (what: string, e: unknown): void => {
    output.appendLine(`[client] ${what} failed: ${String(e)}`);
    void vscode.window.showErrorMessage(`Eager: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  };

  const guarded =
    (what: string, fn: () => Promise<void>) =>
    async (): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        report(what, e);
      }
    };

  return [
    vscode.commands.registerCommand(
      ClientCommands.generateHere,
      guarded("generate", async () => {
        const editor = activePythonEditor();
        if (!editor) return;
        // Where the user asked, in this version: the text may change before the prompt is typed.
        const asked = { selection: editor.selection, version: editor.document.version };
        // While the prompt is typed, the running server loads the bundled model: a session's first
        // generation would otherwise wait for it after Enter.
        void prepareModel(editor, asked.selection.start);
        const prompt = await vscode.window.showInputBox({
          title: "Eager: Generate Code Here",
          prompt: editor.selection.isEmpty
            ? "Describe the code to write at the cursor"
            : "Describe the code to write in place of the selection",
          placeHolder: "e.g. load data.csv and plot the monthly totals",
          ignoreFocusOut: true,
        });
        if (prompt === undefined || prompt.trim() === "") return;
        if (!(await client.start())) return;
        const lc = client.languageClient!;
        const args: GenerateArgs = { uri: client.uri(editor.document), prompt };
        const chosen = asked.selection.isEmpty ? new vscode.Range(asked.selection.active, asked.selection.active) : asked.selection;
        const where = await client.rangeNow(editor.document, chosen, asked.version);
        if (!where) {
          void vscode.window.showWarningMessage("Eager: the place to generate at was edited meanwhile; try again.");
          return;
        }
        if (where.isEmpty) {
          args.position = lc.code2ProtocolConverter.asPosition(where.start);
        } else {
          args.range = lc.code2ProtocolConverter.asRange(where);
        }
        const result = await client.execute<StartedResult & Partial<Refusal>>(ServerCommands.generate, args);
        if (result && !result.started) output.appendLine(`[client] generate refused: ${result.reason ?? "no reason given"}`);
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.stop,
      guarded("stop", async () => {
        const editor = vscode.window.activeTextEditor;
        const uri =
          status.busyUri() ?? (editor?.document.languageId === "python" ? client.uri(editor.document) : undefined);
        if (uri === undefined) {
          void vscode.window.showInformationMessage("Eager: nothing is running.");
          return;
        }
        const asked = Date.now();
        const result = await client.execute<StopResult>(ServerCommands.stop, { uri });
        if (!result) return;
        output.appendLine(`[client] stop: ${JSON.stringify(result)}`);
        // The server answers once what it stopped has wound down, after its summary.
        const message = stopMessage(result, (client.summaryAt.get(uri) ?? 0) >= asked);
        if (message && result.stateLost === true) void vscode.window.showWarningMessage(message);
        else if (message) void vscode.window.showInformationMessage(message);
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.runFile,
      guarded("run file", async () => {
        await onDocument(ServerCommands.runDocument);
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.toggleFollow,
      guarded("toggle follow mode", async () => {
        const editor = activePythonEditor();
        if (!editor) return;
        const uri = client.uri(editor.document);
        const enabled = !(follow.get(uri) ?? false);
        const result = await client.execute<FollowResult>(ServerCommands.follow, { uri, enabled });
        if (!result) return;
        follow.set(uri, result.enabled);
        void vscode.window.showInformationMessage(
          result.enabled
            ? "Eager: follow mode on: statements run as they are typed."
            : "Eager: follow mode off.",
        );
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.interrupt,
      guarded("interrupt", async () => {
        const active = vscode.window.activeTextEditor?.document;
        if (active?.languageId === "python") client.interruptAskedAt.set(normalizeUri(client.uri(active)), Date.now());
        const r = await onDocument<InterruptResult>(ServerCommands.interrupt);
        if (!r?.result) return;
        // the one message of the interrupt: the run's summary is not shown (status.ts)
        const { text, warning } = interruptMessage(r.result);
        if (warning) void vscode.window.showWarningMessage(text);
        else void vscode.window.showInformationMessage(text);
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.restartInterpreter,
      guarded("restart interpreter", async () => {
        const r = await onDocument<RestartResult>(ServerCommands.restartInterpreter);
        if (r?.result?.restarted) void vscode.window.showInformationMessage("Eager: interpreter restarted.");
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.attachDebugger,
      guarded("attach debugger", async () => {
        const editor = activePythonEditor();
        if (!editor) return;
        const r = await onDocument<DebugAttachInfo | Refusal | null>(ServerCommands.debugAttachInfo);
        if (!r) return;
        // Asking is what starts the interpreter's debugger (nothing listens before). A refusal
        // comes back as {error}; the server has already shown it.
        const info = r.result;
        if (info && "error" in info) return;
        if (!info || typeof info.port !== "number") {
          void vscode.window.showWarningMessage(
            "Eager: debugging is off (eager.debug.enabled) or the interpreter is not running.",
          );
          return;
        }
        const hasDebugger = DEBUGGER_EXTENSIONS.some((id) => vscode.extensions.getExtension(id) !== undefined);
        if (hasDebugger) {
          const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
          const ok = await vscode.debug.startDebugging(folder, {
            type: "debugpy",
            request: "attach",
            name: "Eager interpreter",
            connect: { host: info.host, port: info.port },
            justMyCode: false,
          });
          if (ok) return;
        }
        const address = `${info.host}:${info.port}`;
        const pick = await vscode.window.showInformationMessage(
          `Eager: the interpreter's debugpy listens on ${address}. Attach a debugpy client to it` +
            (hasDebugger ? "." : " (install the Python Debugger extension to attach from here)."),
          "Copy",
        );
        if (pick === "Copy") await vscode.env.clipboard.writeText(address);
      }),
    ),

    vscode.commands.registerCommand(
      ClientCommands.restartServer,
      guarded("restart server", async () => {
        await client.restart();
      }),
    ),

    vscode.commands.registerCommand(ClientCommands.showOutput, () => output.show(true)),

    // The result on the cursor's line as the server keeps it: all of its output and its whole
    // traceback (what is shown inline, in the hover and in the channel is cut to a cap). The
    // hover's "Show whole output" link names its document and line instead (detailTarget).
    vscode.commands.registerCommand(ClientCommands.showResultDetail, async (target?: unknown) =>
      guarded("show whole output", async () => {
        let doc: vscode.TextDocument;
        let line: number;
        const asked = detailTarget(target);
        if (asked) {
          const found = vscode.workspace.textDocuments.find((d) => d.uri.toString() === normalizeUri(asked.uri));
          if (!found) {
            void vscode.window.showInformationMessage("Eager: that file is no longer open.");
            return;
          }
          [doc, line] = [found, asked.line];
        } else {
          const editor = activePythonEditor();
          if (!editor) return;
          [doc, line] = [editor.document, editor.selection.active.line];
        }
        const args: LineArgs = { uri: client.uri(doc), line };
        const answer = await client.executeOn<DetailAnswer>(doc, ServerCommands.resultDetail, args);
        const label = path.basename(doc.uri.fsPath || doc.uri.path);
        const key = doc.uri.toString();
        const running = runningNow(status.of(key), line, drawn.runningAt(key, line));
        const source = (n: number): string | undefined => (n < doc.lineCount ? doc.lineAt(n).text : undefined);
        const outcome = detailOutcome(answer, line, label, running, drawnAt(drawn.entries(key), line), source);
        if (outcome.kind === "nothing") void vscode.window.showInformationMessage(outcome.message);
        else if (outcome.kind === "show") await details.show(doc.uri, label, line, outcome.text);
      })(),
    ),

    // The cursor to where the running generation inserts its next text (to type or look there).
    vscode.commands.registerCommand(
      ClientCommands.goToGenerationPoint,
      guarded("go to generation point", async () => {
        const editor = activePythonEditor();
        if (editor && !(await client.moveToGenerationPoint(editor))) {
          void vscode.window.showInformationMessage("Eager: no generation is running in this file.");
        }
      }),
    ),
  ];
}
