-- :e! reloads the buffer: Neovim closes and reopens the document, which the server starts
-- afresh (no results). The plugin kept showing the old ones (results, :EagerOutput, an
-- "error" statusline) over a server that had none; after :bwipeout! and reopening the file,
-- too.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf = H.open(H.params.file)
  local r = H.result
  local eager = require("eager")
  vim.cmd("EagerRun")
  assert(H.wait_done(), "the run did not end")
  H.wait(5000, function()
    return #vim.diagnostic.get(buf) == 1
  end)
  r.before = { results = #eager.results(buf), statusline = eager.statusline(buf) }
  vim.cmd("edit!")
  r.reloaded = H.wait(10000, function()
    return #eager.results(buf) == 0 and eager.statusline(buf) == "eager: idle"
  end)
  r.after_reload = { results = #eager.results(buf), statusline = eager.statusline(buf) }
  vim.cmd("EagerRun")
  H.result.summary = nil
  assert(H.wait_done(), "the second run did not end")
  local path = vim.api.nvim_buf_get_name(buf)
  vim.cmd("bwipeout!")
  local again = H.open(path)
  vim.wait(500)
  r.after_wipe = { results = #eager.results(again), headings = H.output_headings(path) }
end)
