-- :EagerRun a file that blocks, :EagerInterrupt it, then :EagerRestart.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local eager = require("eager")
  local r = H.result
  vim.cmd("EagerRun")
  -- the first statement has run and the second (the sleep) is running
  H.wait(H.timeout, function()
    return #eager.results(buf) >= 1
  end)
  vim.wait(500)
  local n = #r.notifications
  vim.cmd("EagerInterrupt")
  H.wait(H.timeout, function()
    for i = n + 1, #r.notifications do
      if r.notifications[i].msg:find("interrupt", 1, true) then
        return true
      end
    end
    return false
  end)
  H.wait_done()
  H.wait(10000, function()
    return #vim.diagnostic.get(buf) > 0
  end)
  H.wait(10000, function()
    return eager.statusline(buf) ~= "eager: running"
  end)
  r.statusline_interrupted = eager.statusline(buf)
  -- :EagerOutput's text for the interrupted statement (its heading)
  r.output_interrupted = (require("eager.output").render(vim.uri_from_bufnr(buf)))
  H.snapshot(buf, client)
  n = #r.notifications
  vim.cmd("EagerRestart")
  H.wait(H.timeout, function()
    return #r.notifications > n
  end)
  r.after_restart = vim.list_slice(r.notifications, n + 1)
  H.wait(10000, function()
    return eager.statusline(buf) == "eager: idle · interpreter restarted"
  end)
  r.statusline_restarted = eager.statusline(buf)
end)
