-- :EagerRun, then `K` on lines with a result: the server's hover opens in a float (not pydoc).
-- With `running_line`: `K` on a statement that still runs (it prints until `stop_file`
-- exists) shows how long it has run and its output so far; once its result is in, the result.
-- With `no_word_line`: `K` on a line without a result or a word says what `K` says there
-- without the plugin (E349), and no Lua error.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

local function float_lines()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), win
    end
  end
end

--- `K` on a 0-based line: the float's text (vim.NIL when none opened), the float closed.
local function press_k(line)
  vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
  vim.api.nvim_feedkeys("K", "mx", false)
  local lines, win
  H.wait(10000, function()
    lines, win = float_lines()
    return lines ~= nil
  end)
  if win then
    vim.api.nvim_win_close(win, true)
  end
  return lines and table.concat(lines, "\n") or vim.NIL
end

local function while_running(buf)
  local printed = ""
  vim.api.nvim_create_autocmd("User", {
    pattern = "EagerOutput",
    callback = function(ev)
      printed = printed .. (ev.data.stdout or "")
    end,
  })
  vim.cmd("EagerRun")
  H.result.printed = H.wait(H.timeout, function()
    return printed:find("tick 2\n", 1, true) ~= nil
  end)
  H.result.running_hover = press_k(H.params.running_line)
  vim.fn.writefile({}, H.params.stop_file)
  H.wait_done()
  H.wait(10000, function()
    return #require("eager").results(buf) >= H.params.expect_results
  end)
  H.result.result_hover = press_k(H.params.running_line)
end

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
  if H.params.running_line then
    while_running(buf)
    H.snapshot(buf, client)
    return
  end
  -- What `K` would do without the plugin's mapping: 'keywordprg' (pydoc, from the ftplugin).
  H.result.keywordprg = vim.bo[buf].keywordprg
  H.result.k_mapping = vim.fn.maparg("K", "n", false, true).desc
  vim.cmd("EagerRun")
  H.wait_done()
  H.wait(10000, function()
    return #vim.diagnostic.get(buf) >= 1
  end)
  H.result.hovers = {}
  for _, line in ipairs(H.params.hover_lines) do
    H.result.hovers[#H.result.hovers + 1] = press_k(line)
  end
  if H.params.no_word_line then
    vim.cmd("messages clear")
    vim.api.nvim_win_set_cursor(0, { H.params.no_word_line + 1, 0 })
    local errors = {}
    local ok, err = pcall(vim.api.nvim_feedkeys, "K", "mx", false)
    errors[#errors + 1] = not ok and tostring(err) or nil
    -- (the server answers null, then the fallback runs in the answer's callback)
    H.wait(3000, function()
      return vim.fn.execute("messages"):find("E349", 1, true) ~= nil
    end)
    H.wait(300, function()
      return false
    end)
    H.result.no_word_messages = vim.fn.execute("messages")
    H.result.no_word_errors = errors
    H.result.no_word_float = float_lines() ~= nil
  end
  H.snapshot(buf, client)
end)
