import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";

import {
  DROP_CWD,
  type Interpreter,
  SERVER_MAIN,
  candidateInterpreters,
  checkImport,
  chooseInterpreter,
  expandPath,
  notImportableMessage,
  serverCommand,
} from "../src/python";

describe("interpreter candidates", () => {
  it("uses only the configured interpreter when there is one", () => {
    assert.deepEqual(candidateInterpreters({ configured: " /venv/bin/python ", fromPythonExtension: ["/other/python"] }), [
      { command: ["/venv/bin/python"], source: "setting" },
    ]);
  });

  it("expands ~ and ${workspaceFolder} in the setting", () => {
    assert.deepEqual(candidateInterpreters({ configured: "${workspaceFolder}/.venv/bin/python", workspaceFolder: "/w" }), [
      { command: ["/w/.venv/bin/python"], source: "setting" },
    ]);
    assert.equal(expandPath("~/py/bin/python", { home: "/home/u" }), "/home/u/py/bin/python");
    assert.equal(expandPath("${userHome}/x", { home: "/home/u" }), "/home/u/x");
  });

  it("otherwise prefers the Python extension's interpreter, then python3", () => {
    assert.deepEqual(candidateInterpreters({ configured: "", fromPythonExtension: ["/env/bin/python"] }), [
      { command: ["/env/bin/python"], source: "python-extension" },
      { command: ["python3"], source: "default" },
    ]);
    assert.deepEqual(candidateInterpreters({ fromPythonExtension: ["conda", "run", "-n", "x", "python"] })[0], {
      command: ["conda", "run", "-n", "x", "python"],
      source: "python-extension",
    });
    assert.deepEqual(candidateInterpreters({}), [{ command: ["python3"], source: "default" }]);
    assert.deepEqual(candidateInterpreters({ fromPythonExtension: ["python3"] }), [{ command: ["python3"], source: "python-extension" }]);
  });
});

describe("choosing", () => {
  const a: Interpreter = { command: ["/a/python"], source: "python-extension" };
  const b: Interpreter = { command: ["python3"], source: "default" };

  it("takes the first that imports eager_lsp and reports the ones that did not", async () => {
    const choice = await chooseInterpreter([a, b], async (cmd) =>
      cmd[0] === "python3" ? { ok: true, detail: "" } : { ok: false, detail: "ModuleNotFoundError: No module named 'eager_lsp'" },
    );
    assert.deepEqual(choice.chosen, b);
    assert.equal(choice.failures.length, 1);
  });

  it("explains when none can", async () => {
    const choice = await chooseInterpreter([a], async () => ({ ok: false, detail: "No module named 'eager_lsp'" }));
    assert.equal(choice.chosen, undefined);
    const msg = notImportableMessage(choice);
    assert.match(msg, /\/a\/python \(No module named 'eager_lsp'\)/);
    assert.match(msg, /eager\.server\.python/);
  });

  it("builds the server command line", () => {
    assert.deepEqual(serverCommand(a), { command: "/a/python", args: ["-c", SERVER_MAIN, "serve"] });
    assert.deepEqual(serverCommand({ command: ["conda", "run", "python"], source: "python-extension" }), {
      command: "conda",
      args: ["run", "python", "-c", SERVER_MAIN, "serve"],
    });
  });
});

describe("import check (real processes)", () => {
  const python = (() => {
    try {
      execFileSync("python3", ["--version"]);
      return "python3";
    } catch {
      return undefined;
    }
  })();

  it("fails with the interpreter's own error for a missing module", { skip: python === undefined && "no python3 on PATH" }, async () => {
    // `import eager_lsp` fails in an isolated interpreter with an empty path.
    const check = await checkImport([python!, "-I", "-S"]);
    assert.equal(check.ok, false);
    assert.match(check.detail, /No module named 'eager_lsp'/);
  });

  it("never imports a workspace eager_lsp/ or runpy.py (cwd dropped)", { skip: python === undefined && "no python3 on PATH" }, async () => {
    // Issue 9.2: the server starts in the workspace. With `-m`, or with '' left on sys.path,
    // these files would run; with DROP_CWD the import resolves elsewhere or not at all.
    const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const ws = mkdtempSync(join(tmpdir(), "eager-hostile-"));
    mkdirSync(join(ws, "eager_lsp"));
    writeFileSync(join(ws, "eager_lsp", "__init__.py"), "raise SystemExit('workspace eager_lsp ran')\n");
    writeFileSync(join(ws, "runpy.py"), "raise SystemExit('workspace runpy ran')\n");
    const code = DROP_CWD + "import runpy, sys\ntry:\n import eager_lsp\nexcept ImportError: pass\nprint('clean')";
    const out = execFileSync(python!, ["-c", code], { cwd: ws, encoding: "utf-8" });
    assert.equal(out.trim(), "clean");
    assert.ok(SERVER_MAIN.startsWith(DROP_CWD));
  });

  it("fails cleanly when the interpreter does not exist", async () => {
    const check = await checkImport(["/nonexistent/python"]);
    assert.equal(check.ok, false);
    assert.match(check.detail, /ENOENT/);
  });

  it("succeeds when the module imports", { skip: python === undefined && "no python3 on PATH" }, async () => {
    // A stand-in package on PYTHONPATH is enough to prove the success path.
    const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "eager-import-"));
    mkdirSync(join(dir, "eager_lsp"));
    writeFileSync(join(dir, "eager_lsp", "__init__.py"), "");
    const command = [python!, "-c", `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); exec(sys.argv[-1])`];
    // `-c CODE` above runs first and then exec()s the real check, passed last by checkImport.
    // A package without the module the server starts from (an older eager-lsp) is refused:
    const older = await checkImport(command);
    assert.equal(older.ok, false);
    assert.match(older.detail, /No module named 'eager_lsp.entry'/);
    writeFileSync(join(dir, "eager_lsp", "entry.py"), "");
    const check = await checkImport(command);
    assert.equal(check.ok, true, check.detail);
  });
});
