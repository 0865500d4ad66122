-- What the eager server has told us, per document URI.
local M = {}

---@class eager.DocState
---@field status? table        last eager/status notification
---@field summary? table       last eager/generationSummary notification
---@field results table<integer, table>  eager/chunkResult notifications by chunk index
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

--- Chunk results of a document in document order.
---@param uri string
---@return table[]
function M.sorted_results(uri)
  local list = vim.tbl_values(M.get(uri).results)
  table.sort(list, function(a, b)
    return a.chunk.index < b.chunk.index
  end)
  return list
end

return M
