-- eager/streamEdit (docs/protocol.md): the server streams generated text and Neovim writes it
-- at a region of its own, so the text always lands at the right place whatever the user types.
--
-- The region is two extmarks. The start mark has right gravity (text inserted at the start goes
-- before the region); the end mark has left gravity (text inserted at the end goes after it),
-- except while the region is empty, when both have right gravity (a line typed at the insertion
-- point as the generation starts stays above the generated code; an unfinished line typed there
-- goes below it: `settle`). Our own inserts go at the end
-- mark and both marks are then set explicitly. The region is intact while the text between the
-- marks is exactly what we inserted; an edit inside it stops the generation ("edited").
--
-- Undo: every change of a generation is joined (`undojoin`) to the previous one when the buffer
-- did not change in between, so one `u` removes a whole generation; its first change starts an
-- undo step of its own (a repair is one step, not joined to the generation before it). If the user changed the
-- buffer meanwhile, the generation is split around their change into several undo steps.
--
-- Every answer carries the region's range in the version whose didChange was sent just before.
local M = {}

M.ns = vim.api.nvim_create_namespace("eager.stream")

---@class eager.StreamRegion
---@field buf integer
---@field client_id integer
---@field s integer start extmark id
---@field e integer end extmark id
---@field expected string text inserted so far (what the region must hold)
---@field tick integer b:changedtick right after our last change
---@field eof boolean we opened a line at the end of the buffer, or it was empty (that line goes at `end`)
---@field trim boolean begin's trimTrailing: what `end` would do with the line break after it
---@field t? integer extmark at the start of the unfinished last line (left gravity)
---@field a? integer extmark where `begin` placed the empty region (left gravity): `settle`
---@field trail? integer bytes after the end mark on its line right after our last change

---@type table<string, eager.StreamRegion>  generationId -> region
M.regions = {}

local api = vim.api

---@param client vim.lsp.Client
---@param buf integer
local function flush(client, buf)
  local ok, ct = pcall(require, "vim.lsp._changetracking")
  if ok and ct.flush then
    pcall(ct.flush, client, buf)
  end
end

---@param buf integer
---@return integer
local function version(buf)
  return vim.lsp.util.buf_versions[buf] or 0
end

---@param buf integer
---@param row integer
---@return string
local function line(buf, row)
  return api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ""
end

--- LSP position -> (row, byte column); a row past the end is clamped to the end of the buffer.
local function to_byte(buf, pos, enc)
  local n = api.nvim_buf_line_count(buf)
  if pos.line >= n then
    return n, 0
  end
  local text = line(buf, pos.line)
  local ok, col = pcall(vim.str_byteindex, text, enc, pos.character, false)
  return pos.line, ok and col or #text
end

--- (row, byte column) -> LSP position in the client's encoding.
local function to_lsp(buf, row, col, enc)
  local text = line(buf, row)
  local ok, ch = pcall(vim.str_utfindex, text, enc, math.min(col, #text), false)
  return { line = row, character = ok and ch or col }
end

---@param st eager.StreamRegion
---@param id integer
local function pos(st, id)
  local p = api.nvim_buf_get_extmark_by_id(st.buf, M.ns, id, {})
  return p[1], p[2]
end

--- Place (or move) both marks; gravities as described at the top.
local function place(st, sr, sc, er, ec)
  local empty = sr == er and sc == ec
  -- new marks each time: updating a mark in place keeps its old gravity when it does not move
  for _, id in ipairs({ st.s, st.e }) do
    pcall(api.nvim_buf_del_extmark, st.buf, M.ns, id)
  end
  st.s = api.nvim_buf_set_extmark(st.buf, M.ns, sr, sc, { right_gravity = true })
  st.e = api.nvim_buf_set_extmark(st.buf, M.ns, er, ec, { right_gravity = empty })
end

---@param st eager.StreamRegion
---@return string
local function region_text(st)
  local sr, sc = pos(st, st.s)
  local er, ec = pos(st, st.e)
  if sr == nil or er == nil or er < sr or (er == sr and ec < sc) then
    return "\0" -- gone: never equal to what we inserted
  end
  return table.concat(api.nvim_buf_get_text(st.buf, sr, sc, er, ec, {}), "\n")
end

--- Run `fn` (which changes the buffer) as part of the generation's undo step.
---@param st eager.StreamRegion
---@param fn fun()
local function change(st, fn)
  api.nvim_buf_call(st.buf, function()
    if st.tick ~= nil and vim.b[st.buf].changedtick == st.tick then
      pcall(vim.cmd.undojoin) -- fails harmlessly right after an undo
    else
      -- A new undo step (the generation's first change, or the first after someone else's):
      -- Neovim closes an undo block only at user input, so without this break a generation
      -- started with no keystroke in between (a repair with repair.mode "auto", a script) would
      -- join the previous change's step. Setting 'undolevels' closes the block (:h undo-break).
      pcall(vim.cmd, "let &l:undolevels = &l:undolevels")
    end
    fn()
  end)
  st.tick = vim.b[st.buf].changedtick
end

--- Where `text` ends when inserted at (row, col).
local function end_of(row, col, lines)
  if #lines == 1 then
    return row, col + #lines[1]
  end
  return row + #lines - 1, #lines[#lines]
end

---@param st eager.StreamRegion
---@param client vim.lsp.Client
---@return eager.StreamEditResult
local function answer(st, client)
  flush(client, st.buf)
  local enc = client.offset_encoding
  local sr, sc = pos(st, st.s)
  local er, ec = pos(st, st.e)
  return {
    ok = true,
    version = version(st.buf),
    range = { start = to_lsp(st.buf, sr, sc, enc), ["end"] = to_lsp(st.buf, er, ec, enc) },
  }
end

---@param id string
local function forget(id)
  local st = M.regions[id]
  M.regions[id] = nil
  if st and api.nvim_buf_is_valid(st.buf) then
    pcall(api.nvim_buf_del_extmark, st.buf, M.ns, st.s)
    pcall(api.nvim_buf_del_extmark, st.buf, M.ns, st.e)
    for _, id in ipairs({ st.t, st.a }) do
      pcall(api.nvim_buf_del_extmark, st.buf, M.ns, id)
    end
  end
end

--- The user edited the generated text above the unfinished line the model was writing: that
--- line was never run (`x = d` of `x = d - 100` reads as another statement), so it goes, as a
--- stop removes it, when it is still exactly as written and alone on its line (a line typed
--- at it, or joined to it, stays): its text, and with begin's trimTrailing the line break after
--- it, as `end` (keepLines, trimTrailing) would. Its own undo step, after the user's change.
---@param st eager.StreamRegion
local function drop_unfinished(st)
  local tail = st.expected:match("\n([^\n]*)$")
  if tail == nil or tail == "" or st.t == nil then
    return -- no unfinished line, or only one line (the edit was on it)
  end
  local er, ec = pos(st, st.e)
  local sr = pos(st, st.s)
  local tr, tc = pos(st, st.t)
  -- The line starts at its mark (nothing typed at its start or joined to it) and is exactly
  -- the model's text up to the end mark.
  if er == nil or sr == nil or sr >= er or tr ~= er or tc ~= 0 or ec ~= #tail or line(st.buf, er) ~= tail then
    return
  end
  local n = api.nvim_buf_line_count(st.buf)
  change(st, function()
    -- (the last line's line break is the buffer's own end of line: the line goes then too)
    if st.trim or (st.eof and er == n - 1) then
      api.nvim_buf_set_lines(st.buf, er, er + 1, false, {}) -- the line and its line break
    else
      api.nvim_buf_set_text(st.buf, er, 0, er, ec, { "" })
    end
  end)
end

---@param id string
---@param reason "edited"|"closed"|"conflict"
---@return eager.StreamEditResult
local function refuse(id, reason)
  forget(id)
  return { ok = false, reason = reason }
end

---@param p eager.StreamBeginParams
---@param client vim.lsp.Client
---@return eager.StreamEditResult
local function begin(p, client)
  local buf = vim.uri_to_bufnr(p.uri)
  if not api.nvim_buf_is_loaded(buf) then
    return { ok = false, reason = "closed" }
  end
  flush(client, buf)
  if p.version ~= version(buf) then
    return { ok = false, reason = "conflict" } -- the server rebases onto our didChange and retries
  end
  local enc = client.offset_encoding
  local st = { buf = buf, client_id = client.id, expected = "", eof = false, trim = p.trimTrailing == true } ---@type eager.StreamRegion
  local sr, sc = to_byte(buf, p.position, enc)
  local er, ec = sr, sc
  if type(p.replace) == "table" then
    sr, sc = to_byte(buf, p.replace.start, enc)
    er, ec = to_byte(buf, p.replace["end"], enc)
  end
  local before = type(p.before) == "string" and p.before or ""
  local after = type(p.after) == "string" and p.after or ""
  local n = api.nvim_buf_line_count(buf)
  if n == 1 and sr == 0 and line(buf, 0) == "" then
    -- An empty buffer's one line is no line of the file (writing it gives an empty file): like
    -- a line opened at the end, it goes at `end` when the code ends with its own line break.
    st.eof = true
  end
  if sr >= n then
    -- after the buffer's final newline: open a line there to hold the region (removed at end)
    st.eof = true
    change(st, function()
      api.nvim_buf_set_lines(buf, n, n, false, { "" })
    end)
    sr, sc, er, ec = n, 0, math.min(er, n), 0
  end
  if er >= api.nvim_buf_line_count(buf) then
    -- replacing through the buffer's final newline (a repair of its last statement): that
    -- newline is the buffer's own end of line and stays, so the line it leaves goes at `end`
    -- as a line opened at the end does (else a blank last line was left after the code)
    er = api.nvim_buf_line_count(buf) - 1
    ec = #line(buf, er)
    st.eof = true
  end
  local rr, rc = sr, sc
  if before ~= "" or after ~= "" or er ~= sr or ec ~= sc then
    local lines = vim.split(before .. after, "\n", { plain = true })
    change(st, function()
      api.nvim_buf_set_text(buf, sr, sc, er, ec, lines)
    end)
    rr, rc = end_of(sr, sc, vim.split(before, "\n", { plain = true }))
  end
  place(st, rr, rc, rr, rc)
  st.a = api.nvim_buf_set_extmark(buf, M.ns, rr, rc, { right_gravity = false })
  M.regions[p.generationId] = st
  return answer(st, client)
end

--- Before the first text: text typed at the empty region's point went before it (a line typed
--- there as the generation starts stays above the code), but an unfinished line of it would
--- have the first generated line joined to its end (`# prv0 = 0`): that line goes below the
--- code instead, the point moves to its start (as VS Code's TrackedRegion.settle).
---@param st eager.StreamRegion
local function settle(st)
  local ar, ac = pos(st, st.a)
  local sr, sc = pos(st, st.s)
  -- (begin places the point at a line start; an anchor moved off it, by a deletion across it,
  -- says nothing)
  if ar == nil or sr == nil or ac ~= 0 or sc == 0 or (sr == ar and sc <= ac) then
    return -- nothing typed at the point, or whole lines
  end
  place(st, sr, 0, sr, 0)
end

---@param st eager.StreamRegion
---@param text string
local function insert(st, text)
  local sr, sc = pos(st, st.s)
  local er, ec = pos(st, st.e)
  local lines = vim.split(text, "\n", { plain = true })
  change(st, function()
    api.nvim_buf_set_text(st.buf, er, ec, er, ec, lines)
  end)
  local nr, nc = end_of(er, ec, lines)
  place(st, sr, sc, nr, nc)
  st.expected = st.expected .. text
  st.trail = #line(st.buf, nr) - nc
  if #lines > 1 then
    -- where the (possibly empty) last line starts: text typed at its start goes after the mark
    if st.t then
      pcall(api.nvim_buf_del_extmark, st.buf, M.ns, st.t)
    end
    st.t = api.nvim_buf_set_extmark(st.buf, M.ns, nr, 0, { right_gravity = false })
  end
end

--- Whether inserting `text` would glue a partial line (no line break at its end) in front of
--- text that follows the end mark on its line: the user's, typed at the insertion point before
--- the server knew. Such an insert is declined (`conflict`); the server sends it again whole.
---@param st eager.StreamRegion
---@param text string
local function glues(st, text)
  local er, ec = pos(st, st.e)
  local rest = er ~= nil and line(st.buf, er):sub(ec + 1) or ""
  -- (a lone \r: the line break of a CRLF file read as 'fileformat' unix, shown as ^M)
  return text ~= "" and not text:match("[\r\n]$") and rest ~= "" and rest ~= "\r"
end

---@param st eager.StreamRegion
---@param p eager.StreamEndParams
local function finish(st, p)
  local sr, sc = pos(st, st.s)
  local keep = tonumber(p.keepLines)
  if keep and keep >= 0 then
    local kept, count, at = st.expected, 0, 0
    while count < keep do
      local nl = kept:find("\n", at + 1, true)
      if not nl then
        break
      end
      count, at = count + 1, nl
    end
    if count == keep and at < #st.expected then
      local dr, dc = sr, sc
      if keep > 0 then
        dr, dc = sr + keep, 0
      end
      local er, ec = pos(st, st.e)
      change(st, function()
        api.nvim_buf_set_text(st.buf, dr, dc, er, ec, { "" })
      end)
      st.expected = st.expected:sub(1, at)
      place(st, sr, sc, dr, dc)
    end
  end
  if (p.trimTrailing == true or st.eof) and (st.expected == "" or st.expected:sub(-1) == "\n") then
    local er, ec = pos(st, st.e)
    local n = api.nvim_buf_line_count(st.buf)
    if ec == 0 and line(st.buf, er) == "" and n > 1 and (st.expected ~= "" or st.eof) then
      change(st, function()
        api.nvim_buf_set_lines(st.buf, er, er + 1, false, {})
      end)
    end
  end
end

--- The handler for the server's eager/streamEdit requests.
---@param p eager.StreamBeginParams|eager.StreamInsertParams|eager.StreamEndParams
---@return eager.StreamEditResult|nil answer, table|nil error
function M.handle(_, p, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(p) ~= "table" or type(p.generationId) ~= "string" then
    return nil, { code = -32602, message = "eager: invalid eager/streamEdit" }
  end
  if p.op == "begin" then
    forget(p.generationId)
    return begin(p, client)
  end
  local st = M.regions[p.generationId]
  if not st then
    return { ok = false, reason = "closed" }
  end
  if not api.nvim_buf_is_loaded(st.buf) then
    return refuse(p.generationId, "closed")
  end
  local now = region_text(st)
  if now == st.expected and st.trail ~= nil and st.expected:match("[^\n]$") then
    -- Text typed at the end of the unfinished line we are writing goes after the end mark, so
    -- the region is unchanged, but it is on the model's line: the rest of that line would go
    -- between (`e = d - 100` then the user's ` + 5`). An edit on the line, as in VS Code.
    local er, ec = pos(st, st.e)
    if er ~= nil and #line(st.buf, er) - ec > st.trail then
      now = nil
    end
  end
  if now ~= st.expected then
    -- the user changed text inside the region (kept for :checkhealth-style debugging)
    M.last_refusal = { op = p.op, seq = p.seq, text = now, expected = st.expected }
    -- the region's last line is unfinished when the op refused would have gone on with it: an
    -- insert that does not start with a line break, an `end` without `complete`
    local goes_on = p.op == "insert" and type(p.text) == "string" and p.text ~= "" and not p.text:match("^[\r\n]")
    if goes_on or (p.op == "end" and p.complete ~= true) then
      pcall(drop_unfinished, st)
    end
    return refuse(p.generationId, "edited")
  end
  if p.op == "insert" then
    if type(p.text) ~= "string" then
      return nil, { code = -32602, message = "eager: eager/streamEdit insert needs `text`" }
    end
    if st.expected == "" then
      settle(st)
    end
    if glues(st, p.text) then
      local declined = answer(st, client) -- where the region is: the server decides again
      declined.ok, declined.reason = false, "conflict"
      return declined
    end
    insert(st, p.text)
    return answer(st, client)
  elseif p.op == "end" then
    finish(st, p)
    local result = answer(st, client)
    forget(p.generationId)
    return result
  end
  return nil, { code = -32602, message = "eager: unknown eager/streamEdit op " .. tostring(p.op) }
end

--- Regions of a buffer being written (for tests and statuslines): { start = {row, col}, end = {row, col} }.
---@param buf integer
function M.regions_of(buf)
  local out = {}
  for id, st in pairs(M.regions) do
    if st.buf == buf then
      local sr, sc = pos(st, st.s)
      local er, ec = pos(st, st.e)
      out[#out + 1] = { id = id, start = { sr, sc }, ["end"] = { er, ec } }
    end
  end
  return out
end

return M
