-- The user keeps typing above (or below) the insertion point while code streams in: their text
-- and the generated code must both end up in the buffer, intact.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  local debounce = H.params.debounce_ms
  H.setup({
    stream_edits = H.params.stream_edits ~= false,
    lsp = debounce and { flags = { debounce_text_changes = debounce } } or nil,
  })
  local buf, client = H.open(H.params.file)
  vim.api.nvim_win_set_cursor(0, { H.params.cursor_line, 0 })
  local bottom = H.params.at == "bottom"
  vim.cmd("EagerGenerate " .. H.params.prompt)
  -- wait for the first generated text, then type a comment line at the top (or bottom) every
  -- few tenths of a second until the generation ends (a change per character, like keystrokes)
  -- (or, with `from_start`, at once: with didChange held back by `debounce_ms`, the first
  -- edit comes for the version the buffer was opened at, 0, already out of date)
  if not H.params.from_start then
    H.wait(H.timeout, function()
      return #require("eager").results(buf) >= 1
    end)
  end
  local typed = 0
  while H.result.summary == nil and typed < (H.params.max_typed or 40) do
    typed = typed + 1
    local text = ("# note %d"):format(typed)
    vim.api.nvim_buf_set_lines(buf, bottom and -1 or 0, bottom and -1 or 0, false, { "" })
    for i = 1, #text do
      -- the last line moves down as generated lines arrive above it
      local row = bottom and vim.api.nvim_buf_line_count(buf) - 1 or 0
      vim.api.nvim_buf_set_text(buf, row, i - 1, row, i - 1, { text:sub(i, i) })
      vim.wait(10)
    end
    vim.wait(H.params.type_pause_ms or 100)
  end
  H.result.typed = typed
  H.wait_done()
  H.wait(10000, function()
    local s = require("eager").status(buf)
    return s ~= nil and s.state ~= "generating"
  end)
  H.snapshot(buf, client)
end)
