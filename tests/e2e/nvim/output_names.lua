-- :EagerOutput of two files of the same name (p/a.py, q/a.py), fed synthetic results (no
-- server needed): each output buffer is named after its file's path, not left unnamed; and a
-- name already taken (a buffer the plugin does not know) falls back to the full path.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ filetypes = { "eager-test-none" } }) -- no server: notifications are fed by hand
  local handlers = require("eager.handlers").handlers
  local r = H.result
  r.outputs = {}
  local taken = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(taken, "eager://output/r/a.py")
  for _, path in ipairs(H.params.files) do
    vim.cmd.edit(vim.fn.fnameescape(path))
    local uri = vim.uri_from_bufnr(0)
    handlers["eager/chunkResult"](nil, {
      uri = uri, version = 1, ok = true, skipped = false, values = {}, stderr = "",
      stdout = "from " .. path .. "\n",
      chunk = { index = 0, startLine = 0, endLine = 0,
        range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 5 } } },
    }, {})
    local out = require("eager").output()
    r.outputs[#r.outputs + 1] = {
      buf = out,
      name = vim.api.nvim_buf_get_name(out),
      lines = vim.api.nvim_buf_get_lines(out, 0, -1, false),
    }
  end
end)
