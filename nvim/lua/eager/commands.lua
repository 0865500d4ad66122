-- The :Eager* user commands. Each acts on the current buffer.
local M = {}

local function eager()
  return require("eager")
end

local commands = {
  EagerGenerate = {
    function(o)
      local range = o.range > 0 and { line1 = o.line1, line2 = o.line2 } or nil
      if o.args ~= "" then
        eager().generate(o.args, range)
        return
      end
      if not eager().has_file() then -- (said before a prompt is asked for in vain)
        return
      end
      eager().prepare_model(range) -- the bundled model loads while the prompt is typed
      vim.ui.input({ prompt = "Eager prompt: " }, function(prompt)
        if prompt and prompt ~= "" then
          eager().generate(prompt, range)
        end
      end)
    end,
    { nargs = "*", range = true, desc = "eager: generate code at the cursor (or replacing the range)" },
  },
  EagerStop = {
    function()
      eager().stop()
    end,
    { desc = "eager: stop the generation in progress" },
  },
  EagerRun = {
    function()
      eager().run()
    end,
    { desc = "eager: run the whole document through the pipeline" },
  },
  EagerFollow = {
    function(o)
      local arg = o.args
      if arg ~= "" and arg ~= "on" and arg ~= "off" then
        vim.notify("eager: :EagerFollow takes on, off or nothing (toggle)", vim.log.levels.ERROR)
        return
      end
      eager().follow(arg == "" and nil or arg == "on")
    end,
    {
      nargs = "?",
      complete = function()
        return { "on", "off" }
      end,
      desc = "eager: run statements as they are appended (toggle, on, off)",
    },
  },
  EagerInterrupt = {
    function()
      eager().interrupt()
    end,
    { desc = "eager: interrupt the running statement" },
  },
  EagerRestart = {
    function()
      eager().restart()
    end,
    { desc = "eager: restart the document's interpreter" },
  },
  EagerAttach = {
    function()
      eager().attach()
    end,
    { desc = "eager: attach nvim-dap to the interpreter (or show its debugpy address)" },
  },
  EagerTrust = {
    function()
      eager().trust()
    end,
    { desc = "eager: trust the current file's folder (code may run there) and start the server" },
  },
  EagerOutput = {
    function()
      eager().output()
    end,
    { desc = "eager: show the output of the executed statements" },
  },
  EagerDetail = {
    function()
      eager().detail()
    end,
    { desc = "eager: show the whole result of the statement on the cursor's line (output, traceback)" },
  },
}

--- Create (or re-create) all commands; safe to call more than once.
function M.create()
  for name, def in pairs(commands) do
    vim.api.nvim_create_user_command(name, def[1], def[2])
  end
end

M.names = vim.tbl_keys(commands)
table.sort(M.names)

return M
