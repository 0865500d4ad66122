-- :checkhealth eager
local M = {}

function M.check()
  local health = vim.health
  health.start("eager")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.11 or newer is needed (vim.lsp.config, Client:exec_cmd)")
  end

  if not vim.lsp.config.eager then
    health.warn('the server is not registered: call require("eager").setup({...})')
    return
  end
  local cmd = vim.lsp.config.eager.cmd
  if type(cmd) ~= "table" or not cmd[1] then
    health.info("server command: a function (not checked)")
  elseif vim.fn.executable(cmd[1]) == 0 then
    health.error(("server command not found: %s"):format(cmd[1]), {
      "set `python` (or `cmd`) in the setup options to a Python with eager-lsp installed",
    })
  else
    health.ok("server command: " .. table.concat(cmd, " "))
    local eager = require("eager")
    if cmd[2] == "-c" and cmd[3] == eager.SERVER_MAIN then
      local check = vim.system({
        cmd[1],
        "-c",
        -- run in Neovim's cwd (often the workspace): drop it, as the server command does
        eager.DROP_CWD
          .. "import importlib.metadata as m; import eager_lsp.entry; "
          .. "print(m.version('eager-lsp'), sys.version.split()[0])",
      }, { text = true }):wait(30000)
      if check.code == 0 then
        local version, py = vim.trim(check.stdout):match("^(%S+)%s+(%S+)$")
        health.ok(("eager-lsp %s on Python %s"):format(version or "?", py or "?"))
      else
        health.error("eager-lsp is not importable by " .. cmd[1], {
          cmd[1] .. " -m pip install -e /path/to/eager-lsp  (a clone; add [local] for the bundled model)",
          vim.trim(check.stderr or ""),
        })
      end
    end
  end

  local cfg = require("eager").config
  if cfg.trust == "always" then
    health.info('trust = "always": every folder is trusted without asking')
  else
    -- the folder of each buffer the server would attach to (the current buffer is the
    -- health report's own, `health://`)
    local trust = require("eager.trust")
    local folders, seen = {}, {}
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(cfg.filetypes or {}, vim.bo[b].filetype) then
        local folder = trust.real(require("eager").folder(b))
        if not seen[folder] then
          seen[folder] = true
          folders[#folders + 1] = folder
        end
      end
    end
    table.sort(folders)
    if #folders == 0 then
      health.info(("trust: no %s buffer is open; its folder is asked about when one opens (%s)"):format(
        table.concat(cfg.filetypes or {}, "/"), trust.file()))
    end
    for _, folder in ipairs(folders) do
      local state = trust.state(folder)
      local what = state == "allow" and "trusted"
        or state == "deny" and "denied (Never)"
        or trust.session[folder] and "not trusted in this session (Not now)"
        or "not decided yet"
      health.info(("trust: %s is %s (%s; :EagerTrust in one of its files trusts it)"):format(folder, what, trust.file()))
    end
  end

  local clients = vim.lsp.get_clients({ name = "eager" })
  if #clients == 0 then
    health.info("no eager server running (it starts when a Python file opens)")
  end
  for _, client in ipairs(clients) do
    local bufs = vim.tbl_keys(client.attached_buffers or {})
    health.ok(("server running (client %d), attached to %d buffer(s)"):format(client.id, #bufs))
    -- Which provider and model a generation would use (eager.info, docs/protocol.md).
    local resp = client:request_sync("workspace/executeCommand", { command = "eager.info", arguments = { {} } }, 10000)
    ---@type eager.InfoResult
    local info = resp and resp.result
    if type(info) == "table" and info.provider then
      local where = info.provider == "openai" and info.baseUrl and (", " .. info.baseUrl) or ""
      if info.provider == "local" then -- loaded for a generation or a prompt box; unloaded when idle
        where = info.modelLoaded and ", loaded" or ", not loaded: it loads when a prompt box opens or a generation starts"
      end
      health.ok(("model: %s (%s%s)"):format(tostring(info.model), info.provider, where))
    else
      health.warn("the server did not say which model it uses: " .. vim.inspect(resp and (resp.err or resp.result)))
    end
  end

  if pcall(require, "dap") then
    health.ok("nvim-dap found: :EagerAttach attaches to the interpreter")
  else
    health.info("nvim-dap not found: :EagerAttach shows the debugpy host and port instead")
  end
end

return M
