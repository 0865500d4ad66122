-- workspace/applyEdit for a version the buffer has moved past is refused, version 0 included:
-- the version a buffer is opened at, which the server's first edit carries when the user
-- typed before Neovim sent any didChange (it holds them back while typing goes on). A
-- version-0 edit was let through at its old place, and the server, seeing it land elsewhere,
-- wrote the text again.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

H.run(function()
  H.setup({ stream_edits = false, lsp = { flags = { debounce_text_changes = 10000 } } })
  local buf, client = H.open(H.params.file)
  local handler = require("eager.handlers").handlers["workspace/applyEdit"]
  local uri = vim.uri_from_bufnr(buf)
  local function edit(version, text)
    return {
      label = "test",
      edit = {
        documentChanges = {
          {
            textDocument = { uri = uri, version = version },
            edits = { { range = { start = { line = 1, character = 0 }, ["end"] = { line = 1, character = 0 } }, newText = text } },
          },
        },
      },
    }
  end
  H.result.opened_version = vim.lsp.util.buf_versions[buf]
  vim.api.nvim_buf_set_lines(buf, 1, 1, false, { "typed = 1" }) -- not yet sent (debounce)
  H.result.stale = handler(nil, edit(H.result.opened_version, "stale = 0\n"), { client_id = client.id })
  H.result.current = handler(nil, edit(vim.lsp.util.buf_versions[buf], "current = 2\n"), { client_id = client.id })
  H.result.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end)
