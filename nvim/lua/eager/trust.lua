-- Workspace trust: eager runs code, so nothing of a folder runs until its user trusted it.
--
-- The gate is the start of the language server itself (see `root_dir` in init.lua): in a folder
-- that is not trusted no eager client starts, so no interpreter starts and no command can run
-- code there; there is nothing to bypass. The user is asked once per folder (the workspace root,
-- or the file's directory without one), with vim.ui.select, and the answer is kept:
--   * "Trust this folder" and "Never" are saved in stdpath("state")/eager/trust.json;
--   * "Not now" holds for this Neovim session (:EagerTrust trusts later).
-- Neovim's own trust database (`:trust`, vim.secure) is honoured too: a directory it lists as
-- trusted ("directory <path>") is trusted, one it denies ("! <path>") is not. vim.secure cannot
-- record a directory from Lua (`vim.secure.trust` allows only files, by content hash; 0.12's
-- `vim.secure.read(dir)` asks with exrc wording), hence the plugin's own file for our answers.
-- `trust = "always"` in setup() trusts every folder without asking.
local M = {}

M.CHOICES = { "Trust this folder", "Not now", "Never" }

---@type table<string, boolean>  roots answered "Not now" in this session
M.session = {}
---@type table<string, fun(trusted: boolean)[]>  callbacks waiting for an answer, per root
local pending = {}

---@param path string
---@return string
function M.real(path)
  local p = vim.fs.normalize(path)
  return vim.uv.fs_realpath(p) or p
end

function M.file()
  return vim.fs.joinpath(vim.fn.stdpath("state"), "eager", "trust.json")
end

---@return table<string, "allow"|"deny">
local function load()
  local f = io.open(M.file(), "r")
  if not f then
    return {}
  end
  local raw = f:read("*a")
  f:close()
  local ok, data = pcall(vim.json.decode, raw)
  return (ok and type(data) == "table") and data or {}
end

---@param db table<string, "allow"|"deny">
local function save(db)
  local path = M.file()
  vim.fn.mkdir(vim.fs.dirname(path), "p")
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(vim.json.encode(vim.tbl_isempty(db) and vim.empty_dict() or db))
  f:close()
  assert(vim.uv.fs_rename(tmp, path))
end

--- What Neovim's trust database says about a directory: "allow", "deny" or nil.
---@param root string  a real path
local function nvim_trust(root)
  local f = io.open(vim.fs.joinpath(vim.fn.stdpath("state"), "trust"), "r")
  if not f then
    return nil
  end
  local verdict
  for line in f:lines() do
    local hash, path = line:match("^(%S+) (.+)$")
    if path == root then
      verdict = (hash == "!" and "deny") or (hash == "directory" and "allow") or nil
    end
  end
  f:close()
  return verdict
end

--- The saved decision for a folder: "allow", "deny" or nil (never asked).
---@param root string
---@return "allow"|"deny"|nil
function M.state(root)
  root = M.real(root)
  local saved = load()[root]
  if saved == "allow" or saved == "deny" then
    return saved
  end
  return nvim_trust(root)
end

--- Save a decision for a folder ("allow", "deny", or nil to forget it).
---@param root string
---@param decision "allow"|"deny"|nil
function M.set(root, decision)
  root = M.real(root)
  local db = load()
  db[root] = decision
  save(db)
  M.session[root] = nil
end

--- Is `root` trusted? Calls `cb(trusted)`, at once when that is known, else after asking the
--- user (once, however many buffers of the folder open meanwhile).
---@param root string
---@param mode "ask"|"always"
---@param cb fun(trusted: boolean)
function M.check(root, mode, cb)
  if mode == "always" then
    return cb(true)
  end
  root = M.real(root)
  local s = M.state(root)
  if s then
    return cb(s == "allow")
  end
  if M.session[root] then
    return cb(false)
  end
  if pending[root] then
    table.insert(pending[root], cb)
    return
  end
  pending[root] = { cb }
  local prompt = ("eager runs Python code in %s (your code and AI-written code). Trust this folder?"):format(root)
  vim.ui.select(M.CHOICES, { prompt = prompt, kind = "eager.trust" }, function(_, idx)
    if idx == 1 then
      M.set(root, "allow")
    elseif idx == 3 then
      M.set(root, "deny")
    else
      M.session[root] = true
    end
    local waiting = pending[root] or {}
    pending[root] = nil
    for _, f in ipairs(waiting) do
      f(idx == 1)
    end
  end)
end

return M
