-- Handlers for the server's custom notifications (docs/protocol.md). Values are shown by the
-- standard inlay hints and errors by diagnostics; these keep the rest for the statusline,
-- :EagerOutput and User autocmds (EagerStatus, EagerChunkResult, EagerStale, EagerDone).
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

---@param err any  the summary's error: a string, an object like chunkResult's, or null
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

---@param p table  eager/generationSummary params
---@return string message, integer level
function M.summary_message(p)
  local parts = {}
  local elapsed = tonumber(p.elapsedS) or 0
  local err = describe_error(p.error)
  if p.stoppedEarly then
    parts[#parts + 1] = ("eager: stopped early after %.1f s"):format(elapsed)
  else
    parts[#parts + 1] = ("eager: done in %.1f s"):format(elapsed)
  end
  local saved = tonumber(p.savedS)
  if saved and saved > 0.05 then
    parts[#parts + 1] = (", %.1f s saved"):format(saved)
  end
  if err then
    parts[#parts + 1] = " (" .. err .. ")"
  end
  local level = (p.stoppedEarly or err) and vim.log.levels.WARN or vim.log.levels.INFO
  return table.concat(parts), level
end

M.handlers = {}

M.handlers["eager/status"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  local doc = state.get(p.uri)
  local prev = doc.status
  doc.status = p
  if p.state == "error" and present(p.message) and not (prev and prev.state == "error" and prev.message == p.message) then
    -- An exception in the executed code is already a diagnostic (and in the summary): only
    -- failures of the server itself (endpoint down, 401, ...) are worth a message here.
    local from_code = false
    for _, r in pairs(doc.results) do
      if describe_error(r.error) == p.message then
        from_code = true
      end
    end
    if not from_code then
      notify("eager: " .. p.message, vim.log.levels.ERROR)
    end
  end
  pcall(vim.cmd.redrawstatus)
  emit("EagerStatus", p)
end

M.handlers["eager/chunkResult"] = function(_, p)
  if type(p) ~= "table" or not p.uri or type(p.chunk) ~= "table" then
    return
  end
  state.get(p.uri).results[p.chunk.index] = p
  require("eager.output").refresh(p.uri)
  emit("EagerChunkResult", p)
end

M.handlers["eager/stale"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  local from = tonumber(p.fromLine) or 0
  local doc = state.get(p.uri)
  for index, r in pairs(doc.results) do
    local last = r.chunk.range and r.chunk.range["end"].line or r.chunk.endLine
    if last and last >= from then
      doc.results[index] = nil
    end
  end
  require("eager.output").refresh(p.uri)
  emit("EagerStale", p)
end

M.handlers["eager/generationSummary"] = function(_, p)
  if type(p) ~= "table" or not p.uri then
    return
  end
  state.get(p.uri).summary = p
  local msg, level = M.summary_message(p)
  notify(msg, level)
  pcall(vim.cmd.redrawstatus)
  emit("EagerDone", p)
end

return M
