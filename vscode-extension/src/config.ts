// Settings → what the server is told. Pure: no `vscode` import (unit-tested in Node).
// Keys are the `eager.*` settings of package.json without the prefix; a unit test keeps both in step.

export const SETTING_KEYS = [
  "server.python",
  "llm.provider",
  "llm.baseUrl",
  "llm.model",
  "llm.apiKey",
  "llm.temperature",
  "llm.maxTokens",
  "llm.timeoutSeconds",
  "llm.connectRetries",
  "llm.localModel",
  "llm.localModelPath",
  "llm.localCtx",
  "llm.localThreads",
  "llm.localIdleMinutes",
  "execution.gate",
  "execution.stopOnError",
  "execution.interruptGraceSeconds",
  "execution.memoryLimitMB",
  "execution.python",
  "execution.backend",
  "execution.kernel",
  "execution.startOnOpen",
  "execution.denyModules",
  "execution.denyCalls",
  "execution.envAllow",
  "execution.envDenyPatterns",
  "execution.allowCalls",
  "execution.denyMethods",
  "repair.mode",
  "repair.maxAttempts",
  "debug.enabled",
  "inline.maxLength",
  "inline.decorations",
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

export type Settings = { [section: string]: { [name: string]: unknown } };

/** The `eager` section as a nested object (`{llm: {baseUrl: …}, execution: {gate: …}, …}`), the
 * shape workspace/configuration answers with, sent as initializationOptions. `get` reads one key of
 * the section (VS Code's `getConfiguration("eager").get`); undefined values are left out. */
export function buildInitializationOptions(get: (key: SettingKey) => unknown): Settings {
  const out: Settings = {};
  for (const key of SETTING_KEYS) {
    const value = get(key);
    // undefined: not contributed (older settings); null: "the server's default", which the server
    // also assumes for a missing key.
    if (value === undefined || value === null) continue;
    const [section, name] = key.split(".") as [string, string];
    (out[section] ??= {})[name] = value;
  }
  return out;
}

/** Settings whose change needs a new server process (the rest reach it via
 * workspace/didChangeConfiguration). */
export const RESTART_KEYS: readonly SettingKey[] = ["server.python"];

/** A copy safe to write to a log: the API key and a Jupyter Server's token are masked. */
export function redacted(settings: Settings): Settings {
  const copy: Settings = JSON.parse(JSON.stringify(settings)) as Settings;
  if (copy.llm && typeof copy.llm.apiKey === "string" && copy.llm.apiKey !== "") copy.llm.apiKey = "***";
  const kernel = copy.execution?.kernel as { token?: unknown } | null | undefined;
  if (kernel && typeof kernel === "object" && typeof kernel.token === "string" && kernel.token !== "") kernel.token = "***";
  return copy;
}
