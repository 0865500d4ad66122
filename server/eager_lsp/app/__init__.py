"""The application layer: the flows a person asks for (generate, repair, run a text), written
once and used by every edge, the terminal (`cli/generate.py`, `cli/console.py`) and the language
server (`lsp/generation.py`, `lsp/execution.py`).

Rules, and why:
- An edge plugs in through a small interface (`attempt.AttemptEdge`, `generate.GenerateView`):
  it is told about text and events and prints them or writes them into a document. The flows
  never print, never speak LSP, never know about documents or regions, so the CLI and the
  server cannot drift apart on what is kept after an error or what a repair asks.
- It uses only `core/` and `providers/`. It never imports `lsp/` (pygls) or the
  terminal modules; they import it.
- Error text is `ErrorInfo.text` / `failure_text` (core/types.py), built in that one place.

Modules: `attempt.py` (one model stream run as it arrives and cut after the failing statement),
`repair.py` (Fix with AI's one step: the request with its runtime facts, the repeat filter),
`generate.py` (generate, then repair from the failing statement, N times), `run.py` (a text
replayed through an interpreter: `eager-lsp run`, `eager.runDocument`, the code above a
generation).
"""
