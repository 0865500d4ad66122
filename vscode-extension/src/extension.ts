// Entry point: wires the output channel, the language client, decorations, status bar and commands.

import * as vscode from "vscode";

import { EagerClient, eagerConfiguration } from "./client";
import { registerCommands } from "./commands";
import { RESTART_KEYS } from "./config";
import { DetailDocuments } from "./detailView";
import { CONFIG_SECTION, ClientCommands } from "./methods";
import { OutputLog } from "./outputLog";
import { ResultsPanel } from "./resultsPanel";
import { summaryIsWarning, summaryLogLine, summaryMessage, summaryToldByCommand } from "./status";
import { normalizeUri, ResultDecorations, StatusBar } from "./ui";

let eager: EagerClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // Two channels: "Eager" has what the executed code printed (stdout, stderr, tracebacks; a
  // running statement's as it comes) and the run summaries; "Eager Server" has the language
  // server's log (languageclient writes to it). Everything written to "Eager" goes through
  // `log`, which knows whether the channel ends inside a running statement's output.
  const output = vscode.window.createOutputChannel("Eager");
  const log = new OutputLog((text) => output.append(text));
  const programOutput = {
    appendLine: (line: string) => log.line(line),
    show: (preserveFocus?: boolean) => output.show(preserveFocus),
  };
  const serverLog = vscode.window.createOutputChannel("Eager Server");
  const status = new StatusBar();
  const decorations = new ResultDecorations(log, () => {
    const c = eagerConfiguration();
    return { enabled: c.get<boolean>("inline.decorations", true), maxLength: c.get<number>("inline.maxLength", 80) };
  });
  const results = new ResultsPanel((uri) => decorations.entries(uri));
  const details = new DetailDocuments();
  decorations.onChanged = (uri) => results.changed(uri);

  eager = new EagerClient(serverLog, {
    chunkResult: (p) => decorations.onChunkResult(p),
    status: (p) => {
      status.onStatus(p);
      decorations.onStatus(p);
    },
    output: (p) => decorations.onOutput(p),
    stale: (p) => decorations.onStale(p),
    generationSummary: (p) => {
      log.line(summaryLogLine(p));
      const uri = normalizeUri(p.uri);
      // The user's own Interrupt or Restart Interpreter ended it (the status that came before
      // says so): that command says what happened, not the summary too.
      if (summaryToldByCommand(p, status.of(uri))) {
        eager?.interruptAskedAt.delete(uri);
        return;
      }
      // (from here on the summary is said: "Eager: Stop" does not say it again)
      eager?.summaryAt.set(p.uri, Date.now());
      // The server said why it stopped as it stopped (window/showMessage): not again.
      if (p.error && eager?.serverMessages.said(p.error)) return;
      const message = summaryMessage(p);
      // the KeyboardInterrupt of the user's own "Eager: Interrupt" is no warning
      const warning = summaryIsWarning(p, eager?.interruptAskedAt.get(uri), Date.now());
      if (p.error && !warning) eager?.interruptAskedAt.delete(uri);
      if (warning) void vscode.window.showWarningMessage(message);
      else void vscode.window.showInformationMessage(message);
    },
    stopped: () => {
      status.reset();
      decorations.clear();
    },
  });

  context.subscriptions.push(
    output,
    serverLog,
    status,
    decorations,
    results,
    details,
    vscode.commands.registerCommand(ClientCommands.showResults, () => results.show()),
    eager,
    ...registerCommands(eager, status, programOutput, details, decorations),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(`${CONFIG_SECTION}.${k}`))) {
        serverLog.appendLine("[client] eager.server.python changed: restarting the server");
        await eager?.restart();
      }
      if (e.affectsConfiguration(`${CONFIG_SECTION}.inline`)) decorations.renderAll();
    }),
  );

  void eager.start();
}

export async function deactivate(): Promise<void> {
  await eager?.stop();
  eager = undefined;
}
