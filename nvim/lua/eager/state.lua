-- What the eager server has told us, per document URI. Chunk results are anchored to the
-- buffer with extmarks, so they move with edits as the server's own copy does.
local M = {}

M.ns = vim.api.nvim_create_namespace("eager.results")

---@class eager.DocState
---@field status? table        last eager/status notification
---@field summary? table       last eager/generationSummary notification
---@field results table[]      eager/chunkResult notifications still valid (any order)
---@field follow boolean       follow mode as last confirmed by the server

---@type table<string, eager.DocState>
M.docs = {}

---@param uri string
---@return eager.DocState
function M.get(uri)
  local doc = M.docs[uri]
  if not doc then
    doc = { results = {}, follow = false }
    M.docs[uri] = doc
  end
  return doc
end

---@param buf? integer
---@return eager.DocState
function M.for_buf(buf)
  if not buf or buf == 0 then
    buf = vim.api.nvim_get_current_buf()
  end
  return M.get(vim.uri_from_bufnr(buf))
end

--- The loaded buffer of a URI, or nil (never creates one).
---@param uri string
---@return integer?
local function loaded_buf(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  local buf = ok and vim.fn.bufnr(fname) or -1
  return (buf > 0 and vim.api.nvim_buf_is_loaded(buf)) and buf or nil
end

--- First and last 0-based line of a chunk result, where it is now.
---@param r eager.ChunkResultParams
---@return integer first, integer last
function M.lines_of(r)
  if r._mark and vim.api.nvim_buf_is_valid(r._buf) then
    local pos = vim.api.nvim_buf_get_extmark_by_id(r._buf, M.ns, r._mark, { details = true })
    if pos[1] then
      return pos[1], math.max(pos[1], pos[3] and pos[3].end_row or pos[1])
    end
  end
  local range = r.chunk.range
  local first = range and range.start.line or r.chunk.startLine or 0
  local last = range and range["end"].line or r.chunk.endLine or first
  return first, last
end

---@param r table
local function forget(r)
  if r._mark and vim.api.nvim_buf_is_valid(r._buf) then
    pcall(vim.api.nvim_buf_del_extmark, r._buf, M.ns, r._mark)
  end
end

--- Forget the results of `uri` for which `gone(r)` is true (their marks too).
---@param uri string
---@param gone fun(r: table): boolean
local function forget_where(uri, gone)
  local doc = M.get(uri)
  local keep = {}
  for _, r in ipairs(doc.results) do
    if gone(r) then
      forget(r)
    else
      keep[#keep + 1] = r
    end
  end
  doc.results = keep
end

--- Drop the results on lines [from, to] (to = nil: to the end).
---@param uri string
---@param from integer
---@param to? integer
function M.drop(uri, from, to)
  forget_where(uri, function(r)
    local first, last = M.lines_of(r)
    return last >= from and (to == nil or first <= to)
  end)
end

--- Store a chunk result; it replaces any result on the lines it covers, and an earlier result
--- of the same statement (the server ledger's statementId) wherever it has moved.
---@param p eager.ChunkResultParams
function M.add_result(p)
  local range = p.chunk.range
  local first = range and range.start.line or p.chunk.startLine or 0
  local last = range and range["end"].line or p.chunk.endLine or first
  M.drop(p.uri, first, last)
  if p.statementId ~= nil then
    forget_where(p.uri, function(r)
      return r.statementId == p.statementId
    end)
  end
  local buf = loaded_buf(p.uri)
  if buf and last < vim.api.nvim_buf_line_count(buf) then
    local ok, id = pcall(vim.api.nvim_buf_set_extmark, buf, M.ns, first, 0, { end_row = last, end_col = 0 })
    if ok then
      p._buf, p._mark = buf, id
    end
  end
  table.insert(M.get(p.uri).results, p)
end

--- Chunk results of a document in document order.
---@param uri string
---@return table[]
function M.sorted_results(uri)
  local list = vim.list_extend({}, M.get(uri).results)
  table.sort(list, function(a, b)
    local la, lb = M.lines_of(a), M.lines_of(b)
    if la ~= lb then
      return la < lb
    end
    return a.chunk.index < b.chunk.index
  end)
  return list
end

return M
