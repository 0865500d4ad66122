// "Eager: Show Results" (command eager.showResults): a webview beside the editor listing each
// statement's output for the active Python file, kept up to date as results arrive. The HTML is
// built in results.ts; images are read from the server's temp files here (bounded) as data: URIs.

import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";

import type { ImageReader } from "./decorations";
import { type ResultEntry, resultsHtml } from "./results";

/** Largest PNG embedded (the server bounds them too). */
const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** Images read lately: the server never rewrites a file (each has a new name), and decorations
 * are re-rendered on every result, so each file is read once while it is in use. */
const cache = new Map<string, string>();
const CACHED = 16;

/** A PNG file as a data: URI; undefined when it is gone, too large, or not a PNG. */
export const readImage: ImageReader = (file) => {
  const hit = cache.get(file);
  if (hit !== undefined) {
    cache.delete(file);
    cache.set(file, hit); // most recently used last
    return hit;
  }
  try {
    if (!path.isAbsolute(file) || !file.endsWith(".png")) return undefined;
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > MAX_IMAGE_BYTES) return undefined;
    const data = fs.readFileSync(file);
    if (data.subarray(0, 4).toString("latin1") !== "\x89PNG") return undefined;
    const uri = `data:image/png;base64,${data.toString("base64")}`;
    cache.set(file, uri);
    while (cache.size > CACHED) cache.delete(cache.keys().next().value!);
    return uri;
  } catch {
    return undefined;
  }
};

export class ResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: string | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly entries: (uri: string) => ResultEntry[]) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && e.document.languageId === "python" && this.panel) {
          this.uri = e.document.uri.toString();
          this.update();
        }
      }),
    );
  }

  /** Open (or reveal) the panel for the active Python file (else the last one shown). */
  show(): void {
    const editor = vscode.window.activeTextEditor;
    if (editor && editor.document.languageId === "python") this.uri = editor.document.uri.toString();
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        "eager.results",
        "Eager Results",
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    } else {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
    }
    this.render();
  }

  /** Results of `uri` changed: redraw soon (coalesced) if the panel shows it. */
  changed(uri: string): void {
    if (this.panel && uri === this.uri) this.update();
  }

  private update(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.render();
    }, 100);
  }

  private render(): void {
    if (!this.panel) return;
    const uri = this.uri;
    const name = uri ? path.basename(vscode.Uri.parse(uri).fsPath) : "no Python file";
    this.panel.webview.html = resultsHtml(`Results · ${name}`, uri ? this.entries(uri) : [], readImage, this.panel.webview.cspSource);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
