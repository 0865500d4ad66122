-- :EagerFollow on, then statements appended to the buffer (as a person or another tool would)
-- run once complete; :EagerFollow toggles it off again.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local eager = require("eager")
  local r = H.result
  vim.cmd("EagerFollow on")
  H.wait(H.timeout, function()
    return #r.notifications > 0 -- "eager: follow on" (or the server's refusal)
  end)
  r.statusline_follow = eager.statusline(buf)
  if not r.statusline_follow:find("follow", 1, true) then
    return
  end
  -- type the lines one by one, each followed by a newline
  for i, line in ipairs(H.params.lines) do
    local last = vim.api.nvim_buf_line_count(buf)
    local cur = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1]
    if i == 1 and cur == "" then
      vim.api.nvim_buf_set_lines(buf, 0, 1, false, { line, "" })
    else
      vim.api.nvim_buf_set_lines(buf, last - 1, last, false, { line, "" })
    end
    vim.wait(100)
  end
  H.wait(H.timeout, function()
    return #eager.results(buf) >= H.params.expect_results
  end)
  H.wait(10000, function()
    local hints = H.inlay_hints(buf, client) or {}
    return #hints >= H.params.expect_results
  end)
  -- Everything typed has run: follow mode waits, it does not claim to run.
  H.wait(10000, function()
    return eager.statusline(buf) == "eager: idle (follow)"
  end)
  r.statusline_waiting = eager.statusline(buf)
  H.snapshot(buf, client)
  vim.cmd("EagerFollow")
  H.wait(H.timeout, function()
    return not eager.statusline(buf):find("follow", 1, true)
  end)
  r.statusline_after_toggle = eager.statusline(buf)
end)
