-- init.lua for a Neovim driven like a person would: started with --listen and its normal main
-- loop (where undo steps are cut between keystrokes), keys sent with `nvim --server ... --remote-send`.
-- Parameters as in the scenarios ($EAGER_E2E_PARAMS); state is read with --remote-expr.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
vim.opt.rtp:prepend(vim.fs.normalize(dir .. "/../../../nvim"))
local H = dofile(dir .. "/harness.lua")
H.setup()
_G.eager_test = H
