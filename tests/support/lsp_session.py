"""Ending a language-server session in a test, bounded.

pytest-lsp's `shutdown_session` waits for the server's process with no limit. A server that
does not exit after `shutdown` and `exit` is a bug to see, not a test to hang on: the suite's
300 s timeout then cut the fixture's teardown, and the server stayed alive, holding its
sockets, until a later test that counts the sockets below the test process failed for it.
Here the server gets `SHUTDOWN_WAIT_S`; past that it is asked for its threads' stacks
(SIGUSR1, written to its stderr, which pytest-lsp forwards to the test's captured output),
killed, and the test fails saying so. The server now ends itself 30 s after `exit` when it is
stuck (lsp/exit_deadline.py), with its stacks on stderr and exit code 3: that fails the test
too, so a stuck server is seen, not waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import pytest

from eager_lsp.lsp.exit_deadline import FORCED_EXIT_CODE

SHUTDOWN_WAIT_S = 60.0  # past the server's own exit deadline (30 s), which fails the test too


async def shut_down(client: Any) -> None:
    """`shutdown` then `exit`, and the server's process gone within `SHUTDOWN_WAIT_S`, by a
    clean exit: a server that its own exit deadline had to end (lsp/exit_deadline.py) fails
    the test too (its stacks are in the captured stderr)."""
    try:
        await asyncio.wait_for(client.shutdown_session(), SHUTDOWN_WAIT_S)
        server = client._server
        if server is not None and server.returncode == FORCED_EXIT_CODE:
            pytest.fail("the server was stuck after exit: its exit deadline ended it")
    except asyncio.TimeoutError:
        server = client._server  # pytest-lsp's asyncio subprocess
        if server is not None and server.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                server.send_signal(signal.SIGUSR1)  # its stacks, to its stderr
            await asyncio.sleep(1.0)  # for the stacks to be written and forwarded
            with contextlib.suppress(ProcessLookupError):
                server.kill()
            await server.wait()
        pytest.fail(f"the server had not exited {SHUTDOWN_WAIT_S:.0f} s after shutdown and exit")
