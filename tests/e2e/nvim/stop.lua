-- :EagerStop while code is still streaming in.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  vim.cmd("EagerGenerate " .. H.params.prompt)
  -- stop once the first statement has run
  H.wait(H.timeout, function()
    return #require("eager").results(buf) >= 1
  end)
  vim.cmd("EagerStop")
  H.wait_done()
  H.wait(2000, function()
    local s = require("eager").status(buf)
    return s ~= nil and s.state == "idle"
  end)
  H.snapshot(buf, client)
end)
