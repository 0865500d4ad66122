-- :EagerRun a file whose code ignores SIGINT, then :EagerStop: the interrupt cannot land, the
-- interpreter is killed after the grace period, and the user is told its state is lost.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local eager = require("eager")
  local r = H.result
  vim.cmd("EagerRun")
  -- the statements before the sleep have run (kept, the import, the handler)
  H.wait(H.timeout, function()
    return #eager.results(buf) >= 3
  end)
  vim.wait(300)
  local n = #r.notifications
  vim.cmd("EagerStop")
  H.wait(H.timeout, function()
    for i = n + 1, #r.notifications do
      if r.notifications[i].msg:find("state is lost", 1, true) then
        return true
      end
    end
    return false
  end)
  H.wait(10000, function()
    return eager.statusline(buf) ~= "eager: running"
  end)
  r.after_stop = vim.list_slice(r.notifications, n + 1)
  r.statusline_stopped = eager.statusline(buf)
  H.snapshot(buf, client)
end)
