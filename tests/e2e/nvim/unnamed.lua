-- :EagerGenerate in a new buffer that has no file yet (`:enew`, `:set ft=python`): it says to
-- save the buffer first, and nothing starts (no prompt is asked for); once saved (`:w`), the
-- generation writes and runs its code.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  vim.cmd("enew")
  vim.bo.filetype = "python"
  local buf = vim.api.nvim_get_current_buf()
  local eager = require("eager")
  local r = H.result
  local asked = 0
  vim.ui.input = function()
    asked = asked + 1
  end
  r.attached = H.wait(H.timeout, function()
    local c = eager.client(buf)
    return c ~= nil and c.initialized == true
  end)
  vim.cmd("EagerGenerate")
  r.asked_for_prompt = asked
  vim.cmd("EagerGenerate " .. H.params.prompt)
  -- (a generation that started would end with a summary: give it the time)
  H.wait(3000, function()
    return r.summary ~= nil
  end)
  r.summary_unsaved = r.summary or vim.NIL
  r.notes_unsaved = vim.tbl_map(function(n)
    return n.msg
  end, r.notifications)
  r.lines_unsaved = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

  vim.cmd.write(vim.fn.fnameescape(H.params.file))
  r.uri_after_write = vim.uri_from_bufnr(buf)
  vim.cmd("EagerGenerate " .. H.params.prompt)
  H.wait_done()
  H.wait(10000, function()
    return #eager.results(buf) >= H.params.expect_results
  end)
  r.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  r.results = eager.results(buf)
end)
