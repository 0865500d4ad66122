-- Whole lines replaced with nvim_buf_set_lines (as plugins and formatters rewrite lines) after a
-- run: the results of the replaced statements go (the server reports their lines stale), the
-- others stay on their lines. A replaced line's result moved onto the next line instead (its
-- extmark, at the line's start, went past the inserted line), where eager/stale missed it:
-- :EagerOutput showed "# line 4: ok" twice.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf = H.open(H.params.file)
  local r = H.result
  local stales = 0
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerStale",
    callback = function()
      stales = stales + 1
    end,
  })
  vim.cmd("EagerRun")
  assert(H.wait_done(), "the run did not end")
  local function headings()
    return H.output_headings(H.params.file)
  end
  r.before = headings()
  r.after = {}
  for _, step in ipairs(H.params.replace) do
    local seen = stales
    local row = step[1] - 1
    vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { step[2] })
    r.after[#r.after + 1] = {
      stale = H.wait(10000, function()
        return stales > seen
      end),
      headings = headings(),
    }
  end
end)
