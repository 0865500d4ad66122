-- :EagerDetail: the result on a line as the server keeps it (eager.resultDetail), whole: the
-- inlay hints, the hover and eager/chunkResult are cut to their caps (docs/protocol.md,
-- "Limits"). It opens in a read-only scratch split (filetype `eager-detail`, `q` closes it),
-- rendered as :EagerOutput renders a result (output.lua). A statement still running shows as
-- running, with the end of its output so far; a syntax error, its line with a caret.
-- One buffer per statement, named after its document and first line
-- (`eager://detail/<path as :ls shows it>:<line>`: two files of the same name, or two statements
-- of one file, never share a name); asking again about the same statement reuses its buffer.
-- A detail window already open shows the next one, so they do not pile up in splits.
local M = {}

---@type table<string, integer>  document URI and statement line ("uri:line") -> its buffer
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

--- The buffer name of the detail of the statement at 0-based `line` of `uri`.
---@param uri string
---@param line integer
---@return string
function M.buffer_name(uri, line)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  local path = ok and vim.fn.fnamemodify(fname, ":~:.") or uri
  return ("eager://detail/%s:%d"):format(path, line + 1)
end

--- The detail buffer of a statement (its document and first line), made when it has none.
---@param uri string
---@param line integer  0-based
---@return integer
local function buffer_for(uri, line)
  local key = uri .. ":" .. line
  local buf = buffers[key]
  if buf and vim.api.nvim_buf_is_valid(buf) then
    return buf
  end
  buf = vim.api.nvim_create_buf(false, true) -- 'buftype' nofile, no swap file
  vim.bo[buf].bufhidden = "wipe" -- closed, it is gone: the server keeps the result
  vim.bo[buf].undolevels = -1
  vim.bo[buf].modifiable = false
  -- (a name is only taken by a buffer the plugin lost track of, e.g. reloaded: then none)
  pcall(vim.api.nvim_buf_set_name, buf, M.buffer_name(uri, line))
  vim.bo[buf].filetype = M.FILETYPE
  vim.keymap.set("n", "q", function()
    close(buf)
  end, { buffer = buf, nowait = true, desc = "eager: close the detail" })
  buffers[key] = buf
  return buf
end

--- The first line of the statement an answer is about (0-based).
---@param detail eager.ChunkResultParams|eager.SyntaxErrorDetail|eager.RunningDetail
---@return integer
local function first_line(detail)
  if type(detail.syntaxError) == "table" then
    return tonumber(detail.syntaxError.line) or 0
  end
  if detail.running == true then
    return tonumber(detail.startLine) or 0
  end
  return (require("eager.state").lines_of(detail))
end

--- A window of the current tab page that shows a detail buffer, or nil.
---@return integer?
local function detail_window()
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.bo[vim.api.nvim_win_get_buf(win)].filetype == M.FILETYPE then
      return win
    end
  end
  return nil
end

--- Show an eager.resultDetail answer about `source_buf` in its statement's detail buffer: in
--- the window that shows it already, else in a window that shows another detail, else in a new
--- split; the cursor there at the top.
---@param source_buf integer
---@param detail eager.ChunkResultParams|eager.SyntaxErrorDetail|eager.RunningDetail
---@return integer buf
function M.open(source_buf, detail)
  local file = M.file_label(source_buf)
  local code
  if type(detail.syntaxError) == "table" then
    local at = tonumber(detail.syntaxError.line) or 0
    code = vim.api.nvim_buf_get_lines(source_buf, at, at + 1, false)[1]
  end
  local lines = require("eager.output").detail_lines(detail, file, code)
  local buf = buffer_for(vim.uri_from_bufnr(source_buf), first_line(detail))
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  local from = vim.api.nvim_get_current_win()
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    win = detail_window()
    if win == nil then
      vim.cmd("botright split")
      win = vim.api.nvim_get_current_win()
    else
      -- the detail shown there goes (its buffer is wiped); `q` here goes back where that one came from
      if from == win then
        from = vim.b[vim.api.nvim_win_get_buf(win)].eager_detail_from or from
      end
      vim.api.nvim_set_current_win(win)
    end
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
