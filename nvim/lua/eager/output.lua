-- :EagerOutput: a scratch buffer with each executed chunk's stdout, stderr, images (the PNG
-- files of its matplotlib figures, one path a line) and error, kept up to date while it is open.
-- A statement still running shows what it printed so far (eager/output) under "# line N:
-- running"; its result then replaces that section (its output starts with the same text; when
-- it does not and the result was cut to fit its cap, the text shown live stays, then the end of
-- the result's copy, which was printed last, under a note when something between is not shown).
-- Each line is shown as a terminal shows it: its text after its last '\r' (a progress bar).
-- One buffer per document, named after its path (`eager://output/src/a.py`).
-- :EagerDetail (detail.lua) renders the server's whole copy of one result the same way
-- (`detail_lines`).
local state = require("eager.state")

local M = {}

---@type table<string, integer>  document URI -> output buffer
local buffers = {}

---@alias eager.OutputLayout table<eager.LiveOutput, { first: integer, count: integer }>
---@type table<string, { sections: eager.OutputLayout, tick: integer? }>  document URI ->
---   where the output buffer shows each live output (0-based first line, line count), as
---   last written, and the document's changedtick when the buffer was last written whole
local layouts = {}

--- The changedtick of the document's buffer (the line numbers in the headers follow it).
---@param uri string
---@return integer?
local function source_tick(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  local buf = ok and vim.fn.bufnr(fname) or -1
  return buf > 0 and vim.api.nvim_buf_is_loaded(buf) and vim.b[buf].changedtick or nil
end

--- The line under a statement's live output kept in place of its result's (state.add_result):
--- the result's copy of that stream was cut in its middle to fit the result message (whether
--- the server's eager.resultDetail has more depends on whether the worker cut it first).
M.CUT_NOTE = "[... above: this output as it was printed live; its copy in the result was cut to fit. :EagerDetail on the statement shows all the server kept]"

--- The line between a statement's live output and the end its result kept, when the live
--- text does not run into that end (it stopped at the last eager/output, the result's copy
--- lost its middle): what was printed between them is not shown.
M.GAP_NOTE = "[... not shown: what was printed between the live output above and the end the result kept, below. :EagerDetail on the statement shows all the server kept]"

--- A line as a terminal leaves it: the text after its last '\r' ('\r's at its end first left
--- out: "\r\n" is a line ending, and a '\r' ending the live text so far is overwritten by the
--- next piece). The stored text stays as received.
---@param line string
---@return string
local function as_terminal(line)
  if not line:find("\r", 1, true) then
    return line
  end
  local last = #line
  while last > 0 and line:byte(last) == 13 do
    last = last - 1
  end
  line = line:sub(1, last)
  return line:match("^.*\r(.*)$") or line
end

---@param text any
---@param out string[]
local function add_text(text, out)
  if type(text) ~= "string" or text == "" then
    return
  end
  for _, line in ipairs(vim.split(text:gsub("\n$", ""), "\n", { plain = true })) do
    out[#out + 1] = as_terminal(line)
  end
end

--- The worker's line ending a stream it cut at its cap (`[... output truncated: N more
--- characters]`), when `text` ends with it.
---@param text any
---@return string?
local function truncation_line(text)
  if type(text) ~= "string" then
    return nil
  end
  return text:match("\n(%[%.%.%. output truncated: %d+ more characters%])\n?$")
end

---@param first integer
---@param last integer
local function label_of(first, last)
  return first == last and ("line %d"):format(first + 1) or ("lines %d-%d"):format(first + 1, last + 1)
end

--- The section of a statement still running: a header, then what it printed so far.
---@param live eager.LiveOutput
---@return string[]
local function live_section(live)
  local out = { ("# %s: running"):format(label_of(state.lines_of(live))) }
  for _, stream in ipairs({ "stdout", "stderr" }) do
    local gap = live.gaps and live.gaps[stream] -- (its head, a line for the middle, its newest)
    add_text(gap and state.with_gap(live[stream], gap) or live[stream], out)
  end
  return out
end

--- A value's lines: `prefix` and its text's first line, then the rest of its lines.
---@param prefix string
---@param text any
---@param out string[]
local function add_value(prefix, text, out)
  text = type(text) == "string" and text or ""
  local lines = vim.split(text, "\n", { plain = true })
  out[#out + 1] = prefix .. lines[1]
  for i = 2, #lines do
    out[#out + 1] = lines[i]
  end
end

--- How a result is headed: "ok", "skipped", "error", or "interrupted" for a statement the user
--- ended (its error's `byUser`: its KeyboardInterrupt, or its interpreter killed for an
--- interrupt, a stop or a restart; `stateLost` alone cannot tell that kill from a crash): not
--- wrong, as its INFO diagnostic says.
---@param r table  an eager/chunkResult's params (or an eager.resultDetail answer)
---@return "ok"|"skipped"|"error"|"interrupted"
function M.result_mark(r)
  if r.skipped then
    return "skipped"
  elseif r.ok then
    return "ok"
  end
  return (type(r.error) == "table" and r.error.byUser == true) and "interrupted" or "error"
end

---@class eager.RenderOptions
---@field file? string      named in the header ("# a.py lines 3-5: ok")
---@field detail? boolean   :EagerDetail: the time and values in the header's wake, and each
---                         stream and the traceback under a line of its own ("# stdout")

--- The lines of one result (first..last: its lines now) appended to `out`.
---@param r table  an eager/chunkResult's params (or an eager.resultDetail answer)
---@param first integer
---@param last integer
---@param out string[]
---@param opts? eager.RenderOptions
local function add_result(r, first, last, out, opts)
  opts = opts or {}
  local label = label_of(first, last)
  if opts.file then
    label = opts.file .. " " .. label
  end
  local mark = M.result_mark(r)
  local with = type(r.timings) == "table" and r.timings.parallelWith or nil
  if not r.skipped and type(with) == "table" and #with > 0 then
    -- gate `parallel`: the statements that ran at the same time, moved as far as this
    -- result moved since it was published (edits between them are not followed)
    local delta = first - (tonumber(r.chunk and r.chunk.startLine) or first)
    local shown = vim.tbl_map(function(l) return tostring(l + 1 + delta) end, with)
    mark = ("%s (in parallel with line%s %s)"):format(mark, #with == 1 and "" or "s", table.concat(shown, " "))
  end
  if opts.detail then
    local ms = type(r.timings) == "table" and tonumber(r.timings.elapsedMs) or nil
    if r.skipped then
      mark = mark .. " (not run: an earlier statement failed or the run stopped)"
    elseif ms then
      mark = mark .. (ms < 1000 and (" (%.1f ms)"):format(ms) or (" (%.2f s)"):format(ms / 1000))
    end
  end
  out[#out + 1] = ("# %s: %s"):format(label, mark)
  if opts.detail then
    for _, v in ipairs(type(r.values) == "table" and r.values or {}) do
      if type(v) == "table" then
        add_value(tostring(v.name) .. " = ", v.repr or v.summary, out)
      end
    end
    if type(r.expr) == "table" then
      add_value("→ ", r.expr.repr or r.expr.summary, out)
    elseif type(r.expr) == "string" then
      add_value("→ ", r.expr, out)
    end
  end
  for _, stream in ipairs({ "stdout", "stderr" }) do
    local kept = type(r._live) == "table" and r._live[stream] or nil
    if opts.detail and type(r[stream]) == "string" and r[stream] ~= "" then
      out[#out + 1] = "# " .. stream
    end
    if kept then
      -- cut to fit its cap, the result lacks part of what was shown live: that stays, then
      -- the end the result kept (state.kept_live); without one, the worker's mark of a stream
      -- it cut after its head (the live text never has it) and a note
      add_text(kept.text, out)
      if kept.the_end then
        out[#out + 1] = M.GAP_NOTE
        add_text(kept.the_end, out)
      elseif not kept.joined then
        local mark = truncation_line(r[stream])
        if mark and truncation_line(kept.text) ~= mark then
          out[#out + 1] = mark
        end
        out[#out + 1] = M.CUT_NOTE
      end
    else
      add_text(r[stream], out)
    end
  end
  for _, image in ipairs(type(r.images) == "table" and r.images or {}) do
    out[#out + 1] = ("image (%s): %s"):format(image.label or "PNG", image.path)
  end
  if type(r.error) == "table" then
    local traceback = type(r.error.traceback) == "string" and r.error.traceback ~= ""
    if opts.detail and traceback then
      out[#out + 1] = "# traceback"
    end
    add_text(r.error.traceback, out)
    if not traceback then
      out[#out + 1] = require("eager.handlers").describe_error(r.error)
    end
  end
  if opts.detail and r.truncated == true then
    out[#out + 1] = M.DETAIL_CUT_NOTE
  end
end

--- The last line of :EagerDetail when even the server's eager.resultDetail answer was cut to
--- fit its cap (1 MiB of JSON): its longest texts lack their middle ("[... N characters
--- omitted ...]").
M.DETAIL_CUT_NOTE = "[... the server cut this answer to fit its cap (1 MiB): the longest texts above lack their middle]"

--- The seconds a statement has run, as the detail's header says them: 30 ms, 4.2 s, 2 min 5 s.
---@param seconds number
---@return string
local function duration(seconds)
  if seconds < 60 then
    return require("eager.handlers").duration(seconds)
  end
  local whole = math.floor(seconds)
  return ("%d min %d s"):format(math.floor(whole / 60), whole % 60)
end

--- The line of code a syntax error is on and a caret under its column, as Python prints them:
--- the line without its leading spaces, indented by four; under it, the caret, after as many
--- columns as the text before the error takes (tabs kept, so they line up).
---@param code string  the document's line
---@param column integer  0-based, in characters
---@return string[]
function M.caret_lines(code, column)
  local indent = #(code:match("^[ \f]*"))
  local text = code:sub(indent + 1)
  local chars = vim.fn.strchars(text)
  local at = math.max(0, math.min(column - vim.fn.strchars(code:sub(1, indent)), chars))
  local before = vim.fn.strcharpart(text, 0, at)
  local pad = before:gsub("[^\t]+", function(run)
    return (" "):rep(vim.fn.strdisplaywidth(run))
  end)
  return { "    " .. text, "    " .. pad .. "^" }
end

--- :EagerDetail's lines for a statement still running: its lines and for how long, then the
--- end of each stream it printed so far (what the server kept: when it printed more, a first
--- line says how much is left out above), each line as a terminal shows it.
---@param d eager.RunningDetail
---@param file string
---@return string[]
local function running_lines(d, file)
  local first = tonumber(d.startLine) or 0
  local last = tonumber(d.endLine) or first
  local out = {
    ("# %s %s: running for %s, no result yet (:EagerDetail again shows more)"):format(
      file,
      label_of(first, last),
      duration(tonumber(d.elapsedS) or 0)
    ),
  }
  local printed = false
  for _, stream in ipairs({ "stdout", "stderr" }) do
    local text = type(d[stream]) == "string" and d[stream] or ""
    local before = tonumber(d[stream .. "Before"]) or 0
    if text ~= "" or before > 0 then
      printed = true
      out[#out + 1] = ("# %s so far"):format(stream)
      if before > 0 then
        out[#out + 1] = ("[... %d characters above not kept: the last %d follow]"):format(before, vim.fn.strchars(text))
      end
      add_text(text, out)
    end
  end
  if not printed then
    out[#out + 1] = "(no output yet)"
  end
  return out
end

--- :EagerDetail's lines for an eager.resultDetail answer: the statement's lines and status,
--- its values, its whole stdout and stderr, images and traceback, as :EagerOutput shows a
--- result (with a header line per part); for a syntax error, its message at its line, under
--- that line's code with a caret at the error's column (`code`: the document's line); for a
--- statement still running, for how long and the end of its output so far.
---@param d eager.ChunkResultParams|eager.SyntaxErrorDetail|eager.RunningDetail
---@param file string  the document's name, for the header
---@param code? string  the document's line of a syntax error
---@return string[]
function M.detail_lines(d, file, code)
  local out = {}
  if type(d.syntaxError) == "table" then
    local line = tonumber(d.syntaxError.line) or 0
    out[1] = ("# %s %s: syntax error"):format(file, label_of(line, line))
    if type(code) == "string" then
      vim.list_extend(out, M.caret_lines(code, tonumber(d.syntaxError.column) or 0))
    end
    add_text("SyntaxError: " .. tostring(d.syntaxError.message), out)
    return out
  end
  if d.running == true then
    return running_lines(d, file)
  end
  local first, last = state.lines_of(d)
  add_result(d, first, last, out, { file = file, detail = true })
  return out
end

--- The buffer's lines, and where each live output's section is in them.
---@param uri string
---@return string[] lines, eager.OutputLayout layout
function M.render(uri)
  local out = {}
  local layout = {}
  local live = state.sorted_live(uri)
  local li = 1
  ---@param before? integer  only the live outputs above this line (nil: all that are left)
  local function add_live(before)
    while live[li] and (before == nil or state.lines_of(live[li]) <= before) do
      local section = live_section(live[li])
      layout[live[li]] = { first = #out, count = #section }
      vim.list_extend(out, section)
      li = li + 1
    end
  end
  ---@param first integer
  ---@param last integer
  local function running_again(first, last)
    for _, l in ipairs(live) do
      local lf, ll = state.lines_of(l)
      if ll >= first and lf <= last then
        return true
      end
    end
    return false
  end
  for _, r in ipairs(state.sorted_results(uri)) do
    local first, last = state.lines_of(r)
    add_live(first)
    -- (a result on the lines of a statement running again: the live output replaces it)
    if not running_again(first, last) then
      add_result(r, first, last, out)
    end
  end
  add_live(nil)
  if #out == 0 then
    out[1] = "# no results yet"
  end
  return out, layout
end

--- The output buffer of `uri`, if it is open.
---@param uri string
---@return integer?
local function buffer_of(uri)
  local buf = buffers[uri]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    buffers[uri] = nil
    layouts[uri] = nil
    return nil
  end
  return buf
end

--- Replace lines [first, last) of the output buffer. A window whose cursor was on the last
--- line keeps it there, so a window at the bottom follows the output as it grows (as a
--- terminal buffer does).
---@param buf integer
---@param first integer
---@param last integer  -1: to the end
---@param lines string[]
local function write(buf, first, last, lines)
  local at_end = {}
  local count = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] == count then
      at_end[#at_end + 1] = win
    end
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, first, last, false, lines)
  vim.bo[buf].modifiable = false
  count = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(at_end) do
    pcall(vim.api.nvim_win_set_cursor, win, { count, 0 })
  end
end

---@param uri string
function M.refresh(uri)
  local buf = buffer_of(uri)
  if not buf then
    return
  end
  local lines, sections = M.render(uri)
  layouts[uri] = { sections = sections, tick = source_tick(uri) }
  write(buf, 0, -1, lines)
end

--- Show the new output of a running statement: only its section is rewritten when the buffer
--- shows it already (eager/output comes up to four times a second, each one small) and the
--- document was not edited since (the headers' line numbers would be old), else all of it.
---@param uri string
---@param live eager.LiveOutput
function M.refresh_live(uri, live)
  local buf = buffer_of(uri)
  local layout = layouts[uri]
  local at = layout and layout.sections[live]
  if not buf or not at or layout.tick ~= source_tick(uri) then
    return M.refresh(uri)
  end
  local section = live_section(live)
  write(buf, at.first, at.first + at.count, section)
  local delta = #section - at.count
  for _, other in pairs(layout.sections) do
    if other.first > at.first then
      other.first = other.first + delta
    end
  end
  at.count = #section
end

--- Name an output buffer after its document's path as :ls shows it (`eager://output/src/a.py`,
--- as :EagerDetail's buffers are named: two files of the same name never share a name); when
--- that is taken (another file's, named under another working directory, or a buffer the
--- plugin lost track of), after its full path, else that and the buffer's number.
---@param buf integer
---@param uri string
local function name_buffer(buf, uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  fname = ok and fname or uri
  local full = "eager://output/" .. vim.fn.fnamemodify(fname, ":p")
  for _, name in ipairs({ "eager://output/" .. vim.fn.fnamemodify(fname, ":~:."), full, ("%s (%d)"):format(full, buf) }) do
    if pcall(vim.api.nvim_buf_set_name, buf, name) then
      return
    end
  end
end

--- Open (or show) the output buffer of a document in a split.
---@param source_buf integer
---@return integer buf
function M.open(source_buf)
  local uri = vim.uri_from_bufnr(source_buf)
  local buf = buffers[uri]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].undolevels = -1 -- rewritten on every result: no undo history to keep
    vim.bo[buf].filetype = "eager-output"
    name_buffer(buf, uri)
    buffers[uri] = buf
  end
  M.refresh(uri)
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.cmd("wincmd p")
  end
  return buf
end

return M
