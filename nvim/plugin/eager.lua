-- eager-lsp for Neovim: user commands. The language server itself is registered by
-- require("eager").setup({...}); the commands exist as soon as the plugin is on 'runtimepath'.
if vim.g.loaded_eager then
  return
end
vim.g.loaded_eager = true

if vim.fn.has("nvim-0.11") == 0 then
  vim.notify("eager.nvim needs Neovim 0.11 or newer", vim.log.levels.WARN)
  return
end

require("eager.commands").create()
