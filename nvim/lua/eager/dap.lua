-- :EagerAttach: attach nvim-dap to the debugpy of the document's interpreter.
local M = {}

---@param host string
---@param port integer
---@return boolean attached  false when nvim-dap is not installed (host and port are shown instead)
function M.attach(host, port)
  local ok, dap = pcall(require, "dap")
  if not ok or type(dap) ~= "table" or type(dap.run) ~= "function" then
    vim.notify(
      ("eager: the interpreter's debugpy listens on %s:%d (install nvim-dap to attach from Neovim)"):format(
        host,
        port
      ),
      vim.log.levels.INFO
    )
    return false
  end
  -- nvim-dap-python (or a hand-written dap.adapters.python) already knows how to attach to a
  -- debugpy server from `connect`; without one, use a plain server adapter of our own.
  local adapter = "python"
  dap.adapters = dap.adapters or {}
  if not dap.adapters.python then
    adapter = "eager"
    dap.adapters.eager = function(callback, config)
      callback({
        type = "server",
        host = config.connect.host,
        port = config.connect.port,
        options = { source_filetype = "python" },
      })
    end
  end
  dap.run({
    type = adapter,
    request = "attach",
    name = "Eager interpreter",
    connect = { host = host, port = port },
  })
  return true
end

return M
