// Which Python runs the server, and whether it can. No `vscode` import: the Python extension's
// answer is passed in by client.ts, so the choice is unit-tested in plain Node.

import { execFile } from "node:child_process";
import * as os from "node:os";

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface Interpreter {
  /** Executable and leading arguments, e.g. ["/venv/bin/python"] or ["conda", "run", "-n", "x", "python"]. */
  command: string[];
  source: InterpreterSource;
}

export const DEFAULT_PYTHON = "python3";

export interface InterpreterInputs {
  /** `eager.server.python`, possibly empty. */
  configured?: string;
  /** The interpreter selected in the Python extension, when it is installed and has one. */
  fromPythonExtension?: string[];
  workspaceFolder?: string;
  home?: string;
}

/** `~`, `${userHome}` and `${workspaceFolder}` in a configured path. */
export function expandPath(p: string, vars: { workspaceFolder?: string; home?: string } = {}): string {
  const home = vars.home ?? os.homedir();
  let out = p.trim();
  if (out === "~" || out.startsWith("~/")) out = home + out.slice(1);
  out = out.replace(/\$\{userHome\}/g, home);
  if (vars.workspaceFolder !== undefined) out = out.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder);
  return out;
}

/** Interpreters to try, in order. An explicit setting is the only candidate (the user chose it);
 * otherwise the Python extension's interpreter, then `python3`. */
export function candidateInterpreters(inputs: InterpreterInputs): Interpreter[] {
  const configured = inputs.configured?.trim() ?? "";
  if (configured !== "") {
    return [{ command: [expandPath(configured, inputs)], source: "setting" }];
  }
  const out: Interpreter[] = [];
  const fromExt = (inputs.fromPythonExtension ?? []).filter((s) => s !== "");
  if (fromExt.length > 0) out.push({ command: fromExt, source: "python-extension" });
  if (!out.some((c) => c.command.length === 1 && c.command[0] === DEFAULT_PYTHON)) {
    out.push({ command: [DEFAULT_PYTHON], source: "default" });
  }
  return out;
}

export interface ImportCheck {
  ok: boolean;
  /** Why not, for the message (the interpreter's stderr's last line, or the spawn error). */
  detail: string;
}

export type ImportChecker = (command: string[]) => Promise<ImportCheck>;

/** `python -c SERVER_MAIN serve`, not `python -m eager_lsp serve`: the server starts in the
 * workspace, and `-m` imports `runpy` (and Python 3.10 eager_lsp too) with the current directory
 * first on sys.path, so a workspace `runpy.py` or `eager_lsp/` would run. The code drops that
 * entry before importing anything. Same string as eager_lsp.SERVER_MAIN (a test checks). */
export const DROP_CWD = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; ";
export const SERVER_MAIN =
  DROP_CWD + "from eager_lsp.entry import main; sys.argv[0] = 'eager-lsp'; sys.exit(main())";

/** Run `<python> -c "import eager_lsp.entry"` (cwd dropped from sys.path, as for the server):
 * the module SERVER_MAIN starts from, so an eager-lsp older than it is refused here with
 * Python's own "No module named" rather than failing to start. */
export function checkImport(command: string[], timeoutMs = 30000): Promise<ImportCheck> {
  const [exe, ...pre] = command;
  if (exe === undefined) return Promise.resolve({ ok: false, detail: "no interpreter" });
  return new Promise((resolve) => {
    execFile(exe, [...pre, "-c", DROP_CWD + "import eager_lsp.entry"], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) {
        resolve({ ok: true, detail: "" });
        return;
      }
      const lines = String(stderr).trim().split(/\r?\n/).filter((l) => l.trim() !== "");
      const last = lines.length > 0 ? lines[lines.length - 1]! : err.message;
      resolve({ ok: false, detail: last.trim() });
    });
  });
}

export interface Choice {
  chosen?: Interpreter;
  failures: { interpreter: Interpreter; detail: string }[];
}

/** The first candidate that can import eager_lsp. */
export async function chooseInterpreter(candidates: Interpreter[], canImport: ImportChecker): Promise<Choice> {
  const failures: Choice["failures"] = [];
  for (const interpreter of candidates) {
    const check = await canImport(interpreter.command);
    if (check.ok) return { chosen: interpreter, failures };
    failures.push({ interpreter, detail: check.detail });
  }
  return { failures };
}

/** The server process: `<python> -c SERVER_MAIN serve`. */
export function serverCommand(interpreter: Interpreter): { command: string; args: string[] } {
  const [command, ...pre] = interpreter.command;
  return { command: command ?? DEFAULT_PYTHON, args: [...pre, "-c", SERVER_MAIN, "serve"] };
}

/** The error shown when no candidate can import eager_lsp. */
export function notImportableMessage(choice: Choice): string {
  const tried = choice.failures.map((f) => `${f.interpreter.command.join(" ")} (${f.detail})`).join("; ");
  return (
    "Eager: cannot start the language server: no Python interpreter here can `import eager_lsp`. " +
    `Tried: ${tried || "none"}. Install it into an interpreter (pip install -e <checkout> or ` +
    "pip install eager-lsp) and set eager.server.python to it."
  );
}
