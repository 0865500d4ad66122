"""The server's process ends soon after `exit` (or the end of stdin), whatever is left running.

Why: the editor waits for the process after `exit`, and a test harness may wait forever. Once,
in a test run, a server sent `shutdown` and `exit` never ended (the cause is not known;
asyncio's clean-up, for one, waits with no limit for every task to finish its cancellation
and for every thread of its default executor), and stayed alive with its sockets. So `exit` arms a deadline: a
daemon timer that, if the process is still there `EXIT_DEADLINE_S` later, writes every
thread's stack to stderr (the editor's log for this server, so the cause can be found) and
ends the process with `FORCED_EXIT_CODE`, not the 0 or 1 of a clean `exit`, so that the
editor's log and the tests see that it was stuck. A healthy way out takes seconds, not tens of
them: the shutdown budget (1.8 s), `exit`'s own waits (up to about 3 s, or the end of stdin's
up to about 6), then the zygotes' 2 s and a local model server's up to 10 s at exit; and the
interrupt grace of runs cancelled without a `shutdown` (`interruptGraceSeconds`). A process
that ends normally takes the daemon timers with it.

What the deadline cuts short: a first start of the bundled model still joining or hashing its
files in a thread (its partial file is removed by the next start: local_model.py), which an
editor would have killed sooner anyway. If even writing the stacks blocks (a stderr nobody
reads), a second timer ends the process without writing anything.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading

EXIT_DEADLINE_S = 30.0
SILENT_AFTER_S = 5.0  # then without the stacks: writing them may be what blocks
FORCED_EXIT_CODE = 3  # ended by the deadline: it was stuck after `exit`

_armed: list[threading.Timer] = []


def arm(after_s: float = EXIT_DEADLINE_S) -> None:
    """End the process in `after_s` seconds unless it has ended by then (idempotent: the
    first deadline stands)."""
    if _armed:
        return

    def force() -> None:
        try:
            sys.stderr.write(
                f"eager-lsp: still running {after_s:g} s after exit; every thread's stack "
                "follows; ending the process\n"
            )
            sys.stderr.flush()
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        finally:
            os._exit(FORCED_EXIT_CODE)

    for delay, action in ((after_s, force), (after_s + SILENT_AFTER_S, _exit_now)):
        timer = threading.Timer(delay, action)
        timer.name = "eager-lsp exit deadline"
        timer.daemon = True
        _armed.append(timer)
        timer.start()


def _exit_now() -> None:
    os._exit(FORCED_EXIT_CODE)
