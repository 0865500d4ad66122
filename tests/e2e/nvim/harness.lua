-- Shared helpers for the headless Neovim end-to-end scenarios. A scenario is run as
--   nvim --headless --clean -u NONE --cmd "set rtp^=<repo>/nvim" -l <scenario>.lua
-- with its parameters as JSON in $EAGER_E2E_PARAMS. It records what it sees in H.result and
-- prints it as one line "EAGER_RESULT <json>"; the pytest wrapper makes the assertions.
local H = {}

-- has("python3") in the python ftplugin probes for pynvim (seconds); no provider is needed here
vim.g.loaded_python3_provider = 0

H.params = vim.json.decode(os.getenv("EAGER_E2E_PARAMS") or "{}")
H.timeout = H.params.timeout_ms or 60000
if H.params.lsp_log_level then
  vim.lsp.log.set_level(H.params.lsp_log_level) -- e.g. "debug": the messages go to lsp.log
end

H.result = {
  notifications = {}, -- { msg, level } from vim.notify
  statuses = {}, -- eager/status states in arrival order (consecutive duplicates dropped)
  events = {}, -- User autocmd patterns in arrival order, with a time in ms
  chunk_results = 0,
}

local t0 = vim.uv.hrtime()
local function now_ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end
H.now_ms = now_ms

-- Record notifications (the plugin's messages, and the server's window/showMessage) instead of
-- only echoing them.
vim.notify = function(msg, level, opts)
  table.insert(H.result.notifications, { msg = tostring(msg), level = level or vim.log.levels.INFO, ms = now_ms() })
  io.stderr:write("notify: " .. tostring(msg) .. "\n")
end

--- require("eager").setup with the test's python, settings and a server log file.
---@param extra? table
function H.setup(extra)
  local p = H.params
  -- the plugin's own default command (cwd-safe), plus a log file
  local cmd = { p.python, "-c", require("eager").SERVER_MAIN, "serve" }
  if p.server_log then
    vim.list_extend(cmd, { "--log-file", p.server_log })
  end
  -- Scenarios trust their folder unless they test trust itself (trust.lua).
  local base = { cmd = cmd, settings = p.settings or {}, trust = p.trust or "always" }
  require("eager").setup(vim.tbl_deep_extend("force", base, extra or {}))

  -- the version each buffer's last diagnostics named (H.diagnosed)
  local publish = vim.lsp.handlers["textDocument/publishDiagnostics"]
  vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, params, ctx, config)
    if params and params.version then
      H.diagnosed_version[params.uri] = params.version
    end
    return publish(err, params, ctx, config)
  end
  for _, pattern in ipairs({ "EagerStatus", "EagerChunkResult", "EagerStale", "EagerDone" }) do
    vim.api.nvim_create_autocmd("User", {
      pattern = pattern,
      callback = function(ev)
        table.insert(H.result.events, { name = pattern, ms = now_ms() })
        if pattern == "EagerStatus" then
          local states = H.result.statuses
          if states[#states] ~= ev.data.state then
            states[#states + 1] = ev.data.state
          end
        elseif pattern == "EagerChunkResult" then
          H.result.chunk_results = H.result.chunk_results + 1
          if H.result.chunk_results == 1 then
            -- what the buffer and the status were when the first value arrived
            local buf = vim.uri_to_bufnr(ev.data.uri)
            H.result.lines_at_first_result = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
            local s = require("eager").status(buf)
            H.result.state_at_first_result = s and s.state or nil
          end
        elseif pattern == "EagerDone" then
          H.result.summary = ev.data
          H.result.summaries = (H.result.summaries or 0) + 1
        end
      end,
    })
  end
end

H.diagnosed_version = {}

--- Wait until the server's diagnostics name the buffer's last version the client sent (the
--- server sends them again, unchanged, once typing pauses): its view of the text as it is.
---@param buf integer
---@return boolean
function H.diagnosed(buf)
  local uri = vim.uri_from_bufnr(buf)
  return H.wait(H.timeout, function()
    return H.diagnosed_version[uri] == vim.lsp.util.buf_versions[buf]
  end)
end

---@param ms integer
---@param pred fun(): boolean
---@return boolean
function H.wait(ms, pred)
  return vim.wait(ms, pred, 20) == true
end

--- Open a file and wait until the eager client is attached and initialized.
---@param path string
---@return integer buf, vim.lsp.Client client
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client
  local ok = H.wait(H.timeout, function()
    client = require("eager").client(buf)
    return client ~= nil and client.initialized == true
  end)
  H.result.attached = ok
  H.opened_ms = now_ms()
  H.result.filetype = vim.bo[buf].filetype
  assert(ok, "the eager client did not attach to " .. path)
  return buf, client
end

--- Wait until a generation/run summary arrives and the server reports idle again.
---@param ms? integer
---@return boolean
function H.wait_done(ms)
  local ok = H.wait(ms or H.timeout, function()
    return H.result.summary ~= nil
  end)
  H.result.done = ok
  return ok
end

---@param label string|table
local function label_text(label)
  if type(label) == "string" then
    return label
  end
  local parts = {}
  for _, part in ipairs(label) do
    parts[#parts + 1] = part.value
  end
  return table.concat(parts)
end

--- Inlay hints for the whole buffer, asked of the server directly.
---@param buf integer
---@param client vim.lsp.Client
function H.inlay_hints(buf, client)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = {
      start = { line = 0, character = 0 },
      ["end"] = { line = vim.api.nvim_buf_line_count(buf), character = 0 },
    },
  }
  local resp, err = client:request_sync("textDocument/inlayHint", params, 10000, buf)
  if not resp then
    return nil, tostring(err)
  end
  if resp.err then
    return nil, vim.inspect(resp.err)
  end
  local hints = {}
  for _, h in ipairs(resp.result or {}) do
    local tooltip = h.tooltip
    if type(tooltip) == "table" then
      tooltip = tooltip.value
    end
    hints[#hints + 1] = {
      line = h.position.line,
      character = h.position.character,
      label = label_text(h.label),
      tooltip = tooltip,
    }
  end
  return hints
end

--- Inlay hints Neovim itself holds for display (what a user sees).
---@param buf integer
function H.displayed_hints(buf)
  local hints = {}
  for _, item in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    local h = item.inlay_hint
    hints[#hints + 1] = { line = h.position.line, label = label_text(h.label) }
  end
  return hints
end

---@param buf integer
function H.diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    out[#out + 1] = { lnum = d.lnum, col = d.col, message = d.message, source = d.source, severity = d.severity }
  end
  table.sort(out, function(a, b)
    return a.lnum < b.lnum
  end)
  return out
end

--- Buffer text, results, hints, diagnostics and statusline of a buffer into H.result.
---@param buf integer
---@param client vim.lsp.Client
function H.snapshot(buf, client)
  local r = H.result
  r.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  r.text = table.concat(r.lines, "\n")
  r.diagnostics = H.diagnostics(buf)
  r.inlay_hints, r.inlay_hint_error = H.inlay_hints(buf, client)
  -- Neovim fetches the hints it displays on its own after workspace/inlayHint/refresh: give it
  -- time to catch up with the server's answer.
  H.wait(5000, function()
    local shown = H.displayed_hints(buf)
    return r.inlay_hints ~= nil and #shown == #r.inlay_hints
  end)
  r.displayed_hints = H.displayed_hints(buf)
  r.inlay_hints_enabled = vim.lsp.inlay_hint.is_enabled({ bufnr = buf })
  r.results = require("eager").results(buf)
  r.status = require("eager").status(buf)
  r.statusline = require("eager").statusline(buf)
end

--- The headings ("# line 2: ok") :EagerOutput shows for `file` now.
---@param file string
---@return string[]
function H.output_headings(file)
  vim.cmd("EagerOutput")
  local out = vim.fn.bufnr("eager://output/" .. vim.fn.fnamemodify(file, ":t"))
  local heads = {}
  for _, line in ipairs(vim.api.nvim_buf_get_lines(out, 0, -1, false)) do
    if line:sub(1, 2) == "# " then
      heads[#heads + 1] = line
    end
  end
  return heads
end

--- Print the result, stop the servers and quit. Never returns.
function H.finish()
  H.result.elapsed_ms = now_ms()
  H.result.opened_ms = H.opened_ms
  io.stdout:write("EAGER_RESULT " .. vim.json.encode(H.result) .. "\n")
  io.stdout:flush()
  local clients = vim.lsp.get_clients()
  for _, c in ipairs(clients) do
    c:stop()
  end
  H.wait(5000, function()
    for _, c in ipairs(clients) do
      if not c:is_stopped() then
        return false
      end
    end
    return true
  end)
  vim.cmd("qa!")
end

--- Run a scenario, recording a Lua error instead of dying with it, then finish.
---@param fn fun()
function H.run(fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.result.error = tostring(err)
  end
  H.finish()
end

return H
