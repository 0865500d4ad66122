-- :EagerGenerate with repair.mode "auto": the script fails, the server repairs it on its own
-- through the plugin's stream edits, and the buffer ends with the repaired code. The repair's
-- first edit (replacing the failing statement) used to count as the user's edit inside the
-- generated text: it stopped at once, the model never asked, the failing line deleted.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local summaries = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerDone",
    callback = function(ev)
      summaries[#summaries + 1] = ev.data
    end,
  })
  vim.cmd("EagerGenerate " .. H.params.prompt)
  H.wait(H.timeout, function()
    return #summaries >= H.params.summaries
  end)
  H.wait(10000, function()
    local s = require("eager").status(buf)
    return s ~= nil and s.state == "idle" and #vim.diagnostic.get(buf) == 0
  end)
  H.snapshot(buf, client)
  H.result.summaries = summaries
end)
