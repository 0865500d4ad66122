import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { SETTING_KEYS, buildInitializationOptions, redacted } from "../src/config";
import { ClientCommands, ServerCommands } from "../src/methods";

interface Manifest {
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, { command?: string; submenu?: string; when?: string; group?: string }[]>;
    configuration: { properties: Record<string, { default: unknown; markdownDescription?: string; description?: string }> };
  };
  engines: { vscode: string };
}

const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as Manifest;
const properties = manifest.contributes.configuration.properties;

describe("settings", () => {
  it("package.json contributes exactly the settings the client sends, each described", () => {
    const contributed = Object.keys(properties).map((k) => k.replace(/^eager\./, "")).sort();
    assert.deepEqual(contributed, [...SETTING_KEYS].sort());
    for (const [key, p] of Object.entries(properties)) {
      assert.ok((p.markdownDescription ?? p.description ?? "").length > 10, `${key} needs a description`);
      assert.notEqual(p.default, undefined, `${key} needs a default`);
    }
  });

  it("has the documented defaults", () => {
    const d = (k: string) => properties[`eager.${k}`]!.default;
    assert.equal(d("llm.provider"), "auto");
    assert.equal(d("execution.gate"), "safe");
    assert.equal(d("execution.stopOnError"), true);
    assert.equal(d("execution.interruptGraceSeconds"), 2);
    assert.equal(d("execution.startOnOpen"), true);
    assert.equal(d("repair.mode"), "ask");
    assert.equal(d("repair.maxAttempts"), 2);
    assert.equal(d("debug.enabled"), true);
    assert.equal(d("inline.maxLength"), 80);
    assert.equal(d("inline.decorations"), true);
    assert.match(properties["eager.llm.apiKey"]!.markdownDescription!, /OPENAI_API_KEY/);
    assert.match(properties["eager.llm.baseUrl"]!.markdownDescription!, /OPENAI_BASE_URL/);
  });

  it("nests the eager section into initializationOptions", () => {
    const values: Record<string, unknown> = {
      "server.python": "/venv/bin/python",
      "llm.provider": "openai",
      "llm.baseUrl": "http://127.0.0.1:9/v1",
      "llm.apiKey": "sk-secret",
      "llm.temperature": 0.2,
      "execution.gate": "safe",
      "inline.maxLength": 40,
    };
    const opts = buildInitializationOptions((k) => values[k]);
    assert.deepEqual(opts, {
      server: { python: "/venv/bin/python" },
      llm: { provider: "openai", baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-secret", temperature: 0.2 },
      execution: { gate: "safe" },
      inline: { maxLength: 40 },
    });
    const safe = redacted(opts);
    assert.equal(safe.llm!.apiKey, "***");
    assert.equal(opts.llm!.apiKey, "sk-secret");
  });

  it("sends the Jupyter kernel backend settings and masks the server's token in logs", () => {
    assert.equal(properties["eager.execution.backend"]!.default, "worker");
    const kernel = { url: "http://127.0.0.1:8888", token: "tok-secret", name: "python3" };
    const values: Record<string, unknown> = { "execution.backend": "kernel", "execution.kernel": kernel };
    const opts = buildInitializationOptions((k) => values[k]);
    assert.deepEqual(opts, { execution: { backend: "kernel", kernel } });
    const safe = redacted(opts);
    assert.deepEqual(safe.execution!.kernel, { url: "http://127.0.0.1:8888", token: "***", name: "python3" });
    assert.equal(kernel.token, "tok-secret");
  });

  it("leaves out null (\"the server's default\") values", () => {
    const opts = buildInitializationOptions((k) => (k === "execution.denyModules" ? null : k === "execution.gate" ? "eager" : undefined));
    assert.deepEqual(opts, { execution: { gate: "eager" } });
  });

  it("sends the package.json defaults when nothing is set", () => {
    const opts = buildInitializationOptions((k) => properties[`eager.${k}`]!.default);
    assert.equal(opts.execution!.gate, "safe");
    assert.equal(opts.repair!.mode, "ask");
    assert.equal(Object.keys(opts).sort().join(","), "debug,execution,inline,llm,repair,server");
  });
});

describe("commands", () => {
  it("package.json declares the client commands, none shadowing a server command", () => {
    const declared: string[] = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, (Object.values(ClientCommands) as string[]).sort());
    const server = new Set<string>(Object.values(ServerCommands));
    for (const c of declared) assert.ok(!server.has(c), `${c} collides with a server command`);
    for (const menu of Object.values(manifest.contributes.menus)) {
      for (const item of menu) {
        if (item.command !== undefined) assert.ok(declared.includes(item.command), `menu names unknown ${item.command}`);
      }
    }
    // The editor's context menu has one "Eager" submenu with the commands.
    assert.deepEqual(manifest.contributes.menus["editor/context"], [
      { submenu: "eager.editorContext", when: "editorLangId == python", group: "1_eager@1" },
    ]);
    assert.ok(manifest.contributes.menus["eager.editorContext"]!.some((i) => i.command === ClientCommands.runFile));
    const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
    for (const t of ["Eager: Generate Code Here…", "Eager: Stop", "Eager: Run File Eagerly", "Eager: Toggle Follow Mode", "Eager: Interrupt", "Eager: Restart Interpreter", "Eager: Attach Debugger", "Eager: Whole Output of Statement"]) {
      assert.ok(titles.includes(t), t);
    }
    // Typing one command's title lists no other whose words it also starts (as the palette
    // matches them, in order): "Eager: Show Whole Output", once used, came first for "Eager:
    // Show Output" and ran in its place.
    const words = (t: string): string[] => t.toLowerCase().split(/[\s:]+/).filter((w) => w !== "");
    const matches = (query: string, title: string): boolean => {
      const have = words(title);
      let at = 0;
      for (const w of words(query)) {
        while (at < have.length && !have[at]!.startsWith(w)) at++;
        if (at++ >= have.length) return false;
      }
      return true;
    };
    for (const t of titles) {
      const shadows = titles.filter((o) => o !== t && matches(t, o));
      assert.deepEqual(shadows, [], `typing "${t}" also lists ${shadows.join(", ")}`);
    }
    // Whole Output of Statement: in the palette for Python files, and in the context menu (the line's result)
    assert.ok(
      manifest.contributes.menus["commandPalette"]!.some(
        (i) => i.command === ClientCommands.showResultDetail && i.when === "editorLangId == python",
      ),
    );
    assert.ok(manifest.contributes.menus["eager.editorContext"]!.some((i) => i.command === ClientCommands.showResultDetail));
  });

  it("targets VS Code 1.100", () => {
    assert.match(manifest.engines.vscode, /^\^1\.(100|[0-9]{1,2})\.0$/);
  });
});
