-- Generated from server/eager_lsp/lsp/payloads.py by
-- `python -m eager_lsp.lsp.payload_export --write`; do not edit by hand.
-- The eager/* payloads as LuaLS classes, for `---@param p eager.StatusParams` in the
-- handlers (tests/lsp/test_payloads.py checks that they read only these fields).

---@class eager.Position
---@field line integer
---@field character integer

---@class eager.Range
---@field start eager.Position
---@field end eager.Position

---@class eager.ValueInfo
---@field name string
---@field type string
---@field repr string
---@field summary string
---@field table? string

---@class eager.ImageInfo
---@field path string
---@field label string
---@field size integer

---@class eager.FrameInfo
---@field path string
---@field line integer|nil
---@field function string
---@field inDocument boolean
---@field repeated integer

---@class eager.ErrorInfo
---@field type string
---@field message string
---@field line integer|nil
---@field traceback string
---@field stateLost boolean
---@field byUser boolean
---@field frames eager.FrameInfo[]
---@field framesOmitted integer

---@class eager.Timings
---@field releasedMs? number
---@field dispatchedMs? number
---@field startMs? number
---@field endMs? number
---@field resultMs? number
---@field elapsedMs? number
---@field parallelWith? integer[]

---@class eager.ChunkInfo
---@field index integer
---@field startLine integer
---@field endLine integer
---@field range eager.Range

---@class eager.ChunkResultParams
---@field uri string
---@field version integer|nil
---@field chunk eager.ChunkInfo
---@field ok boolean
---@field skipped boolean
---@field values eager.ValueInfo[]
---@field expr eager.ValueInfo|nil
---@field stdout string
---@field stderr string
---@field error eager.ErrorInfo|nil
---@field images eager.ImageInfo[]
---@field timings eager.Timings
---@field statementId? integer
---@field truncated? boolean

---@class eager.OutputParams
---@field uri string
---@field version integer|nil
---@field chunk eager.ChunkInfo
---@field stdout string
---@field stderr string

---@class eager.SyntaxErrorInfo
---@field line integer
---@field column integer
---@field message string

---@class eager.SyntaxErrorDetail
---@field uri string
---@field version integer|nil
---@field syntaxError eager.SyntaxErrorInfo

---@class eager.RunningDetail
---@field uri string
---@field version integer|nil
---@field running true
---@field startLine integer
---@field endLine integer
---@field elapsedS number
---@field stdout string
---@field stderr string
---@field stdoutBefore integer
---@field stderrBefore integer

---@class eager.StatusParams
---@field uri string
---@field state "idle"|"generating"|"running"|"error"
---@field tokens? integer
---@field tokensPerSecond? number
---@field chunksDone? integer
---@field chunksRunning? integer
---@field chunksPending? integer
---@field chunksTotal? integer
---@field runningLines? integer[]
---@field heldLine? integer
---@field heldReason? string
---@field message? string
---@field provider? string
---@field model? string
---@field baseUrl? string

---@class eager.StaleParams
---@field uri string
---@field fromLine integer
---@field toLine? integer

---@class eager.GenerationSummaryParams
---@field uri string
---@field elapsedS number
---@field lastTokenS number|nil
---@field execTotalS number
---@field serialEstimateS number|nil
---@field savedS number|nil
---@field chunks integer
---@field tokens integer
---@field stoppedEarly boolean
---@field error string|nil

---@class eager.StreamEditBase
---@field uri string
---@field generationId string
---@field seq integer
---@field op string

---@class eager.StreamBeginParams
---@field uri string
---@field generationId string
---@field seq integer
---@field op string
---@field position eager.Position
---@field version integer
---@field replace? eager.Range
---@field before? string
---@field after? string
---@field trimTrailing? boolean

---@class eager.StreamInsertParams
---@field uri string
---@field generationId string
---@field seq integer
---@field op string
---@field text string

---@class eager.StreamEndParams
---@field uri string
---@field generationId string
---@field seq integer
---@field op string
---@field trimTrailing? boolean
---@field keepLines? integer
---@field complete? boolean

---@class eager.StreamEditResult
---@field ok boolean
---@field version? integer
---@field range? eager.Range
---@field reason? "edited"|"closed"|"conflict"
---@field message? string

---@class eager.CursorParams
---@field uri string
---@field position eager.Position
---@field version? integer

---@class eager.UriArgs
---@field uri string

---@class eager.GenerateArgs
---@field uri string
---@field prompt string
---@field position? eager.Position
---@field range? eager.Range

---@class eager.PrepareArgs
---@field uri string
---@field position? eager.Position

---@class eager.LineArgs
---@field uri string
---@field line integer

---@class eager.FollowArgs
---@field uri string
---@field enabled boolean

---@class eager.InfoArgs

---@class eager.Refusal
---@field error string
---@field reason "invalid"|"not_open"|"not_python"|"busy"|"no_error"|"settings"|"debugger"

---@class eager.StartedResult
---@field started boolean

---@class eager.StopResult
---@field stopped boolean
---@field interrupted boolean
---@field stateLost boolean

---@class eager.FollowResult
---@field enabled boolean

---@class eager.InterruptResult
---@field interrupted boolean
---@field stateLost boolean
---@field stillRunning? boolean

---@class eager.RestartResult
---@field restarted boolean

---@class eager.DebugAttachInfo
---@field host string
---@field port integer

---@class eager.InfoResult
---@field version string
---@field provider? string
---@field model? string
---@field baseUrl? string
---@field modelLoaded? boolean

---@class eager.ResultsResult
---@field sent integer

---@class eager.PrepareResult
---@field preparing boolean
---@field reason? string

---@class eager.DiagnosticData
---@field kind string
---@field line integer
---@field statementLine integer

local M = {}

M.commands = {
  "eager.generate",
  "eager.stop",
  "eager.runDocument",
  "eager.follow",
  "eager.interrupt",
  "eager.restartInterpreter",
  "eager.debugAttachInfo",
  "eager.fixWithAI",
  "eager.resultDetail",
  "eager.info",
  "eager.results",
  "eager.prepareModel",
}

M.notifications = {
  "eager/chunkResult",
  "eager/status",
  "eager/stale",
  "eager/generationSummary",
  "eager/output",
}

M.requests = {
  "eager/streamEdit",
}

M.clientNotifications = {
  "eager/cursor",
}

return M
