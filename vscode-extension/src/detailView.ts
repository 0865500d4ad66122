// The read-only documents of "Eager: Whole Output of Statement" (scheme `eager-detail`): one per
// file and line asked about, its text from resultDetail.ts. Showing the same line again replaces
// its text. They open beside the editor, in one group: a group that shows one already takes the
// next (`detailColumn`), so asking from the rightmost group does not open a new group each time.

import * as vscode from "vscode";

import { detailColumn } from "./resultDetail";

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
    return this.texts.get(uri.toString()) ?? "(closed: ask again with Eager: Whole Output of Statement)\n";
  }

  /** Show `text` beside the editor (in the group that shows whole output already, if one
   * does), as the document of `label` (e.g. "a.py") line `line` (0-based) of `source`. */
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
    const uriOf = (t: vscode.Tab | undefined): string | undefined =>
      t?.input instanceof vscode.TabInputText ? t.input.uri.toString() : undefined;
    const groups = vscode.window.tabGroups.all.map((g) => ({
      viewColumn: g.viewColumn,
      active: g.isActive,
      details: g.tabs.flatMap((t) => {
        const u = t.input instanceof vscode.TabInputText && t.input.uri.scheme === DETAIL_SCHEME ? uriOf(t) : undefined;
        return u === undefined ? [] : [u];
      }),
      showsSource: uriOf(g.activeTab) === source.toString(),
    }));
    const viewColumn = detailColumn(groups, key) ?? vscode.ViewColumn.Beside;
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn, preview: true });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.texts.clear();
  }
}
