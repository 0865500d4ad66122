-- A generation's stream has ended, its loop still runs, the statement behind it waits; the
-- user undoes the generated text (`u`): the statement that waited never runs.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd("EagerGenerate " .. H.params.prompt)
  -- everything written (the stream is over), and the loop running
  H.wait(H.timeout, function()
    local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
    local s = require("eager").status(buf)
    return text:find(H.params.last_line, 1, true) ~= nil and s ~= nil and (s.chunksRunning or 0) > 0
  end)
  H.result.before_undo = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  vim.cmd("normal! u")
  H.result.after_undo = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  -- the server has the undo once it has answered a request sent after it
  H.inlay_hints(buf, client)
  local go = io.open(H.params.go, "w")
  go:close()
  H.wait_done()
  H.snapshot(buf, client)
end)
