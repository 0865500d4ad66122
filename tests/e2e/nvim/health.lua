-- :checkhealth eager, with the server running for a Python buffer.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  H.open(H.params.file)
  vim.cmd("checkhealth eager")
  H.result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end)
