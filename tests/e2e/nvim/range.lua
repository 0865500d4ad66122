-- :'<,'>EagerGenerate: the generated code replaces the selected lines.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  -- select the lines as a user would, then run the command on the visual range
  vim.api.nvim_win_set_cursor(0, { H.params.line1, 0 })
  vim.cmd("normal! V" .. (H.params.line2 - H.params.line1) .. "j\27")
  vim.cmd("'<,'>EagerGenerate " .. H.params.prompt)
  H.wait_done()
  H.wait(H.params.settle_ms or 10000, function()
    return #require("eager").results(buf) >= (H.params.expect_results or 1)
  end)
  H.snapshot(buf, client)
end)
