-- Workspace trust (trust = "ask"): the user's answers are scripted through vim.ui.select.
-- params.answer: the index to pick (1 trust, 2 not now, 3 never), or nil: a prompt is an error.
-- Records the prompts, whether the client attached, what :EagerRun said, and (after
-- :EagerTrust when params.trust_later) the run's results, and the trust :checkhealth eager
-- reports before and after :EagerTrust.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  local r = H.result
  r.prompts = {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(r.prompts, { prompt = opts.prompt, items = items })
    if H.params.answer == nil then
      error("asked again: " .. tostring(opts.prompt))
    end
    vim.schedule(function()
      on_choice(items[H.params.answer], H.params.answer)
    end)
  end
  H.setup()
  --- The trust lines of :checkhealth eager (run from the Python buffer), the health buffer
  --- closed again.
  local function health_trust()
    local win = vim.api.nvim_get_current_win()
    vim.cmd("checkhealth eager")
    local lines = vim.tbl_filter(function(l)
      return l:find("trust", 1, true) ~= nil
    end, vim.api.nvim_buf_get_lines(0, 0, -1, false))
    vim.cmd("bwipe!")
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_set_current_win(win)
    end
    return lines
  end
  vim.cmd.edit(vim.fn.fnameescape(H.params.file))
  local buf = vim.api.nvim_get_current_buf()
  local eager = require("eager")
  if H.params.expect_attach then
    H.wait(H.timeout, function()
      local c = eager.client(buf)
      return c ~= nil and c.initialized == true
    end)
  else
    -- give a client every chance to (wrongly) start: the prompt is answered, then a moment
    H.wait(3000, function()
      return eager.client(buf) ~= nil
    end)
  end
  r.attached_before = eager.client(buf) ~= nil
  r.clients_before = #vim.lsp.get_clients({ name = "eager" })
  r.run_sent = eager.run(buf)
  if H.params.trust_later then
    r.health_before = health_trust()
    vim.cmd("EagerTrust")
    local ok = H.wait(H.timeout, function()
      local c = eager.client(buf)
      return c ~= nil and c.initialized == true
    end)
    r.attached_after = ok
    r.health_after = health_trust()
    if ok then
      vim.cmd("EagerRun")
      H.wait_done()
      H.wait(10000, function()
        return #require("eager").results(buf) > 0
      end)
      H.snapshot(buf, eager.client(buf))
    end
  elseif r.attached_before then
    vim.cmd("EagerRun")
    H.wait_done()
  end
  local okt, tr = pcall(require, "eager.trust")
  local f = okt and io.open(tr.file(), "r") or nil
  r.trust_file = f and vim.json.decode(f:read("*a")) or nil
  if f then
    f:close()
  end
end)
