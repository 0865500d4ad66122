-- The user edits a generated line while the model is stalled in the middle of a later line (the
-- server wrote that partial line after its wait): the generation stops at the edit, and the
-- unfinished line, which never ran, is removed as a stop removes it.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  vim.api.nvim_win_set_cursor(0, H.params.cursor or { 1, 0 })
  vim.cmd("EagerGenerate " .. H.params.prompt)
  local function row_of(text)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if l == text then
        return i - 1
      end
    end
  end
  H.result.partial_seen = H.wait(H.timeout, function()
    return row_of(H.params.unfinished) ~= nil
  end)
  H.result.lines_before_edit = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local row = row_of(H.params.edit_from)
  if row ~= nil and H.params.append then
    -- typed at the line's end (as `A` does): an insertion there, not a new line
    local col = #H.params.edit_from
    vim.api.nvim_buf_set_text(buf, row, col, row, col, { H.params.edit_to:sub(col + 1) })
  elseif row ~= nil then
    vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { H.params.edit_to })
  end
  -- the model goes on once the edit is made (the test waits for this file)
  local f = io.open(H.params.marker, "w")
  if f then
    f:close()
  end
  H.wait_done()
  H.snapshot(buf, client)
end)
