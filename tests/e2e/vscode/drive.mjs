// Drives a running code-server (real VS Code) in headless Chromium like a person would:
// opens a Python file, runs "Eager: Generate Code Here…" from the command palette, types the
// prompt, and watches what the editor shows. Prints one line `EAGER_RESULT {json}`; the
// assertions are made by tests/e2e/test_vscode.py.
//
//   EAGER_E2E='{"url": "...", "file": "a.py", "prompt": "...", "screenshot": "...png",
//               "expectText": ["x = 6 * 7"], "expectValue": "42", "timeoutMs": 90000}' node drive.mjs
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
