-- :EagerRun, then `K` on lines with a result: the server's hover opens in a float (not pydoc).
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

local function float_lines()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), win
    end
  end
end

H.run(function()
  H.setup()
  local buf, client = H.open(H.params.file)
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
    vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
    vim.api.nvim_feedkeys("K", "mx", false)
    local lines, win
    H.wait(10000, function()
      lines, win = float_lines()
      return lines ~= nil
    end)
    H.result.hovers[#H.result.hovers + 1] = lines and table.concat(lines, "\n") or vim.NIL
    if win then
      vim.api.nvim_win_close(win, true)
    end
  end
  H.snapshot(buf, client)
end)
