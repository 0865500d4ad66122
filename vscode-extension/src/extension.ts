// Entry point: wires the output channel, the language client, decorations, status bar and commands.

import * as vscode from "vscode";

import { EagerClient, eagerConfiguration } from "./client";
import { registerCommands } from "./commands";
import { RESTART_KEYS } from "./config";
import { CONFIG_SECTION } from "./methods";
import { summaryLogLine, summaryMessage } from "./status";
import { ResultDecorations, StatusBar } from "./ui";

let eager: EagerClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for the server's log (languageclient writes to it) and for the executed code's
  // stdout/stderr.
  const output = vscode.window.createOutputChannel("Eager");
  const status = new StatusBar();
  const decorations = new ResultDecorations(output, () => {
    const c = eagerConfiguration();
    return { enabled: c.get<boolean>("inline.decorations", true), maxLength: c.get<number>("inline.maxLength", 80) };
  });

  eager = new EagerClient(output, {
    chunkResult: (p) => decorations.onChunkResult(p),
    status: (p) => status.onStatus(p),
    stale: (p) => decorations.onStale(p),
    generationSummary: (p) => {
      output.appendLine(summaryLogLine(p));
      const message = summaryMessage(p);
      if (p.error) void vscode.window.showWarningMessage(message);
      else void vscode.window.showInformationMessage(message);
    },
    stopped: () => {
      status.reset();
      decorations.clear();
    },
  });

  context.subscriptions.push(
    output,
    status,
    decorations,
    eager,
    ...registerCommands(eager, status, output),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(`${CONFIG_SECTION}.${k}`))) {
        output.appendLine("[client] eager.server.python changed: restarting the server");
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
