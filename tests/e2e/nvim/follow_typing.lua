-- Follow mode while a person types one character at a time, with pauses in the middle of
-- lines: nothing runs until the line is left (a newline typed and the cursor off the line).
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local eager = require("eager")
  local api = vim.api
  local r = H.result
  r.errors = {}
  r.ran = {}
  api.nvim_create_autocmd("User", {
    pattern = "EagerChunkResult",
    callback = function(ev)
      local p = ev.data
      local lines = api.nvim_buf_get_lines(buf, p.chunk.startLine, p.chunk.endLine + 1, false)
      table.insert(r.ran, table.concat(lines, "\n"))
      if type(p.error) == "table" then
        table.insert(r.errors, (p.error.type or "?") .. ": " .. (p.error.message or ""))
      end
    end,
  })
  vim.cmd("EagerFollow on")
  H.wait(H.timeout, function()
    return eager.statusline(buf):find("follow", 1, true) ~= nil
  end)
  vim.cmd("startinsert")
  local function moved()
    api.nvim_exec_autocmds("CursorMovedI", { buffer = buf })
  end
  -- type `text` at the cursor, one character per change, pausing `pause_ms` after each one and
  -- `long_ms` after the characters listed in `stops`
  local function type_text(text, stops)
    for i = 1, #text do
      local row, col = unpack(api.nvim_win_get_cursor(0))
      local ch = text:sub(i, i)
      if ch == "\n" then
        api.nvim_buf_set_text(buf, row - 1, col, row - 1, col, { "", "" })
        api.nvim_win_set_cursor(0, { row + 1, 0 })
      else
        api.nvim_buf_set_text(buf, row - 1, col, row - 1, col, { ch })
        api.nvim_win_set_cursor(0, { row, col + 1 })
      end
      moved()
      vim.wait(H.params.pause_ms or 40)
      if stops[i] then
        vim.wait(H.params.long_ms or 900) -- a pause in the middle of the line
      end
    end
  end
  for _, step in ipairs(H.params.steps) do
    local stops = {}
    for _, i in ipairs(step.stops or {}) do
      stops[i] = true
    end
    type_text(step.text, stops)
  end
  H.wait(H.timeout, function()
    return #eager.results(buf) >= H.params.expect_results
  end)
  vim.wait(H.params.settle_ms or 1000)
  vim.cmd("stopinsert")
  H.snapshot(buf, client)
end)
