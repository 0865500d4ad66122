-- Lines replaced by identical text with nvim_buf_set_lines (a formatter that rewrites the
-- buffer, `:%!fmt`): the server sees no change there and keeps those results, so the plugin
-- must show them still. Its marks, deleted with their lines, lost them: one line replaced
-- by itself lost that line's result, the whole buffer rewritten lost all but one, which
-- :EagerOutput put on a line past the end. Each step is
-- { first row (0-based), last row (exclusive, -1: the end), lines (nil: the same lines),
--   results expected after it }.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf = H.open(H.params.file)
  local r = H.result
  vim.cmd("EagerRun")
  assert(H.wait_done(), "the run did not end")
  local eager = require("eager")
  local function headings()
    return H.output_headings(H.params.file)
  end
  r.before = headings()
  r.after = {}
  for _, step in ipairs(H.params.steps) do
    local from, to, lines, expect = step[1], step[2], step[3], step[4]
    if lines == vim.NIL or lines == nil then
      lines = vim.api.nvim_buf_get_lines(buf, from, to, false)
    end
    local seen = r.chunk_results
    vim.api.nvim_buf_set_lines(buf, from, to, false, lines)
    local reached = H.wait(10000, function() -- the results sent again, all of them
      return r.chunk_results > seen and #eager.results(buf) == expect
    end)
    vim.wait(300) -- anything more that would come (a result twice, a late eager/stale)
    r.after[#r.after + 1] = { reached = reached, count = #eager.results(buf), headings = headings() }
  end
end)
