// The read-only documents of "Eager: Show Whole Output" (scheme `eager-detail`): one per file and
// line asked about, its text from resultDetail.ts. Showing the same line again replaces its text.

import * as vscode from "vscode";

export const DETAIL_SCHEME = "eager-detail";

export class DetailDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor() {
    this.disposables = [
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(DETAIL_SCHEME, this),
      // a closed document's text is not kept (asking again asks the server again)
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === DETAIL_SCHEME) this.texts.delete(doc.uri.toString());
      }),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "(closed: ask again with Eager: Show Whole Output)\n";
  }

  /** Show `text` beside the editor, as the document of `label` (e.g. "a.py") line `line`
   * (0-based) of `source`. */
  async show(source: vscode.Uri, label: string, line: number, text: string): Promise<void> {
    const uri = vscode.Uri.from({
      scheme: DETAIL_SCHEME,
      path: `/${label}:${line + 1} whole output.txt`,
      query: source.toString(),
    });
    const key = uri.toString();
    const open = this.texts.has(key);
    this.texts.set(key, text);
    if (open) this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.texts.clear();
  }
}
