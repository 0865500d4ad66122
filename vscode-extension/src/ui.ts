// The VS Code side of results and status: decoration types, the status bar item. What to draw is
// decided in decorations.ts and status.ts (pure, unit-tested); this file only renders it.

import * as path from "node:path";
import * as vscode from "vscode";

import { type DecorationView, ResultTracker, type TextChange } from "./decorations";
import {
  ClientCommands,
  type ChunkResultParams,
  type OutputParams,
  type StaleParams,
  type StatusParams,
} from "./methods";
import type { OutputLog } from "./outputLog";
import type { ResultEntry } from "./results";
import { readImage } from "./resultsPanel";
import { runEnded, statusView } from "./status";

/** Server URIs and VS Code's may differ in escaping; compare them in VS Code's form. */
export function normalizeUri(uri: string): string {
  try {
    return vscode.Uri.parse(uri).toString();
  } catch {
    return uri;
  }
}

function lineReader(doc: vscode.TextDocument | undefined): (line: number) => string | undefined {
  return (line) => (doc && line >= 0 && line < doc.lineCount ? doc.lineAt(line).text : undefined);
}

function findDocument(uri: string): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
}

/** The file's name, as the output channel's headers give it ("a.py"). */
function fileLabel(doc: vscode.TextDocument | undefined, uri: string): string {
  return doc ? path.basename(doc.uri.fsPath || doc.uri.path) : uri;
}

export class ResultDecorations implements vscode.Disposable {
  private readonly trackers = new Map<string, ResultTracker>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly types: Record<"ok" | "error" | "interrupted" | "skipped" | "stale", vscode.TextEditorDecorationType>;

  /** Called after a document's results changed (the results panel follows them). */
  onChanged: ((uri: string) => void) | undefined;

  /** `output` writes the executed code's stdout, stderr and tracebacks into the "Eager" channel
   * (not the server's log), a running statement's as it comes. */
  constructor(
    private readonly output: OutputLog,
    private readonly settings: () => { enabled: boolean; maxLength: number },
  ) {
    const after = (color: vscode.ThemeColor, extra: vscode.ThemableDecorationAttachmentRenderOptions = {}) =>
      vscode.window.createTextEditorDecorationType({
        after: { color, margin: "0 0 0 1.5em", fontStyle: "italic", ...extra },
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    this.types = {
      ok: after(new vscode.ThemeColor("editorCodeLens.foreground")),
      error: after(new vscode.ThemeColor("editorError.foreground")),
      // ended by the user: drawn as its Information diagnostic is, not as an error
      interrupted: after(new vscode.ThemeColor("editorInfo.foreground")),
      skipped: after(new vscode.ThemeColor("disabledForeground")),
      stale: after(new vscode.ThemeColor("disabledForeground"), { textDecoration: "line-through; opacity: 0.6" }),
    };
    this.disposables.push(
      ...Object.values(this.types),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.trackers.delete(d.uri.toString())),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
    );
  }

  private tracker(uri: string): ResultTracker {
    let t = this.trackers.get(uri);
    if (!t) {
      t = new ResultTracker();
      this.trackers.set(uri, t);
    }
    return t;
  }

  onChunkResult(p: ChunkResultParams): void {
    const uri = normalizeUri(p.uri);
    const doc = findDocument(uri);
    this.tracker(uri).add(p, lineReader(doc));
    this.output.result({ ...p, uri }, fileLabel(doc, uri));
    this.render(uri);
  }

  /** `eager/output`: a running statement printed; the channel shows it now, and its line its
   * last line so far. */
  onOutput(p: OutputParams): void {
    const uri = normalizeUri(p.uri);
    const doc = findDocument(uri);
    this.tracker(uri).live(p, lineReader(doc));
    this.output.output({ ...p, uri }, fileLabel(doc, uri));
    this.render(uri, false); // the results panel lists results only
  }

  /** `eager/status`: once the document's run is over, a statement that printed while it ran
   * and got no result (it was stopped) is no longer drawn or logged as running. */
  onStatus(p: StatusParams): void {
    if (!runEnded(p)) return;
    const uri = normalizeUri(p.uri);
    this.output.settle(uri);
    if (this.trackers.get(uri)?.settle()) this.render(uri, false);
  }

  onStale(p: StaleParams): void {
    const uri = normalizeUri(p.uri);
    this.trackers.get(uri)?.markStaleFrom(p.fromLine, p.toLine);
    this.render(uri);
  }

  /** Forget all results (the server restarted, so its interpreter's state is gone). */
  clear(): void {
    for (const t of this.trackers.values()) t.clear();
    this.output.clear();
    this.renderAll();
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    const t = this.trackers.get(uri);
    if (!t || t.size === 0 || e.contentChanges.length === 0) return;
    const changes: TextChange[] = e.contentChanges.map((c) => ({
      startLine: c.range.start.line,
      startCharacter: c.range.start.character,
      endLine: c.range.end.line,
      endCharacter: c.range.end.character,
      text: c.text,
    }));
    t.applyChanges(changes, lineReader(e.document));
    this.render(uri);
  }

  renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.renderEditor(editor);
  }

  /** A statement of the document drawn as running (it printed) covers 0-based `line`. */
  runningAt(uri: string, line: number): boolean {
    return this.trackers.get(normalizeUri(uri))?.runningAt(line) ?? false;
  }

  /** The results of one document with their current lines (for the results panel). */
  entries(uri: string): ResultEntry[] {
    return this.trackers.get(normalizeUri(uri))?.entries() ?? [];
  }

  /** Draws the document's decorations again; `panel`: its results changed (the panel follows). */
  private render(uri: string, panel = true): void {
    if (panel) this.onChanged?.(uri);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri) this.renderEditor(editor);
    }
  }

  private renderEditor(editor: vscode.TextEditor): void {
    const { enabled, maxLength } = this.settings();
    const views = enabled ? this.trackers.get(editor.document.uri.toString())?.views(maxLength, readImage) ?? [] : [];
    const byType: Record<keyof typeof this.types, vscode.DecorationOptions[]> = {
      ok: [],
      error: [],
      interrupted: [],
      skipped: [],
      stale: [],
    };
    const doc = editor.document;
    for (const v of views) {
      if (v.endLine >= doc.lineCount) continue;
      byType[v.stale ? "stale" : v.kind].push(this.option(doc, v));
    }
    for (const [key, type] of Object.entries(this.types) as [keyof typeof this.types, vscode.TextEditorDecorationType][]) {
      editor.setDecorations(type, byType[key]);
    }
  }

  private option(doc: vscode.TextDocument, v: DecorationView): vscode.DecorationOptions {
    const last = doc.lineAt(v.endLine);
    const first = doc.lineAt(Math.min(v.startLine, v.endLine));
    const hover = new vscode.MarkdownString(v.hover);
    hover.supportThemeIcons = false;
    // its one link: "Show whole output" when it shows the result cut (decorations.ts)
    hover.isTrusted = { enabledCommands: [ClientCommands.showResultDetail] };
    return {
      // Spanning the chunk puts the hover on all its lines; `after` draws at the range's end.
      range: new vscode.Range(first.range.start.line, first.firstNonWhitespaceCharacterIndex, last.range.end.line, last.range.end.character),
      hoverMessage: hover,
      renderOptions: { after: { contentText: v.text } },
    };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function isBusy(s: StatusParams | undefined): boolean {
  return s !== undefined && (s.state === "generating" || s.state === "running");
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly states = new Map<string, StatusParams>();
  private last: string | undefined;
  /** The `eager.activeBusy` context key as last set: Escape stops (package.json keybindings). */
  private activeBusy = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.item = vscode.window.createStatusBarItem("eager.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Eager";
    this.item.command = ClientCommands.stop;
    this.disposables.push(this.item, vscode.window.onDidChangeActiveTextEditor(() => this.render()));
    this.render();
    this.item.show();
  }

  onStatus(p: StatusParams): void {
    const uri = normalizeUri(p.uri);
    this.states.set(uri, p);
    this.last = uri;
    this.render();
  }

  /** The server is gone: nothing runs any more. */
  reset(): void {
    this.states.clear();
    this.render();
  }

  /** The last `eager/status` of one document. */
  of(uri: string): StatusParams | undefined {
    return this.states.get(normalizeUri(uri));
  }

  /** The status of the document the status bar talks about: the active one, else the last heard. */
  current(): StatusParams | undefined {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (active !== undefined && this.states.has(active)) return this.states.get(active);
    return this.last !== undefined ? this.states.get(this.last) : undefined;
  }

  /** A document that is generating or running, preferring the active one (what "Stop" stops). */
  busyUri(): string | undefined {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (active !== undefined && isBusy(this.states.get(active))) return active;
    for (const [uri, s] of this.states) if (isBusy(s)) return uri;
    return undefined;
  }

  private render(): void {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const s = active !== undefined ? this.states.get(active) : undefined;
    const busy = isBusy(s);
    if (busy !== this.activeBusy) {
      this.activeBusy = busy;
      void vscode.commands.executeCommand("setContext", "eager.activeBusy", busy);
    }
    const view = statusView(this.current());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
