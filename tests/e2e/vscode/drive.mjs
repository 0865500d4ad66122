// Drives a running code-server (real VS Code) in headless Chromium like a person would:
// opens a Python file, runs "Eager: Generate Code Here…" from the command palette, types the
// prompt, and watches what the editor shows. Prints one line `EAGER_RESULT {json}`; the
// assertions are made by tests/e2e/test_vscode.py.
//
//   EAGER_E2E='{"url": "...", "file": "a.py", "prompt": "...", "screenshot": "...png",
//               "expectText": ["x = 6 * 7"], "expectValue": "42", "timeoutMs": 90000}' node drive.mjs
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

const params = JSON.parse(process.env.EAGER_E2E ?? "{}");
const timeout = params.timeoutMs ?? 90000;
const result = { steps: [], error: null, toastsSeen: [] };
const started = Date.now();

function step(name) {
  const t = ((Date.now() - started) / 1000).toFixed(1);
  result.steps.push(`${t}s ${name}`);
  process.stderr.write(`[drive ${t}s] ${name}\n`);
}

async function until(what, fn, ms = timeout, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** Everything on the page the test asserts on, read from the DOM. Notification toasts fade, so
 * every one seen is also kept in `result.toastsSeen`. */
async function snapshot(page) {
  const s = await readPage(page);
  for (const t of s.toasts) if (!result.toastsSeen.includes(t)) result.toastsSeen.push(t);
  return s;
}

async function readPage(page) {
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-instance .monaco-editor");
    const viewLines = editor?.querySelector(".view-lines");
    // `after` decorations are drawn by CSS ::after rules on spans inside the view lines.
    const decorations = [];
    if (editor) {
      for (const el of editor.querySelectorAll(".view-lines span")) {
        const content = getComputedStyle(el, "::after").content;
        if (content && content !== "none" && content !== "normal" && content.includes("⟵")) {
          decorations.push({
            text: content.replace(/^"|"$/g, "").replace(/\\"/g, '"').replace(/\u00a0/g, " "),
            color: getComputedStyle(el, "::after").color,
            textDecoration: getComputedStyle(el, "::after").textDecorationLine,
          });
        }
      }
    }
    const statusItems = [...document.querySelectorAll(".statusbar-item")].map((el) => ({
      id: el.id,
      text: el.innerText.trim(),
      aria: el.getAttribute("aria-label") ?? "",
    }));
    const toasts = [...document.querySelectorAll(".notification-toast, .notifications-list-container .monaco-list-row")].map(
      (el) => el.innerText.trim(),
    );
    return {
      // Monaco draws spaces as no-break spaces.
      text: viewLines ? viewLines.innerText.replace(/\u00a0/g, " ") : null,
      decorations,
      squiggles: editor ? editor.querySelectorAll(".squiggly-error").length : 0,
      statusItems,
      toasts,
      title: document.title,
    };
  });
}

const browser = await chromium.launch({
  executablePath: params.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
page.setDefaultTimeout(timeout);
const consoleErrors = [];
page.on("console", (m) => {
  if (m.type() === "error") consoleErrors.push(m.text().slice(0, 300));
});

try {
  step(`open ${params.url}`);
  await page.goto(params.url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench", { timeout });
  step("workbench loaded");

  // Open the file from the explorer (Ctrl+P does not always reach a fresh workbench).
  const row = page.locator(`.explorer-folders-view .monaco-list-row >> text=${params.file}`).first();
  await row.waitFor({ timeout });
  await row.click();
  await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout });
  step(`opened ${params.file}`);

  // The extension activates on the Python file and starts the server; wait for its status item.
  await until("the Eager status bar item", async () => {
    const s = await snapshot(page);
    return s.statusItems.some((i) => i.text.includes("Eager"));
  });
  step("extension active (status bar item shown)");

  if (params.scenario === "noServer") {
    await noServer(page);
  } else if (params.scenario === "followTyping") {
    await followTyping(page);
  } else if (params.scenario === "streamTyping") {
    await streamTyping(page);
  } else if (params.scenario === "runFile") {
    await runFileAndAttach(page);
  } else if (params.scenario === "results") {
    await richResults(page);
  } else {
    await generate(page);
  }
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
  try {
    result.final = await snapshot(page);
    if (params.screenshot) await page.screenshot({ path: params.screenshot });
  } catch {
    // page gone
  }
} finally {
  result.consoleErrors = consoleErrors.slice(0, 20);
  await browser.close();
}
process.stdout.write(`EAGER_RESULT ${JSON.stringify(result)}\n`);

/** The interpreter cannot import eager_lsp: the user is told, and "Open Setting" opens the setting. */
async function noServer(page) {
  const toast = page.locator(".notification-toast", { hasText: "cannot start the language server" }).first();
  await toast.waitFor({ state: "visible" });
  result.toast = await toast.innerText();
  step("error message shown");
  await toast.locator(".monaco-button", { hasText: "Open Setting" }).first().click();
  await until("the settings editor on eager.server.python", async () => {
    const search = await page.locator(".settings-editor .settings-header .monaco-editor .view-lines").first().innerText();
    result.settingsSearch = search.replace(/\u00a0/g, " ");
    const titles = await page.locator(".settings-editor .setting-item-title").allInnerTexts();
    result.settingTitles = titles.map((t) => t.replace(/\s+/g, " ").trim());
    return result.settingTitles.some((t) => /Server: Python/.test(t)) ? true : null;
  }, 30000);
  await page.waitForTimeout(500);
  await page.screenshot({ path: params.screenshot });
  step("settings editor shows eager.server.python");
  result.final = await snapshot(page);
}

/** Run a command from the palette (F1, type its title, Enter). */
async function palette(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor({ state: "visible" });
  await input.fill(`> ${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
}

/** "Eager: Run File Eagerly" from the editor's context menu, then "Eager: Attach Debugger" from the
 * palette (no Python debugger extension in code-server: it offers host:port with "Copy"). */
async function runFileAndAttach(page) {
  const lines = page.locator(".editor-instance .monaco-editor .view-lines");
  await lines.click({ button: "right" });
  const labels = async () =>
    (await page.locator(".context-view .monaco-menu .action-label").allInnerTexts()).map((t) => t.trim()).filter((t) => t.length > 0);
  const submenu = page.locator(".context-view .monaco-menu .action-item", { hasText: /^\s*Eager\s*$/ }).first();
  await submenu.waitFor({ state: "visible" });
  result.contextMenu = await labels();
  await submenu.hover();
  // (The submenu's DOM sits inside the "Eager" item: find the entry by its own role and name.)
  const item = page.getByRole("menuitem", { name: "Run File Eagerly", exact: true });
  await item.waitFor({ state: "visible" });
  result.eagerSubmenu = (await labels()).filter((t) => !result.contextMenu.includes(t) || t === "Copy");
  await item.click();
  step("Run File Eagerly from the context menu");
  result.afterRun = await until("the decorations of the run", async () => {
    const s = await snapshot(page);
    return s.decorations.length >= params.minDecorations ? s : null;
  });
  step("run results shown");
  await page.waitForTimeout(1000);
  result.afterRun = await snapshot(page);

  await palette(page, "Eager: Attach Debugger");
  const toast = page.locator(".notification-toast", { hasText: "debugpy" }).first();
  await toast.waitFor({ state: "visible" });
  result.attachToast = await toast.innerText();
  step("attach info shown");
  await page.screenshot({ path: params.screenshot });
  result.final = await snapshot(page);
}

/** "Eager: Generate Code Here…" from the palette, then watch the code stream in and run. */
async function generate(page) {
  // Cursor at the end of the file.
  await page.locator(".editor-instance .monaco-editor .view-lines").click();
  await page.keyboard.press("Control+End");

  // Command palette → our command → the prompt.
  await page.keyboard.press("F1");
  const quickInput = page.locator(".quick-input-widget input").first();
  await quickInput.waitFor({ state: "visible" });
  await quickInput.fill("> Eager: Generate Code Here");
  const entry = page.locator(".quick-input-list .monaco-list-row", { hasText: "Eager: Generate Code Here" }).first();
  await entry.waitFor({ state: "visible" });
  step("command found in the palette");
  await page.keyboard.press("Enter");
  await until("the prompt input box", async () =>
    (await page.locator(".quick-input-widget .quick-input-title, .quick-input-widget .quick-input-message").allInnerTexts()).some((t) =>
      /Generate Code|Describe the code/.test(t),
    ),
  );
  await page.keyboard.type(params.prompt, { delay: 5 });
  await page.keyboard.press("Enter");
  step("prompt sent");

  // The generated text streams into the editor.
  const firstText = await until("the first generated line", async () => {
    const s = await snapshot(page);
    return s.text && s.text.includes(params.expectText[0]) ? s : null;
  });
  result.firstTextAfterS = (Date.now() - started) / 1000;
  step("first generated line visible");
  result.earlySnapshot = firstText;

  // Values: an inlay hint label is part of the view lines' text; the decoration is CSS.
  const withValue = await until(`a value ${params.expectValue} shown`, async () => {
    const s = await snapshot(page);
    const inText = s.text && s.text.split("\n").some((l) => l.includes(params.expectText[0]) && l.includes(params.expectValue) && l.replace(params.expectText[0], "").includes(params.expectValue));
    const inDecoration = s.decorations.some((d) => d.text.includes(params.expectValue));
    return inText || inDecoration ? s : null;
  });
  step("value visible");
  result.valueSnapshot = withValue;

  // The failing line gets an error diagnostic: squiggle in the editor and the problems count.
  const withError = await until("an error diagnostic", async () => {
    const s = await snapshot(page);
    return s.squiggles > 0 && s.text.includes(params.expectText[params.expectText.length - 1]) ? s : null;
  });
  step("error diagnostic visible");

  // Let the generation end (status back to idle), then take the final state.
  await until(
    "the end of the generation",
    async () => {
      const s = await snapshot(page);
      const status = s.statusItems.find((i) => i.text.includes("Eager"));
      return status && !/generating|running/.test(status.text) && s.decorations.length >= params.minDecorations ? s : null;
    },
    timeout,
  );
  step("generation ended");
  await page.waitForTimeout(1500); // last refreshes (inlay hints, decorations) settle

  // Hover the failing line: the decoration's hover has the error and its traceback.
  const errLine = page.locator(".editor-instance .view-line", { hasText: params.expectText[params.expectText.length - 1] }).first();
  const box = await errLine.boundingBox();
  if (box) {
    await page.mouse.move(box.x + 12, box.y + box.height / 2);
    try {
      await page.locator(".monaco-hover").filter({ hasText: "Eager" }).first().waitFor({ state: "visible", timeout: 10000 });
      result.hover = (await page.locator(".monaco-hover").allInnerTexts()).join("\n---\n");
    } catch {
      result.hover = (await page.locator(".monaco-hover").allInnerTexts()).join("\n---\n") || null;
    }
    step("hovered the failing line");
  }
  result.final = await snapshot(page);
  result.errorSnapshot = { squiggles: withError.squiggles };
  await page.screenshot({ path: params.screenshot });
  step(`screenshot ${params.screenshot}`);

  // The output channel: executed code's stderr/tracebacks and the server log.
  if (params.readOutput) {
    await page.mouse.move(5, 5);
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    await quickInput.waitFor({ state: "visible" });
    await quickInput.fill("> Eager: Show Output");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "Eager: Show Output" }).first().waitFor();
    await page.keyboard.press("Enter");
    await until("the Eager output channel", async () => {
      const t = await page.locator(".panel .output-view .view-lines, .panel .monaco-editor .view-lines").first().innerText();
      return t.includes("[summary]") ? t : null;
    }, 20000);
    await page.waitForTimeout(500);
    result.output = await page.locator(".panel .monaco-editor .view-lines").first().innerText();
    if (params.outputScreenshot) await page.screenshot({ path: params.outputScreenshot });
    step("read the output channel");
  }

  // The server's "Fix with AI" quick fix on the failing line: a command of the server, run through
  // the VS Code command that vscode-languageclient registers for it.
  if (params.fix) {
    await page.keyboard.press("Escape");
    const bad = page.locator(".editor-instance .view-line", { hasText: params.fix.lineText }).first();
    const bb = await bad.boundingBox();
    await page.mouse.click(bb.x + 12, bb.y + bb.height / 2);
    await page.keyboard.press("Control+.");
    const widget = page.locator(".action-widget", { hasText: "Fix with AI" }).first();
    await widget.waitFor({ state: "visible", timeout: 20000 });
    result.quickFixes = (await widget.innerText()).split("\n").map((t) => t.trim()).filter(Boolean);
    // The first fix is focused; Enter applies it (a click on the row does not reach it reliably).
    await page.keyboard.press("Enter");
    step("Fix with AI chosen");
    result.fixSnapshot = await until("the fixed code and its result", async () => {
      const s = await snapshot(page);
      return s.text.includes(params.fix.expectText) && s.decorations.some((d) => d.text.includes(params.fix.expectDecoration))
        ? s
        : null;
    }, 60000);
    await page.waitForTimeout(1000);
    result.fixSnapshot = await snapshot(page);
    if (params.fixScreenshot) await page.screenshot({ path: params.fixScreenshot });
    step("fixed code ran");
  }

  // Edit a line that ran: its result must be marked stale (the decoration says so).
  if (params.staleEdit) {
    const { lineText, type } = params.staleEdit;
    await page.keyboard.press("Escape");
    const line = page.locator(".editor-instance .view-line", { hasText: lineText }).first();
    const lb = await line.boundingBox();
    // Click in the code, then End: the caret goes to the end of the code, before hints.
    await page.mouse.click(lb.x + 20, lb.y + lb.height / 2);
    await page.keyboard.press("End");
    await page.keyboard.type(type);
    result.staleSnapshot = await until("a stale decoration", async () => {
      const s = await snapshot(page);
      return s.decorations.some((d) => d.text.includes("stale")) ? s : null;
    }, 20000);
    if (params.staleScreenshot) await page.screenshot({ path: params.staleScreenshot });
    step("edited a line: stale decoration shown");
  }
  if (params.fix?.undo) {
    // The repair is one undo step of its own: one Ctrl+Z brings the failing line back (and
    // nothing else changes); Ctrl+Shift+Z puts the fix back.
    if (params.staleEdit) {
      // First take back the edit typed after the fix (its own undo step).
      await page.keyboard.press("Control+z");
      await until("the stale edit undone", async () => (await readPage(page)).text === result.fixSnapshot.text, 10000, 100).catch(() => null);
    }
    const fixed = (await readPage(page)).text;
    await page.keyboard.press("Control+z");
    result.fixUndoSnapshot = await until("the text after one undo", async () => {
      const s = await readPage(page);
      return s.text !== fixed ? s : null;
    }, 10000, 100).catch(() => null);
    await page.waitForTimeout(500);
    result.fixUndoSnapshot = await readPage(page);
    step("one undo after the fix");
    await page.keyboard.press("Control+Shift+z");
    result.fixRedoSnapshot = await until("the fix back after redo", async () => {
      const s = await readPage(page);
      return s.text.includes(params.fix.expectText) ? s : null;
    }, 10000, 100).catch(() => null);
    step("redo after the undo");
  }
}

// ---- typing while code streams in (issue 10) ---------------------------------------------------

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The Eager status bar item's text. */
async function eagerStatus(page) {
  return page.evaluate(() => {
    for (const el of document.querySelectorAll(".statusbar-item")) {
      const t = el.innerText.trim();
      if (t.includes("Eager")) return t;
    }
    return "";
  });
}

/** The texts of the cursor's line and of the line above it in the active editor (from the
 * rendered lines: the current-line highlight's top), or null when not rendered. */
async function linesAroundCursor(page) {
  // Read after Monaco has drawn the keys just pressed (it renders on animation frames): a frame
  // drawn before them shows the cursor where it was, and the check below would approve a place
  // inside the generated code.
  return page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const editor = document.querySelector(".editor-group-container.active .monaco-editor");
    const hl = editor?.querySelector(".view-overlays .current-line");
    const row = hl?.parentElement;
    if (!row) return null;
    const top = parseFloat(row.style.top);
    const height = parseFloat(row.style.height) || hl.getBoundingClientRect().height;
    const text = (t) => {
      for (const el of editor.querySelectorAll(".view-lines .view-line")) {
        if (Math.abs(parseFloat(el.style.top) - t) < 1) return el.innerText.replace(/\u00a0/g, " ");
      }
      return null;
    };
    return { current: text(top) ?? "", above: top >= height ? text(top - height) : null };
  });
}

/** Open `file` from the explorer and wait for its editor tab to be the active one. */
async function openFile(page, file) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row >> text=${file}`).first();
  await row.waitFor({ timeout });
  await row.click();
  await until(`the editor of ${file}`, async () => {
    const t = await page.locator(".editor-group-container.active .tab.active").first().innerText().catch(() => "");
    return t.includes(file);
  }, 30000, 100);
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
}

/** Save (Ctrl+S) and read the file from disk once it changed (or its tab is no longer dirty). */
async function saveAndRead(page, path, before) {
  const mtime = () => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return 0;
    }
  };
  const m0 = mtime();
  await page.keyboard.press("Control+s");
  // Nothing to save (an undo that changed nothing) is not an error: read what is there.
  await until(`${path} saved`, async () => {
    const dirty = await page.locator(".editor-group-container.active .tab.active.dirty").count();
    return dirty === 0 && (mtime() !== m0 || readFileSync(path, "utf8") !== before);
  }, 5000, 100).catch(() => undefined);
  return readFileSync(path, "utf8");
}

/** Move the cursor `n` lines up with few key presses: the test's keybindings.json binds
 * Ctrl+Alt+Shift+U / Ctrl+Alt+Shift+I to "cursorMove" 25 and 5 lines up. */
async function cursorUp(page, n) {
  for (; n >= 25; n -= 25) await page.keyboard.press("Control+Alt+Shift+U");
  for (; n >= 5; n -= 5) await page.keyboard.press("Control+Alt+Shift+I");
  for (; n > 0; n--) await page.keyboard.press("ArrowUp");
}

/** One generation per run, each in its own file; while it streams, type a line above it, below it
 * and at its insertion point in turn, 20–70 ms apart. The file is saved and read from disk. */


async function streamTyping(page) {
  result.runs = [];
  for (const run of params.runs) {
    const r = { file: run.file, typed: { above: [], below: [], at: [] }, statuses: [] };
    result.runs.push(r);
    const path = join(params.folder, run.file);
    const toastsBefore = result.toastsSeen.length;
    const original = readFileSync(path, "utf8");
    await openFile(page, run.file); // also puts the focus in the editor
    await page.keyboard.press("Control+End");
    step(`${run.file}: generate (${run.typing ? "typing" : "quiet"})`);
    await palette(page, "Eager: Generate Code Here");
    await until("the prompt input box", async () =>
      (await page.locator(".quick-input-widget .quick-input-title, .quick-input-widget .quick-input-message").allInnerTexts()).some((t) =>
        /Generate Code|Describe the code/.test(t),
      ),
    );
    await page.keyboard.type(run.prompt, { delay: 2 });
    await page.keyboard.press("Enter");
    await page.locator(".quick-input-widget").first().waitFor({ state: "hidden" }).catch(() => undefined);
    // Keys go to the editor again (not to the closing input box).
    await until("the editor to have the focus", async () => {
      const focus = await page.evaluate(() => {
        const el = document.activeElement;
        return { inEditor: el?.closest(".monaco-editor") != null && el?.closest(".quick-input-widget") == null, what: `${el?.tagName}.${el?.className}` };
      });
      return focus.inEditor ? focus : (result.focusSeen = focus.what, false);
    }, 10000, 20).catch((e) => {
      throw new Error(`${e.message}; focus on ${result.focusSeen}`);
    });
    const t0 = Date.now();
    let sawBusy = false;
    let idleSince = 0;
    let np = 0;
    let nb = 0;
    let k = 0;
    // The cursor starts at the insertion point: the first line is typed there as the generation starts.
    while (Date.now() - t0 < (run.maxSeconds ?? 120) * 1000) {
      if (run.typing && k < (run.maxLines ?? 400)) {
        if (k === 1) {
          // The first line was typed at the insertion point as the generation started; the others
          // are typed once generated text is there (before that, "below" is the empty point too).
          const shown = await until("the first generated line", async () => {
            const t = (await page.locator(".editor-instance .monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
            return /(^|\n)v\d+ = \d+/.test(t) ? t : null;
          }, 60000, 50);
          // The line typed at the still empty point went above the code when it was finished
          // before the first generated text arrived: it is not among the lines below the code.
          const first = r.typed.at[0];
          const at = shown.split("\n").indexOf(first);
          const code = shown.split("\n").findIndex((l) => /^v\d+ = \d+/.test(l));
          if (at >= 0 && at < code) np--;
        }
        const target = ["at", "above", "below"][k % 3];
        const label = { at: "p", above: "a", below: "b" }[target];
        const line = `# ${label}${r.file.replace(/\W/g, "")}-${k}`;
        if (target === "above") {
          await page.keyboard.press("Control+Home");
        } else if (target === "below") {
          await page.keyboard.press("Control+End");
        } else if (k > 0) {
          // Back to the insertion point: the start of the first line after the generated code.
          // Lines typed below and at it sit after it (a guess: some typed at the still empty
          // point went above it), so go up from the end, then check the lines on the page.
          await page.keyboard.press("Control+End");
          await cursorUp(page, np + nb);
          await page.keyboard.press("Home");
          let around = null;
          for (let i = 0; i < 8; i++) {
            around = await linesAroundCursor(page);
            if (!around) break;
            if (/^v\d/.test(around.current)) {
              await page.keyboard.press("ArrowDown");
              await page.keyboard.press("Home");
            } else if (around.above !== null && !/^v\d/.test(around.above) && around.above !== "# head") {
              await page.keyboard.press("ArrowUp");
            } else break;
          }
          if (around && /^v\d/.test(around.current)) {
            // Still inside the generated code (a partial last line): do not type into it.
            r.skipped = (r.skipped ?? 0) + 1;
            k++;
            continue;
          }
        }
        // The line and its line break go in as one input event (a person types a character at a
        // time, but a line every 20-70 ms cannot be typed key by key through the browser here).
        await page.keyboard.insertText(`${line}\n`);
        r.typed[target].push(line);
        if (target === "at") np++;
        if (target === "below") nb++;
        k++;
        await sleep(20 + Math.floor(Math.random() * 51));
      } else {
        await sleep(200);
      }
      if (run.typing && sawBusy && k < (run.maxLines ?? 400) && k % 3 !== 0) continue; // the status every third line
      const status = await eagerStatus(page);
      if (!/generating|running/.test(status)) await snapshot(page); // keep the summary toast
      if (r.statuses[r.statuses.length - 1] !== status) r.statuses.push(status);
      if (/generating|running/.test(status)) {
        sawBusy = true;
        idleSince = 0;
      } else if (sawBusy) {
        idleSince ||= Date.now();
        if (Date.now() - idleSince > 600) break;
      }
    }
    // The summary notification of this generation ("Eager: done in …", or why it ended).
    await until("the generation's summary", async () => {
      await snapshot(page);
      return result.toastsSeen.slice(toastsBefore).some((t) => /^Eager: (done|ended|stopped)/.test(t));
    }, 15000, 200).catch(() => undefined);
    r.seconds = (Date.now() - t0) / 1000;
    r.finalStatus = await eagerStatus(page);
    r.linesTyped = k;
    await sleep(300);
    r.text = await saveAndRead(page, path, original);
    step(`${run.file}: saved after ${r.seconds.toFixed(1)} s, ${k} lines typed`);
    if (run.undo) {
      // One Ctrl+Z must take the whole generation away.
      await page.keyboard.press("Control+z");
      await sleep(300);
      r.afterOneUndo = await saveAndRead(page, path, r.text);
      step(`${run.file}: one undo`);
    }
    await snapshot(page);
    // The notifications of this run (the summary says whether the generation completed).
    r.toasts = result.toastsSeen.slice(toastsBefore);
    await page.keyboard.press("Control+w");
  }
}

/** Hover the line holding `text`; returns what the hover shows (text, images, tables). */
async function hoverLine(page, text, screenshot) {
  await page.mouse.move(5, 5);
  await page.waitForTimeout(300);
  const line = page.locator(".editor-instance .view-line", { hasText: text }).first();
  const box = await line.boundingBox();
  await page.mouse.move(box.x + 12, box.y + box.height / 2);
  const hover = page.locator(".monaco-hover").filter({ hasText: "Eager" }).first();
  await hover.waitFor({ state: "visible", timeout: 15000 });
  await page.waitForTimeout(500); // images decode
  const seen = await hover.evaluate((el) => ({
    text: el.innerText,
    images: [...el.querySelectorAll("img")].map((i) => ({ src: i.getAttribute("src")?.slice(0, 30), width: i.naturalWidth })),
    tables: el.querySelectorAll("table").length,
  }));
  if (screenshot) await page.screenshot({ path: screenshot });
  return seen;
}

/** Run a file with a DataFrame and a matplotlib figure; hover both; open "Eager: Show Results". */
async function richResults(page) {
  await page.locator(".editor-instance .monaco-editor .view-lines").click();
  await palette(page, "Eager: Run File Eagerly");
  step("Run File Eagerly");
  result.afterRun = await until("the decorations of the run", async () => {
    const s = await snapshot(page);
    return s.decorations.length >= params.minDecorations ? s : null;
  });
  step("run results shown");
  result.tableHover = await hoverLine(page, params.tableLine, params.tableScreenshot);
  step("hovered the DataFrame line");
  result.imageHover = await hoverLine(page, params.plotLine, params.hoverScreenshot);
  step("hovered the plot line");
  await page.mouse.move(5, 5);
  await page.keyboard.press("Escape");

  await palette(page, "Eager: Show Results");
  step("Show Results");
  result.panel = await until("the results webview", async () => {
    for (const frame of page.frames()) {
      try {
        const seen = await frame.evaluate(() => {
          const body = document.body;
          if (!body || !body.innerText.includes("Results ·")) return null;
          return {
            text: body.innerText,
            images: [...document.querySelectorAll("img")].map((i) => ({ src: i.getAttribute("src")?.slice(0, 30), width: i.naturalWidth })),
            tables: document.querySelectorAll("table").length,
          };
        });
        if (seen && seen.images.every((i) => i.width > 0)) return seen;
      } catch {
        // a frame that went away
      }
    }
    return null;
  }, 30000);
  await page.waitForTimeout(500);
  await page.screenshot({ path: params.screenshot });
  step("results panel shown");
  result.final = await snapshot(page);
}

// ---- follow mode, typed one character at a time with pauses (issue 10) --------------------------

/** Toggle follow mode on, type `params.steps` (each: text typed key by key, then a pause), and
 * after each pause record what the page shows (error squiggles, decorations, toasts). */
async function followTyping(page) {
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await palette(page, "Eager: Toggle Follow Mode");
  await until("follow mode on", async () => {
    await snapshot(page);
    return result.toastsSeen.some((t) => t.includes("follow mode on"));
  }, 30000, 200);
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  step("follow mode on");
  result.afterSteps = [];
  for (const st of params.steps) {
    for (const ch of st.text) {
      if (ch === "\n") await page.keyboard.press("Enter");
      else await page.keyboard.type(ch);
      await sleep(st.keyDelayMs ?? 60);
    }
    await sleep(st.pauseMs);
    const snap = await snapshot(page);
    result.afterSteps.push({ typed: st.text, squiggles: snap.squiggles, decorations: snap.decorations.map((d) => d.text), text: snap.text });
    step(`typed ${JSON.stringify(st.text)} and paused`);
  }
  result.final = await snapshot(page);
}
