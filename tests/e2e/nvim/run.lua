-- :EagerRun on an existing file, then :EagerOutput.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  vim.cmd("EagerRun")
  H.wait_done()
  H.wait(H.params.settle_ms or 10000, function()
    return #vim.diagnostic.get(buf) >= (H.params.expect_diagnostics or 0)
  end)
  H.snapshot(buf, client)
  vim.cmd("EagerOutput")
  local out = vim.fn.bufnr("eager://output/" .. vim.fn.fnamemodify(H.params.file, ":t"))
  H.result.output_lines = out > 0 and vim.api.nvim_buf_get_lines(out, 0, -1, false) or nil
  H.result.output_is_current = vim.api.nvim_get_current_buf() == buf
  -- Image files listed in the output are read while the server (which owns them) still runs.
  H.result.image_heads = {}
  for _, line in ipairs(H.result.output_lines or {}) do
    local path = line:match("^image %b(): (.+)$")
    if path then
      local f = io.open(path, "rb")
      H.result.image_heads[#H.result.image_heads + 1] = f and vim.base64.encode(f:read(4)) or vim.NIL
      if f then
        f:close()
      end
    end
  end
end)
