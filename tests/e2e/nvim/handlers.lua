-- The custom notification handlers, fed synthetic notifications (no server needed).
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ filetypes = { "eager-test-none" } }) -- no server: notifications are fed by hand
  local handlers = require("eager.handlers").handlers
  local eager = require("eager")
  local path = H.params.file
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(buf)
  local r = H.result

  handlers["eager/status"](nil, { uri = uri, state = "generating", tokens = 12, tokensPerSecond = 38.4, chunksDone = 1, chunksTotal = 2 }, {})
  r.status_generating = eager.status(buf).state
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "endpoint down" }, {})
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "endpoint down" }, {})
  -- a failure the server also reports with window/showMessage is said once, by the server
  handlers["eager/status"](nil, { uri = uri, state = "idle" }, {})
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "401 unauthorized" }, {})
  handlers["window/showMessage"](nil, { type = 1, message = "eager: the model endpoint said 401 unauthorized" }, { client_id = 0 })
  vim.wait(require("eager.handlers").dedupe_ms + 300)
  local function chunk(index, first, last, extra)
    return vim.tbl_extend("force", {
      uri = uri, version = 3, ok = true, skipped = false, values = {}, stdout = "", stderr = "",
      chunk = { index = index, startLine = first, endLine = last,
        range = { start = { line = first, character = 0 }, ["end"] = { line = last, character = 5 } } },
    }, extra or {})
  end
  handlers["eager/chunkResult"](nil, chunk(1, 1, 1, { stdout = "hello\nworld\n", timings = { parallelWith = { 0 } } }), {})
  handlers["eager/chunkResult"](nil, chunk(0, 0, 0, { values = { { name = "x", repr = "42" } } }), {})
  handlers["eager/chunkResult"](nil, chunk(2, 2, 3, { ok = false,
    error = { type = "ZeroDivisionError", message = "division by zero", line = 3, traceback = "Traceback...\nZeroDivisionError: division by zero\n" } }), {})
  r.indexes = vim.tbl_map(function(x) return x.chunk.index end, eager.results(buf))
  -- a re-run's status naming an error a result or a diagnostic shows is not notified
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "re-ran 1 of 3 statements (0.01 s); ZeroDivisionError: division by zero" }, {})
  -- (the server's diagnostics, as if from a client with id 4242; another source's do not count)
  local real_client = eager.client
  eager.client = function() return { id = 4242, name = "eager" } end
  vim.diagnostic.set(vim.lsp.diagnostic.get_namespace(4242), buf, { { lnum = 1, col = 0, message = "IndentationError: unexpected indent" } })
  vim.diagnostic.set(vim.api.nvim_create_namespace("eager.test.linter"), buf, { { lnum = 2, col = 0, message = "KeyError" } })
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "re-ran 0 of 0 statements (0.00 s); IndentationError: unexpected indent" }, {})
  handlers["eager/status"](nil, { uri = uri, state = "error", message = "re-ran 1 of 3 statements (0.01 s); KeyError: 'k'" }, {})
  vim.wait(require("eager.handlers").dedupe_ms + 300)
  eager.client = real_client
  handlers["eager/status"](nil, { uri = uri, state = "idle" }, {})
  vim.cmd("EagerOutput")
  local out = vim.fn.bufnr("eager://output/" .. vim.fn.fnamemodify(path, ":t"))
  r.output_lines = vim.api.nvim_buf_get_lines(out, 0, -1, false)

  -- results move with edits above them; a result on re-run lines is replaced; stale drops
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { "# a new first line" })
  vim.cmd("EagerOutput")
  r.output_after_insert = vim.api.nvim_buf_get_lines(out, 0, -1, false)
  handlers["eager/chunkResult"](nil, chunk(7, 2, 2, { stdout = "again\n" }), {}) -- line 2 re-ran
  r.indexes_after_rerun = vim.tbl_map(function(x) return x.chunk.index end, eager.results(buf))
  handlers["eager/stale"](nil, { uri = uri, fromLine = 3, toLine = 3 }, {}) -- hits the chunk on lines 3-4
  r.indexes_after_stale_range = vim.tbl_map(function(x) return x.chunk.index end, eager.results(buf))
  -- the failing chunk again, for the stale check below
  handlers["eager/chunkResult"](nil, chunk(2, 3, 4, { ok = false,
    error = { type = "ZeroDivisionError", message = "division by zero", line = 3, traceback = "Traceback...\nZeroDivisionError: division by zero\n" } }), {})
  handlers["eager/stale"](nil, { uri = uri, fromLine = 2 }, {}) -- everything after line 2
  r.indexes_after_stale = vim.tbl_map(function(x) return x.chunk.index end, eager.results(buf))
  r.output_after_stale = vim.api.nvim_buf_get_lines(out, 0, -1, false)
  -- the same statement (the server ledger's statementId) again, placed on other lines: its
  -- earlier result goes wherever it is
  handlers["eager/chunkResult"](nil, chunk(8, 1, 1, { statementId = 5 }), {})
  handlers["eager/chunkResult"](nil, chunk(9, 3, 3, { statementId = 5 }), {})
  r.indexes_by_statement = vim.tbl_map(function(x) return x.chunk.index end, eager.results(buf))

  handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 4.1, savedS = 2.0, stoppedEarly = false, error = vim.NIL }, {})
  handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 1.34, savedS = 0, stoppedEarly = true, error = { type = "ZeroDivisionError", message = "division by zero" } }, {})
  handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 2, stoppedEarly = true, error = "ValueError: bad" }, {})
  handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 0.6, savedS = 0.1, stoppedEarly = false, error = "the model answered HTTP 500: boom" }, {})
  -- the server said why as it stopped: the summary does not say it again
  handlers["window/showMessage"](nil, { type = 2, message = "eager: generation stopped: the generated text was edited" }, { client_id = 0 })
  handlers["eager/generationSummary"](nil, { uri = uri, elapsedS = 3.3, stoppedEarly = true, error = "the generated text was edited" }, {})
  -- a generation stopped because its buffer was closed says which
  local gone = vim.uri_from_fname(vim.fs.dirname(path) .. "/gone.py")
  handlers["eager/generationSummary"](nil, { uri = gone, elapsedS = 1.5, stoppedEarly = true, error = vim.NIL }, {})
  r.summary_events = #vim.tbl_filter(function(e) return e.name == "EagerDone" end, r.events)
  -- statusline shows nothing without an attached client; the text it would show:
  local client = { name = "eager" }
  local orig = eager.client
  eager.client = function() return client end
  handlers["eager/status"](nil, { uri = uri, state = "generating", tokensPerSecond = 38.4 }, {})
  r.statusline_generating = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "running", chunksDone = 3, chunksTotal = 5 }, {})
  r.statusline_running = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "running", chunksDone = 2, chunksRunning = 1, chunksPending = 2, chunksTotal = 5 }, {})
  r.statusline_counts = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "running", chunksDone = 1, chunksRunning = 3, chunksPending = 1, chunksTotal = 5, runningLines = { 4, 5, 6 } }, {})
  r.statusline_parallel = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "running", chunksDone = 2, chunksPending = 2, chunksTotal = 4, heldLine = 2, heldReason = "calls signal.getsignal" }, {})
  r.statusline_held = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "generating", tokens = 0, message = "starting the local model… (3 s)" }, {})
  r.statusline_model_start = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "idle" }, {})
  r.statusline_idle = eager.statusline(buf)
  -- how the user ended a follow-mode run, among follow mode's own words
  handlers["eager/status"](nil, { uri = uri, state = "idle", message = "following · interrupted; edit it to re-run" }, {})
  r.statusline_follow_interrupted = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "idle", message = "following · re-ran 1 of 5 statements (0.5 s); interpreter restarted" }, {})
  r.statusline_follow_restarted = eager.statusline(buf)
  handlers["eager/status"](nil, { uri = uri, state = "idle", message = "following · re-ran 2 of 6 statements (0.01 s)" }, {})
  r.statusline_follow_reran = eager.statusline(buf)
  eager.client = orig
  r.statusline_detached = eager.statusline(buf)
end)
