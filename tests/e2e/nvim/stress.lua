-- The user types whole lines above the generated code, below it and at its insertion point
-- (one character per change, like keystrokes, a line every 20-70 ms) from the moment
-- :EagerGenerate is given until the generation ends. Records the buffer and where each typed
-- line went; the pytest side checks nothing was lost, duplicated or reordered.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup()
  local stream = require("eager.stream")
  local handle = stream.handle
  H.result.stream_edits = 0
  stream.handle = function(...)
    H.result.stream_edits = H.result.stream_edits + 1
    return handle(...)
  end
  local buf = H.open(H.params.file)
  local api = vim.api
  local ns = api.nvim_create_namespace("eager.test.typist")
  math.randomseed(H.params.seed or 1)
  api.nvim_win_set_cursor(0, { H.params.cursor_line, 0 })
  -- where the generation was asked for, followed until its region exists
  local asked = api.nvim_buf_set_extmark(buf, ns, H.params.cursor_line - 1, 0, { right_gravity = true })
  vim.cmd("EagerGenerate " .. H.params.prompt)
  if H.params.after_partial_line then
    -- start typing once a partial line is shown (typed at the point before, a line would hold
    -- the partial line back until whole: glue_race.lua)
    H.result.partial_shown = H.wait(H.timeout, function()
      local r = stream.regions_of(buf)[1]
      return r ~= nil and r["end"][2] > 0
    end)
  end
  local wheres = H.params.wheres or { "point", "above", "below" }
  local typed = {}
  local n = 0
  while H.result.summary == nil and n < (H.params.max_typed or 200) do
    n = n + 1
    local where = wheres[(n - 1) % #wheres + 1]
    local row
    if where == "above" then
      row = 0
    elseif where == "below" then
      row = api.nvim_buf_line_count(buf)
    else
      local regions = stream.regions_of(buf)
      local e = regions[1] and regions[1]["end"]
      if e == nil then
        -- before the region exists: the line the generation was asked for
        row = api.nvim_buf_get_extmark_by_id(buf, ns, asked, {})[1]
      elseif e[2] == 0 then
        row = e[1] -- the code ends with a newline: the line after it
      else
        -- a partial line is shown (a stall of the stream): the insertion point is inside that
        -- line, so a new line opened above it would be inside the generated code; the nearest
        -- line outside is the one opened right after it
        row = e[1] + 1
        H.result.after_partial = (H.result.after_partial or 0) + 1
      end
    end
    local text = ("# note %d %s"):format(n, where)
    api.nvim_buf_set_lines(buf, row, row, false, { "" })
    -- the typist's cursor: moves with text inserted before it, like a real cursor
    local mark = api.nvim_buf_set_extmark(buf, ns, row, 0, { right_gravity = true })
    for i = 1, #text do
      local p = api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})
      api.nvim_buf_set_text(buf, p[1], p[2], p[1], p[2], { text:sub(i, i) })
      vim.wait(1)
    end
    api.nvim_buf_del_extmark(buf, ns, mark)
    typed[#typed + 1] = text
    vim.wait(math.random(H.params.pause_min_ms or 20, H.params.pause_max_ms or 70))
  end
  H.result.typed = typed
  H.wait_done()
  H.result.lines = api.nvim_buf_get_lines(buf, 0, -1, false)
  H.result.regions_left = #stream.regions_of(buf)
  H.result.last_refusal = stream.last_refusal
  -- one undo step per stretch of generated text between the user's own changes: undo until the
  -- generated lines are gone is not checked here (the user typed in between); see undo.lua
end)
