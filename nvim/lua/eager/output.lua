-- :EagerOutput: a scratch buffer with each executed chunk's stdout, stderr, images (the PNG
-- files of its matplotlib figures, one path a line) and error, kept up to date while it is open.
local state = require("eager.state")

local M = {}

---@type table<string, integer>  document URI -> output buffer
local buffers = {}

---@param text any
---@param out string[]
local function add_text(text, out)
  if type(text) ~= "string" or text == "" then
    return
  end
  for _, line in ipairs(vim.split(text:gsub("\n$", ""), "\n", { plain = true })) do
    out[#out + 1] = line
  end
end

---@param uri string
---@return string[]
function M.render(uri)
  local out = {}
  for _, r in ipairs(state.sorted_results(uri)) do
    local first, last = state.lines_of(r)
    local label = first == last and ("line %d"):format(first + 1)
      or ("lines %d-%d"):format(first + 1, last + 1)
    local mark = r.skipped and "skipped" or (r.ok and "ok" or "error")
    local with = type(r.timings) == "table" and r.timings.parallelWith or nil
    if not r.skipped and type(with) == "table" and #with > 0 then
      -- gate `parallel`: the statements that ran at the same time, moved as far as this
      -- result moved since it was published (edits between them are not followed)
      local delta = first - (tonumber(r.chunk and r.chunk.startLine) or first)
      local shown = vim.tbl_map(function(l) return tostring(l + 1 + delta) end, with)
      mark = ("%s (in parallel with line%s %s)"):format(mark, #with == 1 and "" or "s", table.concat(shown, " "))
    end
    out[#out + 1] = ("# %s: %s"):format(label, mark)
    add_text(r.stdout, out)
    add_text(r.stderr, out)
    for _, image in ipairs(type(r.images) == "table" and r.images or {}) do
      out[#out + 1] = ("image (%s): %s"):format(image.label or "PNG", image.path)
    end
    if type(r.error) == "table" then
      add_text(r.error.traceback, out)
      if type(r.error.traceback) ~= "string" or r.error.traceback == "" then
        out[#out + 1] = require("eager.handlers").describe_error(r.error)
      end
    end
  end
  if #out == 0 then
    out[1] = "# no results yet"
  end
  return out
end

---@param uri string
function M.refresh(uri)
  local buf = buffers[uri]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    buffers[uri] = nil
    return
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.render(uri))
  vim.bo[buf].modifiable = false
end

--- Open (or show) the output buffer of a document in a split.
---@param source_buf integer
---@return integer buf
function M.open(source_buf)
  local uri = vim.uri_from_bufnr(source_buf)
  local buf = buffers[uri]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].filetype = "eager-output"
    pcall(vim.api.nvim_buf_set_name, buf, "eager://output/" .. vim.fn.fnamemodify(vim.uri_to_fname(uri), ":t"))
    buffers[uri] = buf
  end
  M.refresh(uri)
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.cmd("wincmd p")
  end
  return buf
end

return M
