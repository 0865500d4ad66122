-- :EagerAttach without nvim-dap (shows host and port), then with stand-ins for nvim-dap (with
-- and without a python adapter) to check the attach configuration it is given.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

local function attach_and_wait(check)
  local before = #H.result.notifications
  vim.cmd("EagerAttach")
  return H.wait(H.timeout, function()
    return check() or #H.result.notifications > before
  end)
end

H.run(function()
  H.setup()
  H.open(H.params.file)
  H.result.dap_available = pcall(require, "dap")

  -- 1. no nvim-dap
  attach_and_wait(function()
    return false
  end)
  H.result.without_dap = vim.deepcopy(H.result.notifications)

  -- 2. nvim-dap without a python adapter, 3. with one (as nvim-dap-python sets up)
  for _, case in ipairs({ "plain", "with_python_adapter" }) do
    local runs = {}
    local fake = { adapters = {}, configurations = {}, run = function(config)
      runs[#runs + 1] = config
    end }
    if case == "with_python_adapter" then
      fake.adapters.python = function() end
    end
    package.loaded["dap"] = fake
    attach_and_wait(function()
      return #runs > 0
    end)
    local config = runs[1]
    local adapter
    if config and type(fake.adapters[config.type]) == "function" and config.type == "eager" then
      fake.adapters.eager(function(a)
        adapter = a
      end, config)
    end
    H.result[case] = { config = config, adapter = adapter }
  end
  package.loaded["dap"] = nil
end)
