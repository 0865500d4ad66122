-- The user opens a line of their own at the insertion point (the end of the generated text, a
-- line start) right after whole lines were written, and Neovim holds that didChange back (its
-- debounce): the server does not know the line when the model stalls mid-line and it writes
-- the partial line `v3=`. The plugin declines that insert rather than glue it in front of the
-- user's text (`v3=# mine`, where their next keystroke would be an edit of the generated
-- code); the user goes on typing on their line, and the generation goes on.
-- With `after_begin`: the user starts a line at the insertion point right after `begin` placed
-- the (empty) region, before the first text: that unfinished line goes below the code
-- (`settle`), not in front of its first line (`# prv0=0`).
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ lsp = { flags = { debounce_text_changes = 10000 } } })
  local api = vim.api
  local stream = require("eager.stream")
  local buf, client = H.open(H.params.file)
  local typed, partial_answer = false, nil
  local handle = stream.handle
  stream.handle = function(err, p, ctx)
    local answer, e = handle(err, p, ctx)
    if H.params.after_begin and type(p) == "table" and p.op == "begin" and not typed then
      local r = stream.regions_of(buf)[1].start
      api.nvim_buf_set_text(buf, r[1], r[2], r[1], r[2], { "# pr" })
      typed = true
    elseif type(p) == "table" and p.op == "insert" and not H.params.after_begin then
      if not typed and p.text:match("v2=2\n$") then
        -- right after the whole lines landed: a line typed at the region's end
        local r = stream.regions_of(buf)[1]["end"]
        api.nvim_buf_set_lines(buf, r[1], r[1], false, { "# mine" })
        typed = true
      elseif p.text == "v3=" then
        partial_answer = answer
      end
    end
    return answer, e
  end
  api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd("EagerGenerate " .. H.params.prompt)
  if H.params.after_begin then
    H.wait_done()
    H.snapshot(buf, client)
    return
  end
  H.result.partial_sent = H.wait(H.timeout, function()
    return partial_answer ~= nil
  end)
  H.result.partial_answer = partial_answer
  H.result.lines_in_stall = api.nvim_buf_get_lines(buf, 0, -1, false)
  -- the user goes on typing at the end of their line
  for row, l in ipairs(H.result.lines_in_stall) do
    if l:match("# mine$") then
      api.nvim_buf_set_text(buf, row - 1, #l, row - 1, #l, { " more" })
    end
  end
  local f = io.open(H.params.marker, "w") -- the model goes on
  if f then
    f:close()
  end
  H.wait_done()
  H.snapshot(buf, client)
end)
