-- :EagerGenerate against the fake OpenAI server: code streams into an empty buffer and runs as
-- it arrives; the script fails part-way, which stops the stream.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

--- The titles of the code actions offered on (1-based) `line`, none applied.
---@param line integer
---@return string[]
local function offered(line)
  vim.api.nvim_win_set_cursor(0, { line, 0 })
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(titles, action.title)
      return false
    end,
  })
  H.wait(5000, function()
    return #titles > 0
  end)
  return titles
end

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  H.result.statusline_before = require("eager").statusline(buf)
  vim.api.nvim_win_set_cursor(0, H.params.cursor or { 1, 0 })
  if H.params.prompt_box then
    -- :EagerGenerate with no prompt asks for one (vim.ui.input, answered here); the commands
    -- the plugin sent before it asked, and the answer to eager.prepareModel
    local sent = {}
    local exec_cmd = client.exec_cmd
    client.exec_cmd = function(self, command, ctx, handler)
      sent[#sent + 1] = command.command
      return exec_cmd(self, command, ctx, function(err, result, ...)
        if command.command == "eager.prepareModel" then
          H.result.prepared = err and { error = err.message } or result
        end
        if handler then
          return handler(err, result, ...)
        end
      end)
    end
    local input = vim.ui.input
    vim.ui.input = function(_, on_confirm)
      vim.ui.input = input
      H.result.sent_before_prompt = vim.deepcopy(sent)
      on_confirm(H.params.prompt)
    end
    vim.cmd("EagerGenerate")
  else
    vim.cmd("EagerGenerate " .. H.params.prompt)
  end
  H.wait_done()
  -- After the summary, give the last diagnostics and hints time to arrive (no timing asserts).
  H.wait(H.params.settle_ms or 10000, function()
    local s = require("eager").status(buf)
    return (s == nil or s.state ~= "generating")
      and #vim.diagnostic.get(buf) >= (H.params.expect_diagnostics or 1)
  end)
  H.snapshot(buf, client)
  if not H.params.fix then
    return
  end

  -- "Fix with AI" on the error's diagnostic, as vim.lsp.buf.code_action() offers it
  local first = H.result
  H.result = { notifications = first.notifications, statuses = {}, events = first.events, chunk_results = 0 }
  H.result.first = first
  local err_line = (first.diagnostics[1] or { lnum = 0 }).lnum
  vim.api.nvim_win_set_cursor(0, { err_line + 1, 0 })
  H.result.actions = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(H.result.actions, action.title)
      return action.title == "Fix with AI"
    end,
  })
  H.wait_done()
  H.wait(H.params.settle_ms or 10000, function()
    return #vim.diagnostic.get(buf) == (H.params.fix_diagnostics or 0)
      and #(H.inlay_hints(buf, client) or {}) >= (H.params.expect_hints or 0)
  end)
  H.snapshot(buf, client)
  if H.params.fix_again then
    -- what the code action offers now on the error's line (nothing applied)
    H.result.actions_again = offered((H.result.diagnostics[1] or { lnum = 0 }).lnum + 1)
  end
  if H.params.undo_fix then
    -- The repair is one undo step of its own: one `u` brings the failing text back, `<C-r>` the fix.
    -- (A pause first, as a person makes: Neovim then sends the undo's first change at once and
    -- the rest in a second didChange, not all of them in one.)
    vim.wait(H.params.undo_after_ms or 0)
    vim.api.nvim_buf_call(buf, function()
      vim.cmd("silent undo")
    end)
    H.result.after_undo = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    if H.params.actions_after_undo then
      -- the diagnostics once the server's name the undone text's version, and what the code
      -- action offers on the last line then
      H.result.diagnosed_after_undo = H.diagnosed(buf)
      H.result.diagnostics_after_undo = H.diagnostics(buf)
      H.result.actions_after_undo = offered(#H.result.after_undo)
    end
    vim.api.nvim_buf_call(buf, function()
      vim.cmd("silent redo")
    end)
    H.result.after_redo = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end
end)
