-- :EagerDetail's buffers and text, fed eager.resultDetail answers by hand (no server needed):
-- a statement still running (its output so far, the end of a long one), a syntax error's caret,
-- a result with a progress bar, buffer names per statement and per file (two files of the same
-- name), the same statement's buffer reused, and one detail window reused for the next detail.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ filetypes = { "eager-test-none" } }) -- no server: answers are made here
  local detail = require("eager.detail")
  local output = require("eager.output")
  local r = H.result

  vim.cmd.edit(vim.fn.fnameescape(H.params.file))
  local a = vim.api.nvim_get_current_buf()
  local a_win = vim.api.nvim_get_current_win()
  local uri = vim.uri_from_bufnr(a)

  local function chunk(first, last)
    return { index = first, startLine = first, endLine = last,
      range = { start = { line = first, character = 0 }, ["end"] = { line = last, character = 5 } } }
  end
  local function result(first, last, extra)
    return vim.tbl_extend("force", {
      uri = uri, version = 3, ok = true, skipped = false, values = {}, expr = vim.NIL, stdout = "",
      stderr = "", error = vim.NIL, images = {}, timings = { elapsedMs = 12.5 }, chunk = chunk(first, last),
    }, extra or {})
  end
  local function running(first, last, extra)
    return vim.tbl_extend("force", {
      uri = uri, version = 3, running = true, startLine = first, endLine = last, elapsedS = 75.25,
      stdout = "", stderr = "", stdoutBefore = 0, stderrBefore = 0,
    }, extra or {})
  end
  local function shown()
    local buf = vim.api.nvim_get_current_buf()
    return {
      buf = buf,
      name = vim.api.nvim_buf_get_name(buf),
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      windows = #vim.api.nvim_tabpage_list_wins(0),
    }
  end

  -- text only
  r.running_text = output.detail_lines(
    running(1, 3, { stdout = "epoch 1\nepoch 2\r\n\r 10%\r 90%\r100%\n", stderr = "warn\n" }),
    "a.py"
  )
  r.running_quiet = output.detail_lines(running(4, 4, { elapsedS = 2.04 }), "a.py")
  r.running_just = output.detail_lines(running(4, 4, { elapsedS = 0.03 }), "a.py")[1]
  r.running_long = output.detail_lines(
    running(1, 3, { stdout = "row 9998\nrow 9999\n", stdoutBefore = 123456 }),
    "a.py"
  )
  r.progress = output.detail_lines(result(0, 0, { stdout = "\r 0%\r 50%\r100%\ndone\n" }), "a.py")
  -- the interpreter lost: killed for the user's interrupt (`byUser`), or by itself (a crash)
  local function lost(by_user)
    return result(1, 1, { ok = false, error = {
      type = "InterpreterLost", message = "gone; the interpreter was restarted and its state is lost",
      line = 1, traceback = "", stateLost = true, byUser = by_user, frames = {}, framesOmitted = 0,
    } })
  end
  r.killed = output.detail_lines(lost(true), "a.py")
  r.crashed = output.detail_lines(lost(false), "a.py")
  r.caret = output.caret_lines("b = (1,", 4)
  r.caret_indented = output.caret_lines("    return f(x))", 15)
  r.caret_tab = output.caret_lines("\tx = 1 +", 8)
  r.caret_past_end = output.caret_lines("x = (", 40)

  -- buffers: a syntax error (line 2), then two statements of the same file, in one window
  detail.open(a, { uri = uri, version = 3, syntaxError = { line = 1, column = 4, message = "'(' was never closed" } })
  r.syntax = shown()
  vim.api.nvim_set_current_win(a_win)
  detail.open(a, result(0, 0, { stdout = "zero\n" }))
  r.first = shown()
  vim.api.nvim_set_current_win(a_win)
  detail.open(a, running(2, 3, { stdout = "tick\n" }))
  r.second = shown()
  r.syntax_buffer_gone = not vim.api.nvim_buf_is_valid(r.syntax.buf)
  -- the same statement again (now with its result): its buffer, its window
  vim.api.nvim_set_current_win(a_win)
  detail.open(a, result(2, 3, { stdout = "tick\ntock\n" }))
  r.second_again = shown()
  -- `q` goes back to the source
  vim.api.nvim_feedkeys("q", "x", false)
  r.back_in_source = vim.api.nvim_get_current_win() == a_win
  r.windows_after_q = #vim.api.nvim_tabpage_list_wins(0)

  -- another file of the same name: its own buffer, its own name (no E95)
  vim.cmd.edit(vim.fn.fnameescape(H.params.other_file))
  local b = vim.api.nvim_get_current_buf()
  local errors_before = vim.v.errmsg
  detail.open(b, result(0, 0, { uri = vim.uri_from_bufnr(b), stdout = "other\n" }))
  r.other = shown()
  vim.cmd.wincmd("p")
  vim.cmd.buffer(a)
  detail.open(a, result(0, 0, { stdout = "zero\n" }))
  r.first_again = shown()
  r.errmsg = vim.v.errmsg ~= errors_before and vim.v.errmsg or ""
end)
