-- eager-lsp for Neovim 0.11+: AI-written Python runs while it is still being written.
-- The server does the work; this registers it, forwards the commands of docs/protocol.md and
-- keeps what its custom notifications say for the statusline and :EagerOutput.
local state = require("eager.state")

local M = {}

-- `python -c SERVER_MAIN serve`, not `python -m eager_lsp serve`: Neovim starts the server in
-- the workspace, and `-m` imports `runpy` (and Python 3.10 eager_lsp too) with the current
-- directory first on sys.path, so a workspace `runpy.py` or `eager_lsp/` would run. The code
-- drops that entry before importing anything. Same string as eager_lsp.SERVER_MAIN.
M.DROP_CWD = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
M.SERVER_MAIN = M.DROP_CWD
  .. "from eager_lsp.entry import main; sys.argv[0] = 'eager-lsp'; sys.exit(main())"

local defaults = {
  -- Python that has eager-lsp installed; used to build `cmd` when `cmd` is not given.
  python = "python3",
  ---@type string[]?  full server command; default { python, "-c", M.SERVER_MAIN, "serve" }
  cmd = nil,
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", ".git" },
  -- The server's settings (docs/configuration.md), e.g. { llm = { model = "..." } }: sent as
  -- initializationOptions and answered to workspace/configuration (section "eager").
  settings = {},
  inlay_hints = true, -- enable inlay hints (the values) in buffers the server attaches to
  -- Normal-mode key that shows the result under the cursor (full value, output, traceback) in a
  -- float, falling back to the usual `K` (other servers' hover, or 'keywordprg': pydoc for
  -- Python) on lines without a result. false: no mapping (vim.lsp.buf.hover() still works).
  hover_key = "K",
  notify = true, -- vim.notify generation summaries and server errors
  -- "ask": before the server starts in a folder, ask once whether to trust it (trust.lua);
  -- "always": trust every folder.
  trust = "ask",
  -- Write generated text with eager/streamEdit (a region of extmarks that moves with your
  -- edits, one undo step per generation) instead of workspace/applyEdit.
  stream_edits = true,
  cursor_debounce_ms = 60, -- eager/cursor (follow mode knows when you have left a line)
  -- Anything else for vim.lsp.config("eager", ...): capabilities, on_attach, cmd_env, ...
  lsp = {},
}

M.config = vim.deepcopy(defaults)

---@param t table
local function dict(t)
  return vim.tbl_isempty(t) and vim.empty_dict() or t
end

--- `over` on top of `base`: tables merge key by key, lists (cmd, filetypes, ...) replace.
local function merge(base, over)
  if over == nil or (type(over) == "table" and next(over) == nil and type(base) == "table") then
    return base -- nothing to override
  end
  if type(base) ~= "table" or type(over) ~= "table" or vim.islist(base) or vim.islist(over) then
    return over
  end
  local out = vim.deepcopy(base)
  for k, v in pairs(over) do
    out[k] = merge(out[k], v)
  end
  return out
end

--- The folder whose trust decides about a buffer: its workspace root, else its directory.
---@param buf integer
---@return string folder, string? root
function M.folder(buf)
  local root = vim.fs.root(buf, M.config.root_markers)
  local name = vim.api.nvim_buf_get_name(buf)
  return root or (name ~= "" and vim.fs.dirname(name)) or vim.fn.getcwd(), root
end

--- `root_dir` for vim.lsp.config: the client starts only in a trusted folder (trust.lua), so
--- nothing runs in a folder the user has not trusted. `user_root` is a root_dir from opts.lsp.
---@param user_root? string|fun(bufnr: integer, on_dir: fun(root?: string))
local function trusted_root(user_root)
  return function(bufnr, on_dir)
    local function gate(root)
      local folder = root or M.folder(bufnr)
      require("eager.trust").check(folder, M.config.trust, function(trusted)
        if trusted then
          on_dir(root)
        end
      end)
    end
    if type(user_root) == "function" then
      user_root(bufnr, gate)
    elseif type(user_root) == "string" then
      gate(user_root)
    else
      local _, root = M.folder(bufnr)
      gate(root)
    end
  end
end

--- Trust the folder of a buffer (saved) and start the server for its buffers.
---@param buf? integer
function M.trust(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local folder = M.folder(buf)
  require("eager.trust").set(folder, "allow")
  vim.notify("eager: trusted " .. require("eager.trust").real(folder), vim.log.levels.INFO)
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then
      pcall(vim.api.nvim_exec_autocmds, "FileType", { group = "nvim.lsp.enable", buffer = b })
    end
  end
end

--- Register and enable the eager language server.
---@param opts? table  see `defaults` above
function M.setup(opts)
  local cfg = merge(defaults, opts or {})
  if cfg.trust ~= "ask" and cfg.trust ~= "always" then
    vim.notify(('eager: trust must be "ask" or "always", not %s; asking'):format(vim.inspect(cfg.trust)), vim.log.levels.WARN)
    cfg.trust = "ask"
  end
  M.config = cfg

  local settings = dict(cfg.settings)
  -- Neovim applies `documentChanges` but does not advertise them; without them the server must
  -- send unversioned edits, which land in the wrong place when the user typed since Neovim last
  -- sent didChange. With them, a stale edit is refused (see handlers.lua) and the server retries.
  local capabilities = merge(
    vim.lsp.protocol.make_client_capabilities(),
    {
      workspace = { workspaceEdit = { documentChanges = true } },
      experimental = { eagerStreamEdits = cfg.stream_edits ~= false },
    }
  )
  vim.lsp.config(
    "eager",
    merge({
      cmd = cfg.cmd or { cfg.python, "-c", M.SERVER_MAIN, "serve" },
      capabilities = capabilities,
      filetypes = cfg.filetypes,
      root_markers = cfg.root_markers,
      init_options = settings,
      settings = { eager = settings },
      handlers = require("eager.handlers").handlers,
    }, vim.tbl_extend("force", cfg.lsp or {}, { root_dir = trusted_root((cfg.lsp or {}).root_dir) }))
  )
  vim.lsp.enable("eager")

  local group = vim.api.nvim_create_augroup("eager", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == "eager" then
        if M.config.inlay_hints then
          vim.lsp.inlay_hint.enable(true, { bufnr = args.buf })
        end
        M.map_hover(args.buf)
      end
      if client and client.name == "eager" then
        M.track_cursor(args.buf)
        M.track_lines(args.buf)
        vim.b[args.buf].eager_unnamed = vim.api.nvim_buf_get_name(args.buf) == ""
      end
    end,
  })
  -- A buffer attached without a file (`:enew`) and then written to one (`:w a.py`) is named
  -- by the write, which runs no buffer-local autocommand: Neovim's didSave handler, which
  -- reopens a renamed buffer under its new URI, does not run, and the server would go on
  -- knowing it as "file://" only. Attached again, it is opened under its file's URI.
  vim.api.nvim_create_autocmd("BufWritePost", {
    group = group,
    callback = function(args)
      if vim.b[args.buf].eager_unnamed and vim.api.nvim_buf_get_name(args.buf) ~= "" then
        vim.b[args.buf].eager_unnamed = false
        local client = M.client(args.buf)
        if client then
          vim.lsp.buf_detach_client(args.buf, client.id)
          vim.lsp.buf_attach_client(args.buf, client.id)
        end
      end
    end,
  })

  require("eager.commands").create()
end

--- Map `hover_key` in `buf` unless the user maps it there already. Neovim's own default (`K` →
--- vim.lsp.buf.hover(), set when a server offers hover) is replaced: it says "No information
--- available" on lines without a result, where `K` should still reach pydoc.
---@param buf integer
function M.map_hover(buf)
  local key = M.config.hover_key
  if not key or key == "" then
    return
  end
  local existing = vim.fn.maparg(key, "n", false, true)
  local ours = { ["eager: hover"] = true, ["vim.lsp.buf.hover()"] = true }
  if existing.buffer == 1 and not ours[existing.desc or ""] then
    return
  end
  vim.keymap.set("n", key, function()
    M.hover()
  end, { buffer = buf, desc = "eager: hover" })
end

--- The result on the cursor's line in a float; without one, the usual `K`. Its error (E349 on
--- a line without a word) is said as `K` says it, as an error message: raised, it would come
--- from the answer's callback with "vim.schedule callback:" and a Lua traceback.
---@param buf? integer
function M.hover(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local client = M.client(buf)
  local function fallback()
    local others = vim.tbl_filter(function(c)
      return c.name ~= "eager" and c:supports_method("textDocument/hover")
    end, vim.lsp.get_clients({ bufnr = buf }))
    if #others > 0 then
      return vim.lsp.buf.hover()
    end
    local ok, err = pcall(vim.cmd, "normal! K")
    if not ok then
      err = tostring(err)
      vim.api.nvim_echo({ { err:match("E%d+: .*$") or err, "ErrorMsg" } }, true, {})
    end
  end
  if not client then
    return fallback()
  end
  local win = vim.api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  client:request("textDocument/hover", params, function(err, result)
    if err or not result or result == vim.NIL or not result.contents then
      return fallback()
    end
    local lines = vim.lsp.util.convert_input_to_markdown_lines(result.contents)
    vim.lsp.util.open_floating_preview(lines, "markdown", { focus_id = "eager-hover", border = "rounded" })
  end, buf)
end

---@type table<integer, uv.uv_timer_t>
local cursor_timers = {}

--- Tell the server where the cursor is (eager/cursor), now. Sending flushes the pending
--- didChange first, so `version` is one the server has.
---@param buf? integer
function M.send_cursor(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local client = M.client(buf)
  local win = vim.fn.bufwinid(buf)
  if not client or win == -1 then
    return false
  end
  local pos = vim.lsp.util.make_position_params(win, client.offset_encoding).position
  client:notify("eager/cursor", {
    uri = vim.uri_from_bufnr(buf),
    position = pos,
    version = vim.lsp.util.buf_versions[buf],
  })
  return true
end

--- Send eager/cursor (debounced) when the cursor moves in `buf`.
---@param buf integer
function M.track_cursor(buf)
  local group = vim.api.nvim_create_augroup("eager.cursor." .. buf, { clear = true })
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI" }, {
    group = group,
    buffer = buf,
    callback = function()
      local timer = cursor_timers[buf]
      if not timer then
        timer = assert(vim.uv.new_timer())
        cursor_timers[buf] = timer
      end
      timer:stop()
      timer:start(M.config.cursor_debounce_ms or 60, 0, vim.schedule_wrap(function()
        if vim.api.nvim_buf_is_loaded(buf) then
          M.send_cursor(buf)
        end
      end))
    end,
  })
  vim.api.nvim_create_autocmd("BufUnload", {
    group = group,
    buffer = buf,
    once = true,
    callback = function()
      local timer = cursor_timers[buf]
      cursor_timers[buf] = nil
      if timer then
        timer:stop()
        timer:close()
      end
    end,
  })
end

local watched = {} ---@type table<integer, boolean>  buffers whose changes track_lines watches
local checking = {} ---@type table<integer, boolean>  a check is scheduled

--- After changes to `buf`, forget the results whose text was deleted whole; when lines were put
--- back with the same text (a formatter, `:%!`, `:e!`), ask the server for its results again
--- (eager.results): it kept them, having seen no change there (state.lua, the top).
---@param buf integer
local function check_replaced(buf)
  checking[buf] = nil
  if not vim.api.nvim_buf_is_loaded(buf) or not M.client(buf) then
    return
  end
  local uri = vim.uri_from_bufnr(buf)
  local doc = state.get(uri)
  if #doc.results + #doc.live + #doc.deleted == 0 then
    return
  end
  local maybe_kept, forgot = state.forget_replaced(uri, buf)
  if forgot then
    require("eager.output").refresh(uri)
  end
  if maybe_kept then
    M.exec("eager.results", {}, { buf = buf })
  end
end

--- Watch `buf`'s changes for results to forget or to ask for again (check_replaced), once per
--- buffer, checked once per batch of changes.
---@param buf integer
function M.track_lines(buf)
  if watched[buf] then
    return
  end
  local function schedule()
    if not checking[buf] then
      checking[buf] = true
      vim.schedule(function()
        check_replaced(buf)
      end)
    end
  end
  local uri = vim.uri_from_bufnr(buf)
  local function gone()
    -- reloaded (`:e!`: Neovim closes and reopens the document; the server starts it afresh)
    -- or unloaded (the server forgot it): what the plugin showed for it goes too
    vim.schedule(function()
      state.forget_doc(uri)
      require("eager.output").refresh(uri)
      pcall(vim.cmd.redrawstatus)
    end)
  end
  watched[buf] = vim.api.nvim_buf_attach(buf, false, {
    on_lines = schedule,
    on_reload = gone,
    on_detach = function()
      watched[buf], checking[buf] = nil, nil
      gone()
    end,
  }) or nil
end

---@param buf? integer
---@return integer
local function resolve(buf)
  return (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
end

--- The eager client attached to a buffer, if any.
---@param buf? integer
---@return vim.lsp.Client?
function M.client(buf)
  return vim.lsp.get_clients({ name = "eager", bufnr = resolve(buf) })[1]
end

--- False, having said to save it first, when the server is attached to `buf` and it has no
--- file. Such a buffer (`:enew`, `:set ft=python`) has the URI "file://", every such buffer the
--- same one, which names no document of its own: a generation's edits could not find it (the
--- plugin answered "the document was closed"). Once written to a file (`:w a.py`), it is
--- opened to the server under that file's URI (the BufWritePost in setup). Without the server
--- (not a Python buffer, a folder not trusted), true: the caller says why nothing runs.
---@param buf? integer
---@return boolean
function M.has_file(buf)
  buf = resolve(buf)
  if vim.api.nvim_buf_get_name(buf) ~= "" or not M.client(buf) then
    return true
  end
  vim.notify("eager: this buffer has no file: save it first (:w name.py), then eager can run it", vim.log.levels.WARN)
  return false
end

--- Send one of the server's commands for a buffer (not for one without a file: has_file).
--- `args` (or `args(client)`) is the argument object; `uri` is filled in. `on_result(result)`
--- runs when the server answers.
---@param command string
---@param args? table|fun(client: vim.lsp.Client): table?
---@param opts? { buf?: integer, on_result?: fun(result: any) }
---@return boolean sent
function M.exec(command, args, opts)
  opts = opts or {}
  local buf = resolve(opts.buf)
  if not M.has_file(buf) then
    return false
  end
  local client = M.client(buf)
  if not client then
    local folder = M.folder(buf)
    if M.config.trust ~= "always" and require("eager.trust").state(folder) ~= "allow" then
      vim.notify(
        ("eager: %s is not trusted, so no code runs there; :EagerTrust trusts it"):format(folder),
        vim.log.levels.WARN
      )
      return false
    end
    vim.notify("eager: the eager language server is not attached to this buffer", vim.log.levels.WARN)
    return false
  end
  if type(args) == "function" then
    args = args(client)
    if not args then
      return false
    end
  end
  local arguments = vim.tbl_extend("force", args or {}, { uri = vim.uri_from_bufnr(buf) })
  client:exec_cmd({ title = command, command = command, arguments = { arguments } }, { bufnr = buf }, function(err, result)
    if err then
      vim.notify(("eager: %s failed: %s"):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if result == vim.NIL then
      result = nil
    end
    if opts.on_result then
      opts.on_result(result)
    end
  end)
  return true
end

---@param msg string
local function info(msg)
  vim.notify("eager: " .. msg, vim.log.levels.INFO)
end

--- Where a generation writes, as eager.generate's arguments (`range` or `position`): without
--- `range` at the cursor when the cursor's line is blank, else at the end of its line.
---@param buf integer
---@param range? { line1: integer, line2: integer }
---@param enc string
---@return table
local function generate_at(buf, range, enc)
  local args = {}
  if range then
    local last = vim.api.nvim_buf_get_lines(buf, range.line2 - 1, range.line2, false)[1] or ""
    args.range = {
      start = { line = range.line1 - 1, character = 0 },
      ["end"] = { line = range.line2 - 1, character = vim.str_utfindex(last, enc) },
    }
  else
    local win = vim.fn.bufwinid(buf)
    if win ~= -1 then
      local row = vim.api.nvim_win_get_cursor(win)[1]
      local line = vim.api.nvim_buf_get_lines(buf, row - 1, row, false)[1] or ""
      if line:match("^%s*$") then
        args.position = vim.lsp.util.make_position_params(win, enc).position
      else -- not in the middle of code: at the end of the line (the server opens a new line)
        args.position = { line = row - 1, character = vim.str_utfindex(line, enc) }
      end
    end
  end
  return args
end

--- Generate code from `prompt`. Without `line1`/`line2` it goes at the cursor when the cursor's
--- line is blank, else on a new line after the cursor's line; with them (1-based, inclusive)
--- the generated code replaces those lines.
---@param prompt string
---@param range? { line1: integer, line2: integer }
---@param buf? integer
function M.generate(prompt, range, buf)
  buf = resolve(buf)
  return M.exec("eager.generate", function(client)
    local args = generate_at(buf, range, client.offset_encoding)
    args.prompt = prompt
    return args
  end, { buf = buf })
end

--- The prompt is about to be asked for: the server loads the bundled model meanwhile
--- (eager.prepareModel). Silent: without a client, or on any failure, the generation that
--- follows says what is wrong.
---@param range? { line1: integer, line2: integer }
---@param buf? integer
function M.prepare_model(range, buf)
  buf = resolve(buf)
  local client = M.client(buf)
  if not client or vim.api.nvim_buf_get_name(buf) == "" then
    return
  end
  local args = generate_at(buf, range, client.offset_encoding)
  if args.range then
    args = { position = args.range.start }
  end
  args.uri = vim.uri_from_bufnr(buf)
  client:exec_cmd({ title = "eager.prepareModel", command = "eager.prepareModel", arguments = { args } }, { bufnr = buf }, function() end)
end

function M.stop(buf)
  return M.exec("eager.stop", {}, {
    buf = buf,
    ---@param r eager.StopResult
    on_result = function(r)
      if r and r.stopped == false then
        info("nothing to stop")
      elseif r and r.stateLost then
        vim.notify("eager: stopped; the code did not stop in time, so the interpreter was restarted and its state is lost", vim.log.levels.WARN)
      end
    end,
  })
end

function M.run(buf)
  return M.exec("eager.runDocument", {}, { buf = buf })
end

--- Turn follow mode on (true), off (false) or toggle it (nil).
---@param enabled? boolean
function M.follow(enabled, buf)
  buf = resolve(buf)
  local doc = state.for_buf(buf)
  if enabled == nil then
    enabled = not doc.follow
  end
  return M.exec("eager.follow", { enabled = enabled }, {
    buf = buf,
    ---@param r eager.FollowResult
    on_result = function(r)
      doc.follow = r and r.enabled == true or false
      info("follow " .. (doc.follow and "on" or "off"))
      pcall(vim.cmd.redrawstatus)
    end,
  })
end

function M.interrupt(buf)
  return M.exec("eager.interrupt", {}, {
    buf = buf,
    ---@param r eager.InterruptResult
    on_result = function(r)
      if r and r.stillRunning then
        vim.notify(
          "eager: the kernel ignored the interrupt and is still running (an attached kernel is never restarted by eager)",
          vim.log.levels.WARN
        )
      elseif not r or not r.interrupted then
        info("nothing was interrupted (no code was running, or it finished first)")
      elseif r.stateLost then
        vim.notify("eager: interrupted; the interpreter had to restart and its state is lost", vim.log.levels.WARN)
      else
        info("interrupted")
      end
    end,
  })
end

function M.restart(buf)
  return M.exec("eager.restartInterpreter", {}, {
    buf = buf,
    on_result = function()
      info("interpreter restarted")
    end,
  })
end

--- Start the interpreter's debugpy (127.0.0.1; also while code runs) and attach nvim-dap to it
--- (or show where it listens).
function M.attach(buf)
  return M.exec("eager.debugAttachInfo", {}, {
    buf = buf,
    ---@param r eager.DebugAttachInfo|eager.Refusal
    on_result = function(r)
      -- Asking is what starts the interpreter's debugger: nothing listens before. A refusal
      -- comes back as { error = ... }, already shown by the server (window/showMessage).
      if r and r.error then
        return
      end
      if not r or not r.port then
        vim.notify("eager: debugging is off (set debug.enabled in the eager settings)", vim.log.levels.WARN)
        return
      end
      require("eager.dap").attach(r.host or "127.0.0.1", r.port)
    end,
  })
end

--- Show stdout, stderr and errors of the executed chunks in a scratch buffer.
function M.output(buf)
  return require("eager.output").open(resolve(buf))
end

--- Show the result on a line whole (the server's eager.resultDetail: its lines, status and
--- values, all of its stdout and stderr, its whole traceback; a syntax error's message; a
--- statement still running: how long, and the end of its output so far) in a
--- read-only scratch split; `q` closes it. Says so when nothing ran on that line.
---@param buf? integer
---@param line? integer  0-based; default: the cursor's line (in the current window when it
---                      shows `buf`)
function M.detail(buf, line)
  buf = resolve(buf)
  if line == nil then
    local win = vim.api.nvim_get_current_buf() == buf and vim.api.nvim_get_current_win() or vim.fn.bufwinid(buf)
    line = win ~= -1 and vim.api.nvim_win_get_cursor(win)[1] - 1 or 0
  end
  return M.exec("eager.resultDetail", { line = line }, {
    buf = buf,
    ---@param r eager.ChunkResultParams|eager.SyntaxErrorDetail|eager.RunningDetail|eager.Refusal|nil
    on_result = function(r)
      -- A refusal comes back as { error = "...", reason = ... } (a chunk result's `error`
      -- is a table), already shown by the server (window/showMessage).
      if r and type(r.error) == "string" then
        return
      end
      local detail = require("eager.detail")
      if type(r) ~= "table" then
        info(("nothing ran on line %d of %s"):format(line + 1, detail.file_label(buf)))
        return
      end
      if not vim.api.nvim_buf_is_valid(buf) then
        return
      end
      detail.open(buf, r)
    end,
  })
end

--- Results the server reported for a buffer (eager/chunkResult params in document order).
---@param buf? integer
---@return table[]
function M.results(buf)
  return state.sorted_results(vim.uri_from_bufnr(resolve(buf)))
end

--- Last eager/status of a buffer, or nil.
---@param buf? integer
function M.status(buf)
  return state.for_buf(resolve(buf)).status
end

--- A short status for 'statusline', e.g. "eager: generating 38 tok/s"; "" when the server is
--- not attached to the buffer.
---@param buf? integer
---@return string
local USER_ENDED = { interrupted = true, stopped = true, ["interpreter restarted"] = true }

--- How the user ended the last run, from an idle status message: the message itself, or in
--- follow mode one of its parts ("following · interrupted; edit it to re-run", "following ·
--- re-ran 1 of 5 statements (…); stopped"); nil when the user did not end it. VS Code's
--- status.ts `userEnded` has the same rule.
---@param message string?
---@return string?
local function user_ended(message)
  if type(message) ~= "string" then
    return nil
  end
  local rest = message:gsub("^following · ", "", 1)
  for part in (rest .. "; "):gmatch("(.-); ") do
    if USER_ENDED[part] then
      return part
    end
  end
  return nil
end

function M.statusline(buf)
  buf = resolve(buf)
  if not M.client(buf) then
    return ""
  end
  local doc = state.for_buf(buf)
  local s = doc.status
  local text
  -- "3/5 (1 running, 1 pending)": done of released, and what is still to come
  local function counts()
    local total = tonumber(s.chunksTotal)
    if not total or total <= 0 then
      return ""
    end
    local more = {}
    local lines = type(s.runningLines) == "table" and s.runningLines or {}
    if #lines > 1 then
      -- gate `parallel`: "3 running in parallel: 5 6 7" (1-based first lines)
      local shown = {}
      for i = 1, math.min(#lines, 4) do
        shown[i] = tostring(lines[i] + 1)
      end
      local extra = #lines > 4 and (" +" .. (#lines - 4)) or ""
      more[#more + 1] = ("%d running in parallel: %s%s"):format(#lines, table.concat(shown, " "), extra)
    elseif (tonumber(s.chunksRunning) or 0) > 0 then
      more[#more + 1] = s.chunksRunning .. " running"
    end
    local pending = tonumber(s.chunksPending) or 0
    if pending > 0 and tonumber(s.heldLine) then
      -- the safe gate holds them until the stream ends: where and why
      local why = type(s.heldReason) == "string" and (": " .. s.heldReason) or ""
      more[#more + 1] = ("%d held from line %d%s"):format(pending, s.heldLine + 1, why)
    elseif pending > 0 then
      more[#more + 1] = s.chunksPending .. " pending"
    end
    local tail = #more > 0 and (" (" .. table.concat(more, ", ") .. ")") or ""
    return (" %d/%d%s"):format(tonumber(s.chunksDone) or 0, total, tail)
  end
  if not s or s.state == "idle" then
    text = "eager: idle"
    -- how the last run ended when the user ended it (server lsp/methods.py INTERRUPTED,
    -- STOPPED, RESTARTED), so an interrupt does not look like nothing happened
    local ended = user_ended(type(s) == "table" and s.message or nil)
    if ended then
      text = text .. " · " .. ended
    end
  elseif s.state == "generating" then
    text = "eager: generating"
    if tonumber(s.tokensPerSecond) then
      text = text .. (" %.0f tok/s"):format(s.tokensPerSecond)
    elseif type(s.message) == "string" and s.message ~= "" then
      text = text .. " · " .. s.message -- starting the local model… (N s)
    end
    text = text .. counts()
  elseif s.state == "running" then
    text = "eager: running" .. counts()
  else
    text = "eager: " .. tostring(s.state)
  end
  if doc.follow then
    text = text .. " (follow)"
  end
  return text
end

return M
