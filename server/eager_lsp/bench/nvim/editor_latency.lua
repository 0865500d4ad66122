-- `eager-lsp bench --editor` (bench/editor_latency.py): one run in real headless Neovim.
--   nvim --headless --clean -u NONE --cmd "set rtp^=<plugin>" -l editor_latency.lua
-- with its parameters as JSON in $EAGER_BENCH_PARAMS. It sets the plugin up as a user would,
-- warms the server up with one short generation in another buffer, then generates the
-- measured script into an empty buffer with the plugin's own generate command and records,
-- per statement (its 0-based line), on vim.uv.hrtime() in milliseconds (CLOCK_MONOTONIC, the
-- clock the fake model server stamps its pieces with):
--   text_ms   the statement's final newline is in the buffer (nvim_buf_attach on_lines);
--   result_ms its eager/chunkResult arrived (the plugin's `User EagerChunkResult`);
--   hint_ms   Neovim holds an inlay hint on its line (vim.lsp.inlay_hint.get after Neovim's own
--             textDocument/inlayHint handler ran; Neovim drops an answer whose buffer version
--             is older than the buffer's, so this is what the user sees, not what was sent).
-- and, for the reading, when each workspace/inlayHint/refresh arrived (refresh_ms) and when each
-- inlay-hint answer for the buffer arrived, and whether Neovim dropped it (hint_answers_ms).
-- It prints one line "EAGER_BENCH_RESULT <json>" and quits. No judgement here: the Python side
-- computes the latencies.
vim.g.loaded_python3_provider = 0

local P = vim.json.decode(os.getenv("EAGER_BENCH_PARAMS") or "{}")
local timeout = P.timeout_ms or 120000
local out = {
  notifications = {},
  statements = {},
  hint_answers = 0,
  hint_answers_dropped = 0,
  refresh_ms = {},
  hint_answers_ms = {},
}

local function now()
  return vim.uv.hrtime() / 1e6
end

vim.notify = function(msg)
  table.insert(out.notifications, tostring(msg))
end

local function label_text(label)
  if type(label) == "string" then
    return label
  end
  local parts = {}
  for _, part in ipairs(label or {}) do
    parts[#parts + 1] = part.value
  end
  return table.concat(parts)
end

local done = {} -- uri -> eager/generationSummary
vim.api.nvim_create_autocmd("User", {
  pattern = "EagerDone",
  callback = function(ev)
    done[ev.data.uri] = ev.data
  end,
})

local function open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local ok = vim.wait(timeout, function()
    local c = require("eager").client(buf)
    return c ~= nil and c.initialized == true
  end, 20)
  assert(ok, "the eager client did not attach to " .. path)
  return buf
end

local function generate(buf, prompt)
  local uri = vim.uri_from_bufnr(buf)
  done[uri] = nil
  require("eager").generate(prompt, nil, buf)
  return uri
end

local function run()
  require("eager").setup({
    cmd = { P.python, "-c", require("eager").SERVER_MAIN, "serve" },
    settings = P.settings,
    trust = "always",
  })
  -- Warm-up: the first generation imports the model SDK and builds its client (once per
  -- server); the measured buffer's own interpreter starts when it opens (startOnOpen).
  local warm = open(P.warmup_file)
  local wuri = generate(warm, "[warmup] one line")
  assert(vim.wait(timeout, function()
    return done[wuri] ~= nil
  end, 20), "the warm-up generation did not finish")

  local buf = open(P.file)
  vim.wait(P.settle_ms or 2000, function()
    return false
  end, 50)
  local n = P.statements
  local text_ms, result_ms, hint_ms, elapsed, label, first_line = {}, {}, {}, {}, {}, {}
  local next_text = 0
  vim.api.nvim_buf_attach(buf, false, {
    on_lines = function(_, b)
      local t = now()
      local count = vim.api.nvim_buf_line_count(b)
      while next_text < n and count >= next_text + 2 do -- line k and the line after it exist
        text_ms[next_text] = t
        next_text = next_text + 1
      end
    end,
  })
  local uri = vim.uri_from_bufnr(buf)
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerChunkResult",
    callback = function(ev)
      local t = now()
      local p = ev.data
      if p.uri ~= uri then
        return
      end
      local k = p.chunk.endLine
      if result_ms[k] == nil then
        result_ms[k] = t
        first_line[k] = p.chunk.startLine
        elapsed[k] = p.timings and p.timings.elapsedMs or vim.NIL
      end
    end,
  })
  local original = vim.lsp.handlers["textDocument/inlayHint"]
  vim.lsp.handlers["textDocument/inlayHint"] = function(err, result, ctx, config)
    local r = original(err, result, ctx, config)
    if ctx.bufnr == buf then
      local t = now()
      out.hint_answers = out.hint_answers + 1
      local dropped = vim.lsp.util.buf_versions[buf] ~= ctx.version
      if dropped then
        out.hint_answers_dropped = out.hint_answers_dropped + 1
      end
      table.insert(out.hint_answers_ms, { t, dropped })
      for _, item in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
        local k = item.inlay_hint.position.line
        if hint_ms[k] == nil then
          hint_ms[k] = t
          label[k] = label_text(item.inlay_hint.label)
        end
      end
    end
    return r
  end

  local on_refresh = vim.lsp.handlers["workspace/inlayHint/refresh"]
  vim.lsp.handlers["workspace/inlayHint/refresh"] = function(err, result, ctx, config)
    table.insert(out.refresh_ms, now())
    return on_refresh(err, result, ctx, config)
  end

  out.generate_ms = now()
  generate(buf, P.prompt)
  out.done = vim.wait(timeout, function()
    return done[uri] ~= nil
  end, 20)
  -- the last values may still be on their way
  vim.wait(P.settle_ms or 2000, function()
    for k = 0, n - 1 do
      if hint_ms[k] == nil then
        return false
      end
    end
    return true
  end, 20)
  out.summary = done[uri]
  out.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for k = 0, n - 1 do
    out.statements[k + 1] = {
      line = k,
      text_ms = text_ms[k] or vim.NIL,
      result_ms = result_ms[k] or vim.NIL,
      hint_ms = hint_ms[k] or vim.NIL,
      elapsed_ms = elapsed[k] or vim.NIL,
      chunk_start = first_line[k] or vim.NIL,
      label = label[k] or vim.NIL,
    }
  end
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  out.error = tostring(err)
end
io.stdout:write("EAGER_BENCH_RESULT " .. vim.json.encode(out) .. "\n")
io.stdout:flush()
local clients = vim.lsp.get_clients()
for _, c in ipairs(clients) do
  c:stop()
end
vim.wait(5000, function()
  for _, c in ipairs(clients) do
    if not c:is_stopped() then
      return false
    end
  end
  return true
end, 20)
vim.cmd("qa!")
