"""What every test needs from the process it runs in.

SIGINT: tests stop their children with SIGINT, as Ctrl-C would (`eager-lsp watch`, `eager-lsp
run` on an attached kernel). A shell without job control starts background commands with
SIGINT ignored (`cmd &` in a script: POSIX), a child inherits an ignored signal through exec,
and Python then keeps ignoring it: every such child would ignore the test's Ctrl-C, and the
tests would fail for how they were started, not for what they test (a fresh-clone run started
that way failed all four watch tests). So the test process takes SIGINT back to Python's
default before anything starts; its children then start with the default too.
"""

from __future__ import annotations

import signal

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
