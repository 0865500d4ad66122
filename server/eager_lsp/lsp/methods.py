"""Every custom command and notification name, in one place (the VS Code extension mirrors
these in `vscode-extension/src/methods.ts`; docs/protocol.md describes their payloads)."""

from __future__ import annotations

# Commands (workspace/executeCommand); each takes one argument object.
GENERATE = "eager.generate"
STOP = "eager.stop"
RUN_DOCUMENT = "eager.runDocument"
FOLLOW = "eager.follow"
INTERRUPT = "eager.interrupt"
RESTART_INTERPRETER = "eager.restartInterpreter"
DEBUG_ATTACH_INFO = "eager.debugAttachInfo"
FIX_WITH_AI = "eager.fixWithAI"
RESULT_DETAIL = "eager.resultDetail"
INFO = "eager.info"
# Sends every result the server holds for a document again (eager/chunkResult, where each is
# now): a client whose own anchors lost results the server kept (lines replaced by identical
# text, as a formatter or `:%!` does) asks for them.
RESULTS = "eager.results"
# Starts the bundled model and evaluates the fixed part of the generate prompt, while the user
# types the prompt (the clients send it when they open the prompt box): the first generation
# of a session then does not wait for the model to load.
PREPARE_MODEL = "eager.prepareModel"

COMMANDS = (
    GENERATE,
    STOP,
    RUN_DOCUMENT,
    FOLLOW,
    INTERRUPT,
    RESTART_INTERPRETER,
    DEBUG_ATTACH_INFO,
    FIX_WITH_AI,
    RESULT_DETAIL,
    INFO,
    RESULTS,
    PREPARE_MODEL,
)

# Server → client notifications.
CHUNK_RESULT = "eager/chunkResult"
STATUS = "eager/status"
STALE = "eager/stale"
GENERATION_SUMMARY = "eager/generationSummary"
OUTPUT = "eager/output"

# Server → client request: the client writes generated text at a mark of its own.
STREAM_EDIT = "eager/streamEdit"
# Client capability (`capabilities.experimental`) / initializationOptions key that asks for it.
STREAM_EDITS_CAPABILITY = "eagerStreamEdits"
STREAM_EDITS_OPTION = "streamEdits"
# eager/status `message` of follow mode's idle state; after an edit re-ran statements it goes
# on with what re-ran ("following · re-ran 2 of 6 statements (…)"): clients test the start
FOLLOWING = "following"
# eager/status `message` of the idle state a run ends in when the user ended it (not `error`:
# the code did not fail): an interrupt landed in its statement (RunReport.interrupted), it was
# stopped (eager.stop, a new run or generation, a restart), the interpreter was restarted.
INTERRUPTED = "interrupted"
STOPPED = "stopped"
RESTARTED = "interpreter restarted"

# Client → server notification: where the user's cursor is (follow mode).
CURSOR = "eager/cursor"

# Settings section for workspace/configuration.
SETTINGS_SECTION = "eager"

# Diagnostics.
SOURCE = "eager"
CODE_RUNTIME = "runtime-error"
CODE_SYNTAX = "syntax-error"
EDIT_LABEL = "eager: generate"
FIX_TITLE = "Fix with AI"
