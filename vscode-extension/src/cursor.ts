// Follow mode needs to know where the user is: a statement runs only once the cursor has left it
// (docs/configuration.md, follow mode). The extension sends `eager/cursor` for Python documents
// when the selection settles (debounced), after the didChange of the version it refers to.

import * as vscode from "vscode";

import { type CursorParams } from "./methods";
import { Debouncer } from "./region";
import type { DocumentSync } from "./streamEdits";

export const CURSOR_DEBOUNCE_MS = 75;

export class CursorReporter implements vscode.Disposable {
  private readonly debouncer: Debouncer<vscode.TextEditor>;
  private readonly listener: vscode.Disposable;

  constructor(
    private readonly sync: DocumentSync,
    private readonly send: (params: CursorParams) => Promise<void> | void,
    private readonly toServerUri: (doc: vscode.TextDocument) => string,
  ) {
    this.debouncer = new Debouncer(CURSOR_DEBOUNCE_MS, (editor) => void this.report(editor));
    this.listener = vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor.document.languageId === "python") this.debouncer.poke(e.textEditor);
    });
  }

  private async report(editor: vscode.TextEditor): Promise<void> {
    const doc = editor.document;
    if (doc.isClosed) return;
    const version = doc.version;
    const active = editor.selection.active;
    await this.sync.waitSent(doc.uri, version);
    try {
      await this.send({
        uri: this.toServerUri(doc),
        position: { line: active.line, character: active.character },
        version,
      });
    } catch {
      // The server is not running: nothing to follow.
    }
  }

  dispose(): void {
    this.listener.dispose();
    this.debouncer.dispose();
  }
}
