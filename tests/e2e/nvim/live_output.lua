-- :EagerOutput open while :EagerRun runs a statement that prints for a while: its output shows
-- as it is printed (eager/output), and once its result arrives it is there once.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  local r = H.result
  local name = "eager://output/" .. vim.fn.fnamemodify(H.params.file, ":t")
  vim.cmd("EagerOutput") -- open before the run: it is kept up to date
  local out = vim.fn.bufnr(name)
  local out_win = vim.fn.bufwinid(out)
  r.output_is_current = vim.api.nvim_get_current_buf() == buf
  local loop_line = H.params.loop_line -- 0-based first line of the printing statement

  ---@return string[]
  local function output_lines()
    return vim.api.nvim_buf_get_lines(out, 0, -1, false)
  end
  -- Results of the printing statement so far (its chunkResult ends its live output).
  local function loop_results()
    local n = 0
    for _, res in ipairs(require("eager").results(buf)) do
      if res.chunk.startLine == loop_line then
        n = n + 1
      end
    end
    return n
  end

  -- The buffer as each eager/output left it (the User event fires after it is drawn), with
  -- whether the statement's result had arrived then.
  r.live_snapshots = {}
  r.output_events = 0
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerOutput",
    callback = function(ev)
      r.output_events = r.output_events + 1
      if ev.data.chunk.startLine == loop_line then
        r.live_snapshots[#r.live_snapshots + 1] = { lines = output_lines(), results = loop_results(), ms = H.now_ms() }
      end
    end,
  })
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerChunkResult",
    callback = function(ev)
      if ev.data.chunk.startLine == loop_line then
        r.loop_result_ms = H.now_ms()
        r.loop_result_stdout = ev.data.stdout
      end
    end,
  })

  vim.cmd("EagerRun")
  -- "tick 0" in the output buffer while the statement still runs (no result for it yet)
  r.seen_while_running = H.wait(H.timeout, function()
    if loop_results() > 0 then
      return true -- too late: the result came first (the assertion says so)
    end
    for _, line in ipairs(output_lines()) do
      if line == "tick 0" then
        r.lines_while_running = output_lines()
        return true
      end
    end
    return false
  end) and r.lines_while_running ~= nil
  H.wait_done()
  H.wait(10000, function()
    return #require("eager").results(buf) >= (H.params.expect_results or 1)
  end)
  H.snapshot(buf, client)
  r.output_lines = output_lines()
  -- the window was at the bottom (an empty buffer): it followed the output down
  r.output_cursor_line = vim.api.nvim_win_get_cursor(out_win)[1]
  r.output_line_count = vim.api.nvim_buf_line_count(out)
end)
