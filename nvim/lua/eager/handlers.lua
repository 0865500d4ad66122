-- Handlers for the server's custom notifications (docs/protocol.md). Values are shown by the
-- standard inlay hints and errors by diagnostics; these keep the rest for the statusline,
-- :EagerOutput and User autocmds (EagerStatus, EagerChunkResult, EagerOutput, EagerStale,
-- EagerDone).
local state = require("eager.state")

local M = {}

---@param v any
local function present(v)
  return v ~= nil and v ~= vim.NIL
end

---@param pattern string
---@param data table
local function emit(pattern, data)
  vim.api.nvim_exec_autocmds("User", { pattern = pattern, data = data, modeline = false })
end

local function notify(msg, level)
  if require("eager").config.notify then
    vim.notify(msg, level)
  end
end

---@param err eager.ErrorInfo|string|nil  a summary's error (a string) or a chunkResult's
---@return string?
local function describe_error(err)
  if not present(err) then
    return nil
  end
  if type(err) == "table" then
    if present(err.type) and present(err.message) then
      return err.type .. ": " .. err.message
    end
    return present(err.message) and tostring(err.message) or vim.inspect(err)
  end
  return tostring(err)
end
M.describe_error = describe_error

--- How long a run took, as a person reads it: seconds with one decimal ("4.1 s"), but
--- milliseconds under a tenth of a second ("60 ms": one decimal read "0.0 s" or "0.1 s").
---@param s number?
---@return string
function M.duration(s)
  local v = math.max(0, tonumber(s) or 0)
  if v < 0.0995 then
    return ("%d ms"):format(math.floor(v * 1000 + 0.5))
  end
  return ("%.1f s"):format(v)
end

--- "done" only when nothing went wrong: an `error` without `stoppedEarly` is a generation the
--- model ended (a dropped stream, an HTTP error: the server's `error` says which), "ended after".
--- The user's own end is no warning: a stop ("stopped early after …", no `error`) and an
--- interrupt (its KeyboardInterrupt: "interrupted after …") are INFO. A run whose interpreter
--- could not start (nothing ran, nothing stopped) says why, not "ended after 0 ms". A stopped
--- run claims no saving.
---@param p eager.GenerationSummaryParams
---@return string message, integer level
function M.summary_message(p)
  local parts = {}
  local elapsed = tonumber(p.elapsedS) or 0
  local took = M.duration(elapsed)
  local err = describe_error(p.error)
  local interrupted = p.stoppedEarly and err and err:find("^KeyboardInterrupt") ~= nil
  if err and not p.stoppedEarly and elapsed == 0 and (tonumber(p.chunks) or 0) == 0 then
    return "eager: " .. (err:gsub("^eager: ", "")), vim.log.levels.ERROR
  elseif interrupted then
    parts[#parts + 1] = ("eager: interrupted after %s"):format(took)
  elseif p.stoppedEarly then
    parts[#parts + 1] = ("eager: stopped early after %s"):format(took)
  elseif err then
    parts[#parts + 1] = ("eager: ended after %s"):format(took)
  else
    parts[#parts + 1] = ("eager: done in %s"):format(took)
  end
  local saved = tonumber(p.savedS)
  if saved and saved > 0.05 and not err and not p.stoppedEarly then
    parts[#parts + 1] = (", %s saved"):format(M.duration(saved))
  end
  if err then
    parts[#parts + 1] = " (" .. err .. ")"
  end
  local level = (err and not interrupted) and vim.log.levels.WARN or vim.log.levels.INFO
  return table.concat(parts), level
end

--- The eager/status message of a run the user ended with :EagerInterrupt or :EagerRestart
--- (server lsp/methods.py INTERRUPTED, RESTARTED; follow mode prefixes "following · "). The
--- command's own answer says how it went ("eager: interrupted", "eager: interrupted; the
--- interpreter had to restart …", "eager: interpreter restarted"), so the run's summary is not
--- notified as well: one user action, one message. (An eager/status arrives before its run's
--- summary.)
local TOLD_BY_THE_COMMAND = { ["interrupted"] = true, ["interpreter restarted"] = true }

---@param status eager.StatusParams?
---@return boolean
local function ended_by_a_command(status)
  if type(status) ~= "table" or status.state ~= "idle" or type(status.message) ~= "string" then
    return false
  end
  return TOLD_BY_THE_COMMAND[(status.message:gsub("^following · ", ""))] == true
end

M.handlers = {}

M.dedupe_ms = 300

---@type { text: string, at: integer }[]  the server's recent window/showMessage texts
local shown = {}

---@param text string
---@return boolean
local function shown_recently(text)
  local now = vim.uv.now()
  for _, m in ipairs(shown) do
    if now - m.at < 5000 and m.text:find(text, 1, true) then
      return true
    end
  end
  return false
end

M.handlers["window/showMessage"] = function(err, result, ctx, config)
  if type(result) == "table" and type(result.message) == "string" then
    table.insert(shown, { text = result.message, at = vim.uv.now() })
    if #shown > 20 then
      table.remove(shown, 1)
    end
  end
  return vim.lsp.handlers["window/showMessage"](err, result, ctx, config)
end

---@type table<string, integer>  uri -> changedtick right after the server's last edit
local last_tick = {}

-- workspace/applyEdit for the eager client. Neovim's own handler prints the edit's label for
-- every edit (one per streamed line here), and when the buffer changed since the version the
-- edit was made for, it skips the edit yet answers `applied = true`. The server writes
-- versioned edits while the user may be typing: tell it the truth so it can re-base and retry.
M.handlers["workspace/applyEdit"] = function(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(params) ~= "table" or type(params.edit) ~= "table" then
    return { applied = false, failureReason = "eager: invalid workspace/applyEdit" }
  end
  for _, change in ipairs(params.edit.documentChanges or {}) do
    local doc = change.textDocument
    local version = doc and doc.version
    -- (0 is a version: the buffer as opened, the first edit's when no didChange was sent)
    if type(version) == "number" and version >= 0 then
      local buf = vim.uri_to_bufnr(doc.uri)
      local current = vim.api.nvim_buf_is_loaded(buf) and vim.lsp.util.buf_versions[buf]
      if type(current) == "number" and current > version then
        return {
          applied = false,
          failureReason = ("the document changed (version %d, the edit is for %d)"):format(current, version),
        }
      end
    end
  end
  -- One generation is one undo step: join each edit to the previous one when nothing else
  -- changed the buffer in between (the user's own typing keeps its own undo steps).
  local uris = vim.tbl_keys(params.edit.changes or {})
  for _, change in ipairs(params.edit.documentChanges or {}) do
    if change.textDocument then
      uris[#uris + 1] = change.textDocument.uri
    end
  end
  local ok, err
  local function apply()
    ok, err = pcall(vim.lsp.util.apply_workspace_edit, params.edit, client.offset_encoding)
  end
  local buf = #uris == 1 and vim.fn.bufnr(vim.uri_to_fname(uris[1])) or -1
  if buf > 0 and vim.api.nvim_buf_is_loaded(buf) and last_tick[uris[1]] == vim.b[buf].changedtick then
    vim.api.nvim_buf_call(buf, function()
      pcall(vim.cmd.undojoin)
      apply()
    end)
  else
    apply()
  end
  for _, uri in ipairs(uris) do
    local b = vim.fn.bufnr(vim.uri_to_fname(uri))
    last_tick[uri] = (ok and b > 0) and vim.b[b].changedtick or nil
  end
  return { applied = ok, failureReason = (not ok) and tostring(err) or nil }
end

-- Generated text, written by the plugin itself at a region that moves with edits (stream.lua).
---@param p eager.StreamBeginParams|eager.StreamInsertParams|eager.StreamEndParams
M.handlers["eager/streamEdit"] = function(err, p, ctx)
  return require("eager.stream").handle(err, p, ctx)
end

---@param p eager.StatusParams
M.handlers["eager/status"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  local doc = state.get(p.uri)
  local prev = doc.status
  doc.status = p
  if p.state == "generating" or p.state == "running" then
    doc.work = (doc.work or 0) + 1 -- (counts work begun or going on: see the error below)
  end
  local work = doc.work
  if (p.state == "idle" or p.state == "error") and #doc.live > 0 then
    -- Nothing runs: a live output whose result never came (its lines were edited while it
    -- ran, or the run was stopped or lost its interpreter) is over too.
    state.clear_live(p.uri)
    require("eager.output").refresh(p.uri)
  end
  if p.state == "error" and present(p.message) and not (prev and prev.state == "error" and prev.message == p.message) then
    -- Say it unless it was said already: an exception in the executed code is a diagnostic,
    -- and the server reports most failures with window/showMessage (sent just before or after).
    -- (A re-run's status names its error after what ran: "re-ran 1 of 3 statements …;
    -- NameError: …". In follow mode that came as an ERROR notification at every pause in
    -- typing, the diagnostic on its line already saying it.)
    vim.defer_fn(function()
      if doc.work ~= work then
        return -- new work began meanwhile (an auto repair of this error): it says how it ends
      end
      for _, r in ipairs(doc.results) do
        local said = describe_error(r.error)
        if said and p.message:find(said, 1, true) then
          return
        end
      end
      -- (this server's diagnostics only: another linter's short message is no reason)
      local buf = vim.fn.bufnr(vim.uri_to_fname(p.uri))
      local client = buf > 0 and require("eager").client(buf) or nil
      local ours = client and vim.diagnostic.get(buf, { namespace = vim.lsp.diagnostic.get_namespace(client.id) })
      for _, d in ipairs(ours or {}) do
        if type(d.message) == "string" and d.message ~= "" and p.message:find(d.message, 1, true) then
          return
        end
      end
      if not shown_recently(p.message) then
        notify("eager: " .. p.message, vim.log.levels.ERROR)
      end
    end, M.dedupe_ms)
  end
  pcall(vim.cmd.redrawstatus)
  emit("EagerStatus", p)
end

---@param p eager.ChunkResultParams
M.handlers["eager/chunkResult"] = function(_, p)
  if type(p) ~= "table" or not p.uri or type(p.chunk) ~= "table" then
    return
  end
  -- The result replaces the statement's live output (eager/output) in :EagerOutput: its
  -- output starts with the text shown live, so that text stays and the rest follows it (a
  -- result whose output does not start with it shows whole, as a Jupyter kernel's cut one,
  -- unless it is `truncated`: then the live text, which has more, stays with a note).
  state.add_result(p)
  require("eager.output").refresh(p.uri)
  emit("EagerChunkResult", p)
end

-- What a statement still running printed since the last eager/output; :EagerOutput shows it
-- under "# line N: running" until the statement's eager/chunkResult.
---@param p eager.OutputParams
M.handlers["eager/output"] = function(_, p)
  if type(p) ~= "table" or not p.uri or type(p.chunk) ~= "table" then
    return
  end
  local live = state.add_output(p)
  require("eager.output").refresh_live(p.uri, live)
  emit("EagerOutput", p)
end

---@param p eager.StaleParams
M.handlers["eager/stale"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  state.drop(p.uri, tonumber(p.fromLine) or 0, tonumber(p.toLine))
  require("eager.output").refresh(p.uri)
  emit("EagerStale", p)
end

---@param p eager.GenerationSummaryParams
M.handlers["eager/generationSummary"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  local doc = state.get(p.uri)
  doc.summary = p
  last_tick[p.uri] = nil -- the next generation is a new undo step
  local err = describe_error(p.error)
  -- The server says why a generation stopped with window/showMessage as it stops (for every
  -- client); the summary would say it again a moment later. A run ended by :EagerInterrupt or
  -- :EagerRestart: the command said it.
  if not (err and shown_recently(err)) and not (p.stoppedEarly and ended_by_a_command(doc.status)) then
    local msg, level = M.summary_message(p)
    local fname = vim.uri_to_fname(p.uri)
    local buf = vim.fn.bufnr(fname)
    if p.stoppedEarly and not err and (buf < 0 or not vim.api.nvim_buf_is_loaded(buf)) then
      -- stopped because its buffer went away (:bd!): which one, with several generating
      msg = ("%s (%s was closed)"):format(msg, vim.fn.fnamemodify(fname, ":t"))
    end
    notify(msg, level)
  end
  pcall(vim.cmd.redrawstatus)
  emit("EagerDone", p)
end

return M
