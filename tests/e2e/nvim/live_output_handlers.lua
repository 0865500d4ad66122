-- :EagerOutput and eager/output, fed synthetic notifications (no server needed): pieces that
-- end inside a line, two statements running at once, results whose output does or does not
-- start with the text shown live (cut to fit, `truncated`, or not), stale lines, idle, error, a
-- re-run, an edit above, the cap, carriage returns, the worker's cut mark, a lost interpreter.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ filetypes = { "eager-test-none" } }) -- no server: notifications are fed by hand
  local handlers = require("eager.handlers").handlers
  local output = require("eager.output")
  local path = H.params.file
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(buf)
  local r = H.result
  r.output_events = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerOutput",
    callback = function(ev)
      r.output_events[#r.output_events + 1] = { index = ev.data.chunk.index, stdout = ev.data.stdout, stderr = ev.data.stderr }
    end,
  })
  vim.cmd("EagerOutput")
  local out = vim.fn.bufnr("eager://output/" .. vim.fn.fnamemodify(path, ":t"))
  local function lines()
    return vim.api.nvim_buf_get_lines(out, 0, -1, false)
  end
  -- what the buffer shows must be what a full redraw would show
  r.mismatches = {}
  local function check(label)
    local expected = output.render(uri)
    if not vim.deep_equal(expected, lines()) then
      r.mismatches[#r.mismatches + 1] = { label = label, shown = lines(), expected = expected }
    end
    return lines()
  end
  local function chunk(index, first, last)
    return { index = index, startLine = first, endLine = last,
      range = { start = { line = first, character = 0 }, ["end"] = { line = last, character = 5 } } }
  end
  local function result(index, first, last, extra)
    return vim.tbl_extend("force", {
      uri = uri, version = 3, ok = true, skipped = false, values = {}, stdout = "", stderr = "",
      chunk = chunk(index, first, last),
    }, extra or {})
  end
  local function live(index, first, last, stdout, stderr)
    handlers["eager/output"](nil, { uri = uri, version = 3, chunk = chunk(index, first, last), stdout = stdout or "", stderr = stderr or "" }, {})
  end

  handlers["eager/chunkResult"](nil, result(0, 0, 0, { stdout = "start\n" }), {})
  -- pieces that end inside a line
  live(1, 1, 2, "epoch 1 lo")
  r.partial = check("partial")
  live(1, 1, 2, "ss 0.5\nepoch 2")
  live(1, 1, 2, "", "warn\n")
  r.joined = check("joined")
  -- a second statement running below (not with the server's gates; the buffer copes), then
  -- the upper one grows: the lower one's section moves down with it
  live(2, 4, 4, "other\n")
  live(1, 1, 2, " loss 0.4\n")
  live(2, 4, 4, "more\n")
  r.two = check("two")
  -- the result starts with what was shown live: each line once
  handlers["eager/chunkResult"](nil, result(1, 1, 2, { stdout = "epoch 1 loss 0.5\nepoch 2 loss 0.4\nepoch 3\n", stderr = "warn\n" }), {})
  r.after_result = check("after_result")
  -- a result whose output does not start with it (a kernel's cut output): shown whole
  handlers["eager/chunkResult"](nil, result(2, 4, 4, { stdout = "[cut]more\n" }), {})
  r.after_cut_result = check("after_cut_result")

  -- an edit above moves the section; the next piece draws it where it is now
  live(3, 5, 5, "a\n")
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { "# a new first line" })
  live(3, 5, 5, "b\n")
  r.moved = check("moved")
  -- its lines went stale: the section goes
  handlers["eager/stale"](nil, { uri = uri, fromLine = 6, toLine = 6 }, {})
  r.after_stale = check("after_stale")
  -- a statement that ran runs again: its new output replaces the old result's section
  live(4, 1, 1, "again\n")
  r.rerun = check("rerun")
  -- idle: nothing runs, so a live output without a result is over
  handlers["eager/status"](nil, { uri = uri, state = "idle" }, {})
  r.after_idle = check("after_idle")
  r.after_idle_results = #require("eager").results(buf)
  -- bounded: past the cap the head and the newest text are kept, the middle counted
  local cap = require("eager.state").LIVE_CAP
  local piece = string.rep("x", 4095) .. "\n"
  local pieces = math.floor(cap / #piece) + 3
  for _ = 1, pieces - 1 do
    live(5, 3, 3, piece)
  end
  live(5, 3, 3, "newest " .. string.rep("y", 4088) .. "\n") -- (a bar's latest state, say)
  local big = check("big")
  local first, last
  for i, line in ipairs(big) do
    if line == "# line 4: running" then
      first = i
    elseif first and not last and line:match("^# ") then
      last = i - 1
    end
  end
  local section = vim.list_slice(big, first + 1, last)
  r.big_section_last = section[#section]
  local kept, markers = 0, {}
  for _, line in ipairs(section) do
    if line:match("^%[%.%.%. %d+ bytes not kept %.%.%.%]$") then
      markers[#markers + 1] = line
    else
      kept = kept + #line + 1 -- (its newline)
    end
  end
  r.big_markers = markers
  r.big_kept = kept
  r.big_fed = pieces * #piece
  r.cap = cap

  -- the text under a header, up to the next header (nil: no such header)
  local function section_of(shown, header)
    local at
    for i, line in ipairs(shown) do
      if line == header then
        at = i
      elseif at and line:match("^# ") then
        return vim.list_slice(shown, at + 1, i - 1)
      end
    end
    return at and vim.list_slice(shown, at + 1) or nil
  end
  local st = require("eager.state")

  -- an error ends the run: the live outputs whose result never came are over, as with idle
  live(6, 6, 6, "half a line")
  r.before_error = check("before_error")
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "ZeroDivisionError: division by zero" }, {})
  r.after_error = check("after_error")
  r.after_error_live = #st.get(uri).live

  -- a result cut to fit its cap (`truncated`) lacks the middle of the output shown live: the
  -- live text stays, then the result's end (after its omission mark), joined to it where the
  -- live text ends with that end's start; a stream that still starts with it is the result's
  local function steps(from, to)
    local t = {}
    for i = from, to do
      t[#t + 1] = ("step %d"):format(i)
    end
    return table.concat(t, "\n") .. "\n"
  end
  live(7, 6, 6, steps(1, 10))
  live(7, 6, 6, steps(11, 20) .. "last part")
  live(7, 6, 6, "", "warn 1\n")
  handlers["eager/chunkResult"](nil, result(7, 6, 6, {
    truncated = true,
    stdout = steps(1, 3) .. "\n[... 99 characters omitted ...]\n" .. steps(18, 20) .. "last part done\n",
    stderr = "warn 1\nwarn 2\n",
  }), {})
  r.truncated = section_of(check("truncated"), "# line 7: ok")
  -- only stderr lacks its middle, and the live text stopped before the end it kept: a note
  -- between them
  live(8, 7, 7, "out\n", "e1\ne2\ne3\n")
  handlers["eager/chunkResult"](nil, result(8, 7, 7, {
    truncated = true, stdout = "out\nmore\n", stderr = "e1\n[... 9 characters omitted ...]\ne4\ne5\n",
  }), {})
  r.truncated_stderr = section_of(check("truncated_stderr"), "# line 8: ok")
  -- `truncated` (a value cut) but both streams start with the live text: the result's, whole
  live(9, 4, 4, "p1\n", "q1\n")
  handlers["eager/chunkResult"](nil, result(9, 4, 4, { truncated = true, stdout = "p1\np2\n", stderr = "q1\n" }), {})
  r.truncated_prefix = section_of(check("truncated_prefix"), "# line 5: ok")
  -- not a prefix and not `truncated` (a Jupyter kernel's output cut in its middle): whole
  live(10, 4, 4, "k1\nk2\nk3\n")
  handlers["eager/chunkResult"](nil, result(10, 4, 4, { truncated = false, stdout = "k1\n[cut]k3\n" }), {})
  r.not_truncated = section_of(check("not_truncated"), "# line 5: ok")
  -- the kept text is bounded as the live text is
  for _ = 1, pieces do
    live(11, 4, 4, piece)
  end
  handlers["eager/chunkResult"](nil, result(11, 4, 4, {
    truncated = true, stdout = "x\n[... 9 characters omitted ...]\ntail end\n",
  }), {})
  local big_kept = section_of(check("big_truncated"), "# line 5: ok")
  r.big_truncated_last = vim.list_slice(big_kept, #big_kept - 1)
  big_kept = vim.list_slice(big_kept, 1, #big_kept - 1)
  local gap_lines = vim.tbl_filter(function(line)
    return line:match("^%[%.%.%. %d+ bytes not kept %.%.%.%]$") ~= nil
  end, big_kept)
  r.big_truncated_gaps = #gap_lines
  r.big_truncated_kept = #table.concat(big_kept, "\n", 1, #big_kept - 1) + 1 - (#gap_lines > 0 and #gap_lines[1] + 1 or 0)
  r.kept_before_replace = 0
  for _, res in ipairs(st.get(uri).results) do
    r.kept_before_replace = r.kept_before_replace + (res._live and 1 or 0)
  end
  -- the kept text goes with its result: replaced by a re-run's result, or stale
  handlers["eager/chunkResult"](nil, result(12, 6, 6, { stdout = "fresh\n" }), {})
  r.replaced = section_of(check("replaced"), "# line 7: ok")
  handlers["eager/stale"](nil, { uri = uri, fromLine = 7, toLine = 7 }, {})
  handlers["eager/stale"](nil, { uri = uri, fromLine = 4, toLine = 4 }, {})
  r.after_kept_gone = check("after_kept_gone")
  r.kept_after_replace = 0
  for _, res in ipairs(st.get(uri).results) do
    r.kept_after_replace = r.kept_after_replace + (res._live and 1 or 0)
  end

  -- a progress bar written with '\r': each line as a terminal leaves it, live and in the result
  live(13, 5, 5, "", "\r[#   ] 10%")
  r.cr_first = section_of(check("cr_first"), "# line 6: running")
  live(13, 5, 5, "a\r\nb", "\r[##  ] 20%\r")
  r.cr_trailing = section_of(check("cr_trailing"), "# line 6: running")
  live(13, 5, 5, "\n", "[### ] 30%\r[####] 100%\n")
  r.cr_done = section_of(check("cr_done"), "# line 6: running")
  r.cr_stored = st.get(uri).live[1] and st.get(uri).live[1].stderr or nil
  handlers["eager/chunkResult"](nil, result(13, 5, 5, {
    stdout = "a\r\nb\n", stderr = "\r[#   ] 10%\r[##  ] 20%\r[### ] 30%\r[####] 100%\nend\r\n",
  }), {})
  r.cr_result = section_of(check("cr_result"), "# line 6: ok")

  -- the worker cut the stream after its head (its mark ends the result's copy, an older
  -- worker's way) and the result's copy lacks part of the live text, with no end of its own
  -- after an omission mark: the live text stays, then the worker's mark, then the note
  live(14, 5, 5, steps(1, 6))
  handlers["eager/chunkResult"](nil, result(14, 5, 5, {
    truncated = true,
    stdout = steps(1, 2) .. "\n[... output truncated: 1234 more characters]\n",
  }), {})
  r.worker_cut = section_of(check("worker_cut"), "# line 6: ok")
  -- the shape of a long fast loop's: the live text ended inside a line at the last
  -- eager/output; the result's end starts inside a line too, and what was printed last is
  -- shown. It runs into the live text: joined, each line once
  live(16, 5, 5, "a 1\na 2\na 3\na")
  handlers["eager/chunkResult"](nil, result(16, 5, 5, {
    truncated = true, stdout = "a 1\n[... 5 characters omitted ...]\n 2\na 3\na 4\nFINAL\n",
  }), {})
  r.end_joined = section_of(check("end_joined"), "# line 6: ok")
  -- a start that the live text's end matches by chance only ("9995\n"): not joined
  live(17, 5, 5, "row 1\nrow 39995\n")
  handlers["eager/chunkResult"](nil, result(17, 5, 5, {
    truncated = true, stdout = "row 1\n[... 5 characters omitted ...]\n9995\nrow 99996\nFINAL\n",
  }), {})
  r.end_apart = section_of(check("end_apart"), "# line 6: ok")

  -- the interpreter went away mid-statement: its result (ok false) has what it printed live
  live(15, 5, 5, "tick 0\ntick 1\n")
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "the worker exited (code 3)" }, {})
  handlers["eager/chunkResult"](nil, result(15, 5, 5, {
    ok = false, stdout = "tick 0\ntick 1\n", error = { type = "WorkerDied", message = "the worker exited (code 3)" },
  }), {})
  r.lost = section_of(check("lost"), "# line 6: error")
end)
