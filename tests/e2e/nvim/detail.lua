-- :EagerRun, then :EagerDetail on lines of the file: the statement's whole output (longer than
-- what its eager/chunkResult and the hover carry) and a failure's whole traceback open in a
-- read-only scratch split that `q` closes; a line where nothing ran, a syntax error, and a buffer
-- without the server say so.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

--- :EagerDetail with the cursor on 1-based `line` of the current window; what it opened (or the
--- notifications it added when it opened nothing).
---@param line integer
local function detail_at(line)
  local source_win = vim.api.nvim_get_current_win()
  local source_buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_win_set_cursor(source_win, { line, 0 })
  local before = #H.result.notifications
  vim.cmd("EagerDetail")
  local opened = H.wait(H.timeout, function()
    return vim.api.nvim_get_current_buf() ~= source_buf or #H.result.notifications > before
  end)
  local seen = { opened = opened, notifications = {} }
  for i = before + 1, #H.result.notifications do
    seen.notifications[#seen.notifications + 1] = H.result.notifications[i].msg
  end
  local buf = vim.api.nvim_get_current_buf()
  if buf == source_buf then
    return seen
  end
  local win = vim.api.nvim_get_current_win()
  seen.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  seen.name = vim.api.nvim_buf_get_name(buf)
  seen.filetype = vim.bo[buf].filetype
  seen.buftype = vim.bo[buf].buftype
  seen.modifiable = vim.bo[buf].modifiable
  seen.source_still_shown = vim.api.nvim_win_is_valid(source_win)
    and vim.api.nvim_win_get_buf(source_win) == source_buf
  seen.clients = #vim.lsp.get_clients({ bufnr = buf }) -- no server for the scratch buffer
  seen.edit_refused = not pcall(vim.api.nvim_buf_set_lines, buf, 0, 0, false, { "x" })
  -- `q` closes it and the cursor is back in the source
  vim.api.nvim_feedkeys("q", "x", false)
  seen.closed_by_q = not vim.api.nvim_win_is_valid(win)
  seen.back_in_source = vim.api.nvim_get_current_buf() == source_buf
  return seen
end

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  vim.cmd("EagerRun")
  H.wait_done()
  H.wait(H.timeout, function()
    return #require("eager").results(buf) >= H.params.expect_results and #vim.diagnostic.get(buf) >= 1
  end)
  H.snapshot(buf, client)
  -- what the loop's eager/chunkResult carried (cut to fit its cap) and what `K` shows
  for _, res in ipairs(H.result.results) do
    if res.chunk.startLine == H.params.loop_line - 1 then
      H.result.loop_result = { truncated = res.truncated, stdout = #res.stdout, stderr = #res.stderr }
    end
  end
  local hover = client:request_sync("textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = H.params.loop_line - 1, character = 0 },
  }, 10000, buf)
  local contents = hover and hover.result and hover.result.contents
  H.result.hover_chars = contents and #(type(contents) == "table" and contents.value or contents) or vim.NIL

  H.result.loop = detail_at(H.params.loop_line)
  H.result.failure = detail_at(H.params.failure_line)
  H.result.value = detail_at(H.params.value_line)
  H.result.nothing = detail_at(H.params.blank_line)
  -- again on the loop: a fresh buffer (the closed one was wiped), same text
  H.result.loop_again = detail_at(H.params.loop_line)

  -- a syntax error (in another file, run the same way)
  H.result.summary = nil
  local bad = H.open(H.params.bad_file)
  vim.cmd("EagerRun")
  H.wait_done()
  H.wait(H.timeout, function()
    return #vim.diagnostic.get(bad) >= 1
  end)
  H.result.bad_diagnostics = H.diagnostics(bad)
  H.result.syntax = detail_at(H.params.syntax_line)

  -- a statement still running: shown as running, with its output so far (then its result)
  if H.params.running_file then
    H.result.summary = nil
    local nap = H.open(H.params.running_file)
    vim.cmd("EagerRun")
    H.wait(H.timeout, function()
      for _, l in ipairs(require("eager.state").get(vim.uri_from_bufnr(nap)).live) do
        if l.stdout:find("tick 2\n", 1, true) then
          return true
        end
      end
      return false
    end)
    H.result.running = detail_at(H.params.running_line)
    io.open(H.params.stop_file, "w"):close()
    H.wait_done()
    H.result.running_done = detail_at(H.params.running_line)
  end

  -- no server for a scratch buffer
  vim.cmd("enew")
  H.result.detached = detail_at(1)
end)
