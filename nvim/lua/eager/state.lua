-- What the eager server has told us, per document URI. Chunk results are anchored to the
-- buffer with extmarks, so they move with edits as the server's own copy does. A mark spans its
-- statement's text (first line's start to last line's end) and is `invalidate`d when an edit
-- deletes all of it. A whole-line replacement (nvim_buf_set_lines, `cc`, a formatter) deletes
-- the lines and inserts new ones: a mark starting on a replaced line moves past the inserted
-- text, onto the next line (another statement's), while the server, which is sent the change
-- as the characters that differ, keeps the statement on its line and drops its result
-- (eager/stale names that line, which the mark has left). So a result whose whole text was
-- deleted is forgotten. When an identical line was put back (`:%!fmt`, a formatter that
-- rewrites the buffer), the server, which saw no change there, kept it: the plugin then asks
-- for the results again (eager.results), and they come back where the server has them. A
-- reloaded (`:e!`) or unloaded buffer's document was closed: all of it is forgotten.
-- (A block whose first line alone is replaced: its mark starts a line lower, still within the
-- lines eager/stale names, which are all of the block's.)
local M = {}

M.ns = vim.api.nvim_create_namespace("eager.results")

---@class eager.DocState
---@field status? table        last eager/status notification
---@field summary? table       last eager/generationSummary notification
---@field results table[]      eager/chunkResult notifications still valid (any order)
---@field live eager.LiveOutput[]  output of statements still running (eager/output), until
---                            their eager/chunkResult
---@field follow boolean       follow mode as last confirmed by the server
---@field work? integer        eager/status notifications of work going on (generating, running)
---@field deleted string[]     first lines of the results forgotten since forget_replaced
---                            looked, their text deleted whole (are they back?)

---@type table<string, eager.DocState>
M.docs = {}

---@param uri string
---@return eager.DocState
function M.get(uri)
  local doc = M.docs[uri]
  if not doc then
    doc = { results = {}, live = {}, follow = false, deleted = {} }
    M.docs[uri] = doc
  end
  return doc
end

---@param buf? integer
---@return eager.DocState
function M.for_buf(buf)
  if not buf or buf == 0 then
    buf = vim.api.nvim_get_current_buf()
  end
  return M.get(vim.uri_from_bufnr(buf))
end

--- The loaded buffer of a URI, or nil (never creates one).
---@param uri string
---@return integer?
local function loaded_buf(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  local buf = ok and vim.fn.bufnr(fname) or -1
  return (buf > 0 and vim.api.nvim_buf_is_loaded(buf)) and buf or nil
end

--- First and last 0-based line of a chunk result, where it is now.
---@param r eager.ChunkResultParams
---@return integer first, integer last
function M.lines_of(r)
  if r._mark and vim.api.nvim_buf_is_valid(r._buf) then
    local pos = vim.api.nvim_buf_get_extmark_by_id(r._buf, M.ns, r._mark, { details = true })
    if pos[1] and not (pos[3] and pos[3].invalid) then
      return pos[1], math.max(pos[1], pos[3] and pos[3].end_row or pos[1])
    end
  end
  local range = r.chunk.range
  local first = range and range.start.line or r.chunk.startLine or 0
  local last = range and range["end"].line or r.chunk.endLine or first
  return first, last
end

--- The text `r` was anchored to was deleted whole (its mark is invalid, see the top), or its
--- lines were rewritten one by one (nvim_buf_set_lines over as many lines as it had): its
--- start went past the new lines and its end stayed, so the mark ends before it starts. It
--- is gone.
---@param r table
---@return boolean
local function replaced(r)
  if not (r._mark and vim.api.nvim_buf_is_valid(r._buf)) then
    return false
  end
  local pos = vim.api.nvim_buf_get_extmark_by_id(r._buf, M.ns, r._mark, { details = true })
  local d = pos[3]
  if d == nil or pos[1] == nil then
    return false
  end
  local inverted = d.end_row ~= nil and (d.end_row < pos[1] or (d.end_row == pos[1] and (d.end_col or 0) < pos[2]))
  return d.invalid == true or inverted
end

---@param r table
local function forget(r)
  if r._mark and vim.api.nvim_buf_is_valid(r._buf) then
    pcall(vim.api.nvim_buf_del_extmark, r._buf, M.ns, r._mark)
  end
end

--- Forget the results (or, with `list` = "live", the live outputs) of `uri` for which
--- `gone(r)` is true (their marks too).
---@param uri string
---@param gone fun(r: table): boolean
---@param list? "results"|"live"
local function forget_where(uri, gone, list)
  list = list or "results"
  local doc = M.get(uri)
  local keep = {}
  for _, r in ipairs(doc[list]) do
    local deleted = replaced(r)
    if deleted and r._head and #doc.deleted < 10000 then
      doc.deleted[#doc.deleted + 1] = r._head -- for forget_replaced, whoever forgets it first
    end
    if deleted or gone(r) then
      forget(r)
    else
      keep[#keep + 1] = r
    end
  end
  doc[list] = keep
end

---@param from integer
---@param to? integer
---@return fun(r: table): boolean
local function on_lines(from, to)
  return function(r)
    local first, last = M.lines_of(r)
    return last >= from and (to == nil or first <= to)
  end
end

--- Drop the results and live outputs on lines [from, to] (to = nil: to the end).
---@param uri string
---@param from integer
---@param to? integer
function M.drop(uri, from, to)
  forget_where(uri, on_lines(from, to))
  forget_where(uri, on_lines(from, to), "live")
end

--- An extmark over lines first..last of the loaded buffer of `uri` (so `r` moves with edits):
--- from the start of `first` to the end of `last`, invalidated when all of that is deleted
--- (its end stays before text typed at it, such as a line opened below with `o`).
---@param r table
---@param uri string
---@param first integer
---@param last integer
local function anchor(r, uri, first, last)
  local buf = loaded_buf(uri)
  if buf and last < vim.api.nvim_buf_line_count(buf) then
    local end_col = #(vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or "")
    local opts = { end_row = last, end_col = end_col, invalidate = true }
    local ok, id = pcall(vim.api.nvim_buf_set_extmark, buf, M.ns, first, 0, opts)
    if ok then
      -- (its first line: is the statement still in the buffer once its mark is invalid?)
      r._buf, r._mark = buf, id
      r._head = vim.api.nvim_buf_get_lines(buf, first, first + 1, false)[1]
    end
  end
end

--- The end of a result's stream: what follows its last omission mark (the line the worker or
--- the payload cap puts where it left out the middle, `limits.omission_marker`), or nil.
---@param text string
---@return string?
local function end_after_mark(text)
  local from, last = 1, nil
  while true do
    local _, e = text:find("\n%[%.%.%. %d+ characters omitted %.%.%.%]\n", from)
    if not e then
      return last and text:sub(last + 1) or nil
    end
    last, from = e, e + 1
  end
end

--- How much of `the_end` (a result's stream after its omission mark) the live text `shown`
--- already ends with: the longest such overlap that holds the end's first two line ends (its
--- first line is mostly a piece of one, where it was cut: a shorter match, "9995\n" ending
--- "row 39995\n", would be chance and hide what was printed between), else 0.
---@param shown string
---@param the_end string
---@return integer
local function overlap(shown, the_end)
  local probe = the_end:match("^[^\n]*\n[^\n]*\n")
  local from = math.max(1, #shown - #the_end + 1)
  for _ = 1, probe and 100 or 0 do
    local at = shown:find(probe, from, true)
    if not at then
      break
    end
    if the_end:sub(1, #shown - at + 1) == shown:sub(at) then
      return #shown - at + 1
    end
    from = at + 1
  end
  return 0
end

--- What a result `truncated` (cut in its middle to fit the payload cap) shows of a stream
--- shown live whose result copy does not start with the text shown live: that text (whole,
--- not cut: it has more of the middle); then the end the result kept after its last omission
--- mark (the live text stops at the last eager/output, up to a quarter second before the
--- statement ended): `joined` to it when the live text ends with its start, else as `the_end`,
--- under a note that what came between is not shown. Without such a mark: the live text alone.
---@class eager.KeptStream
---@field text string       the live text (with the rest of the end when `joined`)
---@field the_end? string   the result's end, shown under a note (not `joined`)
---@field joined? boolean

---@param p eager.ChunkResultParams
---@param live eager.LiveOutput
---@return { stdout?: eager.KeptStream, stderr?: eager.KeptStream }?
local function kept_live(p, live)
  if p.truncated ~= true then
    return nil -- (not a prefix without `truncated`: a Jupyter kernel's cut output, shown whole)
  end
  local kept
  for _, stream in ipairs({ "stdout", "stderr" }) do
    local text = type(p[stream]) == "string" and p[stream] or ""
    local shown = live[stream]
    if shown ~= "" and text:sub(1, #shown) ~= shown then
      kept = kept or {}
      local gap = live.gaps[stream]
      shown = gap and M.with_gap(shown, gap) or shown
      local the_end = end_after_mark(text)
      local n = the_end and overlap(shown, the_end) or 0
      if n > 0 then
        kept[stream] = { text = shown .. the_end:sub(n + 1), joined = true }
      else
        kept[stream] = { text = shown, the_end = the_end }
      end
    end
  end
  return kept
end

--- Store a chunk result; it replaces any result on the lines it covers, and an earlier result
--- of the same statement (the server ledger's statementId) wherever it has moved. It ends the
--- statement's live output (same chunk index, or on its lines): the result has all of it, or
--- when cut to fit its cap, `_live` keeps the live text of a stream it lacks part of and the
--- end the result has of it (bounded by LIVE_CAP and the result's cap, gone with the result).
---@param p eager.ChunkResultParams
function M.add_result(p)
  local range = p.chunk.range
  local first = range and range.start.line or p.chunk.startLine or 0
  local last = range and range["end"].line or p.chunk.endLine or first
  local index = p.chunk.index
  for _, l in ipairs(M.get(p.uri).live) do
    if l.index == index then
      p._live = kept_live(p, l)
    end
  end
  forget_where(p.uri, function(l)
    return l.index == index
  end, "live")
  M.drop(p.uri, first, last)
  if p.statementId ~= nil then
    forget_where(p.uri, function(r)
      return r.statementId == p.statementId
    end)
  end
  anchor(p, p.uri, first, last)
  table.insert(M.get(p.uri).results, p)
end

--- Output a running statement printed, kept until its eager/chunkResult. Either text is kept
--- in LIVE_CAP bytes: past that, its first half and its newest half (live output goes on past
--- the interpreter's own cap: a progress bar's latest state is what the user waits for); `gaps`
--- says where the middle was left out and how many bytes it had.
---@class eager.LiveOutput
---@field index integer        chunk.index of the statement (its eager/chunkResult has the same)
---@field chunk table          the chunk as the first eager/output placed it
---@field stdout string
---@field stderr string
---@field gaps table<string, {at: integer, bytes: integer}>  per stream: bytes kept before the gap, bytes left out
---@field _buf? integer
---@field _mark? integer

M.LIVE_CAP = 4 * 64 * 1024 -- bytes: 64 Ki characters of UTF-8 at most four bytes each

--- Append `text` to `live`'s `stream`, kept as its head and its end within LIVE_CAP bytes
--- (cut at UTF-8 character boundaries; the gap grows as more comes).
---@param live eager.LiveOutput
---@param stream "stdout"|"stderr"
---@param text string
local function append_kept(live, stream, text)
  local all = live[stream] .. text
  if #all <= M.LIVE_CAP then
    live[stream] = all
    return
  end
  local half = math.floor(M.LIVE_CAP / 2)
  local gap = live.gaps[stream]
  local head = gap and gap.at or half
  while head > 0 and all:byte(head + 1) and all:byte(head + 1) >= 0x80 and all:byte(head + 1) < 0xC0 do
    head = head - 1 -- not inside a UTF-8 sequence
  end
  local rest = all:sub(head + 1)
  local skip = math.max(#rest - half, 0)
  while skip < #rest and rest:byte(skip + 1) >= 0x80 and rest:byte(skip + 1) < 0xC0 do
    skip = skip + 1
  end
  live[stream] = all:sub(1, head) .. rest:sub(skip + 1)
  live.gaps[stream] = { at = head, bytes = (gap and gap.bytes or 0) + skip }
end

--- A live stream's kept text with a line where its middle was left out (`gap`).
---@param text string
---@param gap {at: integer, bytes: integer}
---@return string
function M.with_gap(text, gap)
  local head = text:sub(1, gap.at)
  local nl = (head == "" or head:sub(-1) == "\n") and "" or "\n"
  return ("%s%s[... %d bytes not kept ...]\n%s"):format(head, nl, gap.bytes, text:sub(gap.at + 1))
end

--- Add what a running statement printed (eager/output) to its live output, made on the first.
--- A live output of another statement on the same lines (an earlier run's) is dropped.
---@param p eager.OutputParams
---@return eager.LiveOutput
function M.add_output(p)
  local doc = M.get(p.uri)
  local index = p.chunk.index
  local live
  for _, l in ipairs(doc.live) do
    if l.index == index then
      live = l
    end
  end
  if not live then
    local range = p.chunk.range
    local first = range and range.start.line or p.chunk.startLine or 0
    local last = range and range["end"].line or p.chunk.endLine or first
    forget_where(p.uri, on_lines(first, last), "live")
    live = { index = index, chunk = p.chunk, stdout = "", stderr = "", gaps = {} }
    anchor(live, p.uri, first, last)
    table.insert(doc.live, live)
  end
  local out = type(p.stdout) == "string" and p.stdout or ""
  local err = type(p.stderr) == "string" and p.stderr or ""
  append_kept(live, "stdout", out)
  append_kept(live, "stderr", err)
  return live
end

--- Forget all that `uri`'s document showed: its buffer was reloaded (`:e!`: Neovim closes and
--- reopens the document, which the server starts afresh) or unloaded (the server forgot it).
---@param uri string
function M.forget_doc(uri)
  local doc = M.docs[uri]
  if not doc then
    return
  end
  for _, list in ipairs({ "results", "live" }) do
    for _, r in ipairs(doc[list]) do
      forget(r)
    end
  end
  M.docs[uri] = nil
end

--- Forget every live output of `uri` (nothing runs any more).
---@param uri string
function M.clear_live(uri)
  forget_where(uri, function()
    return true
  end, "live")
end

--- Forget the results and live outputs of `uri` whose text was deleted whole (see the top).
--- True when one of them may be one the server kept: its first line is in `buf` again, as when
--- lines were replaced by the same text (the caller then asks for the results again).
---@param uri string
---@param buf integer
---@return boolean maybe_kept, boolean forgot
function M.forget_replaced(uri, buf)
  local doc = M.get(uri)
  for _, list in ipairs({ "results", "live" }) do
    forget_where(uri, function()
      return false
    end, list)
  end
  local deleted = doc.deleted
  doc.deleted = {}
  local heads, maybe_kept = nil, false
  for _, head in ipairs(deleted) do
    if head ~= "" and not maybe_kept then
      if not heads then
        heads = {}
        for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
          heads[line] = true
        end
      end
      maybe_kept = heads[head] == true
    end
  end
  return maybe_kept, #deleted > 0
end

--- Live outputs of a document in document order.
---@param uri string
---@return eager.LiveOutput[]
function M.sorted_live(uri)
  forget_where(uri, replaced, "live")
  local list = vim.list_extend({}, M.get(uri).live)
  table.sort(list, function(a, b)
    return M.lines_of(a) < M.lines_of(b)
  end)
  return list
end

--- Chunk results of a document in document order.
---@param uri string
---@return table[]
function M.sorted_results(uri)
  forget_where(uri, replaced)
  local list = vim.list_extend({}, M.get(uri).results)
  table.sort(list, function(a, b)
    local la, lb = M.lines_of(a), M.lines_of(b)
    if la ~= lb then
      return la < lb
    end
    return a.chunk.index < b.chunk.index
  end)
  return list
end

return M
