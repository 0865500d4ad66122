-- setup() registers and enables the server; the commands exist; opening a Python file starts
-- and attaches the server with inlay hints on.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  local r = H.result
  r.commands_before_setup = {}
  for _, name in ipairs(require("eager.commands").names) do
    r.commands_before_setup[name] = vim.fn.exists(":" .. name) == 2
  end
  H.setup({ root_markers = { "marker.txt" } }) -- a list option replaces the default list
  r.config = {
    root_markers = vim.lsp.config.eager.root_markers,
    document_changes = vim.tbl_get(vim.lsp.config.eager.capabilities, "workspace", "workspaceEdit", "documentChanges"),
    cmd = vim.lsp.config.eager.cmd,
    filetypes = vim.lsp.config.eager.filetypes,
    settings = vim.lsp.config.eager.settings,
    init_options = vim.lsp.config.eager.init_options,
  }
  r.enabled = vim.lsp.is_enabled == nil or vim.lsp.is_enabled("eager") -- is_enabled is 0.12+
  r.commands = {}
  for _, name in ipairs(require("eager.commands").names) do
    r.commands[name] = vim.fn.exists(":" .. name) == 2
  end
  if H.params.file then
    local buf, client = H.open(H.params.file)
    r.server_commands = (client.server_capabilities.executeCommandProvider or {}).commands
    r.inlay_hints_enabled = vim.lsp.inlay_hint.is_enabled({ bufnr = buf })
    r.statusline = require("eager").statusline(buf)
    -- the server asks workspace/configuration for section "eager": Neovim answers from settings
    local answer = vim.lsp.handlers["workspace/configuration"](nil, { items = { { section = "eager" } } }, { client_id = client.id })
    r.configuration_answer = answer
    -- the same command with no server for a scratch buffer says so instead of failing
    vim.cmd("enew")
    vim.cmd("EagerStop")
  end
end)
