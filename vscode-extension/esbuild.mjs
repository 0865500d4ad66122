// Bundles the extension (dist/extension.js) or the unit tests (out/test/*.test.js).
//   node esbuild.mjs [--production] [--watch]   the extension
//   node esbuild.mjs --tests                    the unit tests (run them with `node --test out/test/`)
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  logLevel: "warning",
};

const options = tests
  ? {
      ...common,
      entryPoints: readdirSync("test")
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => `test/${f}`),
      outdir: "out/test",
      sourcemap: "inline",
      // The tests load only the modules that do not import `vscode`; fail loudly if one does.
      external: [],
    }
  : {
      ...common,
      entryPoints: ["src/extension.ts"],
      outfile: "dist/extension.js",
      external: ["vscode"],
      minify: production,
      sourcemap: !production,
      sourcesContent: false,
    };

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
