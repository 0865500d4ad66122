-- :EagerDetail: the result on a line as the server keeps it (eager.resultDetail), whole: the
-- inlay hints, the hover and eager/chunkResult are cut to their caps (docs/protocol.md,
-- "Limits"). It opens in a read-only scratch split (filetype `eager-detail`, `q` closes it),
-- rendered as :EagerOutput renders a result (output.lua), one buffer per document.
local M = {}

---@type table<string, integer>  document URI -> its detail buffer
local buffers = {}

M.FILETYPE = "eager-detail"

--- The name of a buffer's file for messages and headers.
---@param buf integer
---@return string
function M.file_label(buf)
  local name = vim.api.nvim_buf_get_name(buf)
  return name ~= "" and vim.fn.fnamemodify(name, ":t") or "[No Name]"
end

--- Close the detail window (the buffer goes with it) and go back to the window it was opened
--- from; in the last window, the buffer goes.
---@param buf integer
local function close(buf)
  local back = vim.b[buf].eager_detail_from
  -- (the last window cannot be closed: then the buffer goes, and another one shows there)
  if not pcall(vim.cmd.close) then
    vim.cmd.bwipeout({ args = { tostring(buf) }, bang = true })
  end
  if back and vim.api.nvim_win_is_valid(back) then
    vim.api.nvim_set_current_win(back)
  end
end

--- The detail buffer of a document, made when it has none.
---@param uri string
---@param file string
---@return integer
local function buffer_for(uri, file)
  local buf = buffers[uri]
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf
  end
  buf = vim.api.nvim_create_buf(false, true) -- 'buftype' nofile, no swap file
  vim.bo[buf].bufhidden = "wipe" -- closed, it is gone: the server keeps the result
  vim.bo[buf].undolevels = -1
  vim.bo[buf].modifiable = false
  -- (two files of the same name: the second buffer keeps no name rather than failing)
  pcall(vim.api.nvim_buf_set_name, buf, "eager://detail/" .. file)
  vim.bo[buf].filetype = M.FILETYPE
  vim.keymap.set("n", "q", function()
    close(buf)
  end, { buffer = buf, nowait = true, desc = "eager: close the detail" })
  buffers[uri] = buf
  return buf
end

--- Show an eager.resultDetail answer about `source_buf` in its detail buffer, in a split (or
--- the window that shows it already), with the cursor there at the top.
---@param source_buf integer
---@param detail eager.ChunkResultParams|eager.SyntaxErrorDetail
---@return integer buf
function M.open(source_buf, detail)
  local file = M.file_label(source_buf)
  local lines = require("eager.output").detail_lines(detail, file)
  local buf = buffer_for(vim.uri_from_bufnr(source_buf), file)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  local from = vim.api.nvim_get_current_win()
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  if from ~= win then
    vim.b[buf].eager_detail_from = from
  end
  vim.api.nvim_win_set_cursor(win, { 1, 0 })
  return buf
end

return M
