"""Ending a language-server session in a test, bounded.

pytest-lsp's `shutdown_session` waits for the server's process with no limit. A server that
does not exit after `shutdown` and `exit` is a bug to see, not a test to hang on: the suite's
300 s timeout then cut the fixture's teardown, and the server stayed alive, holding its
sockets, until a later test that counts the sockets below the test process failed for it.
Here the server gets `SHUTDOWN_WAIT_S`; past that it is asked for its threads' stacks
(SIGUSR1, written to its stderr, which pytest-lsp forwards to the test's captured output),
killed, and the test fails saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import pytest

SHUTDOWN_WAIT_S = 30.0  # the server promises 2 s; a loaded CI box gets fifteen times that


async def shut_down(client: Any) -> None:
    """`shutdown` then `exit`, and the server's process gone within `SHUTDOWN_WAIT_S`."""
    try:
        await asyncio.wait_for(client.shutdown_session(), SHUTDOWN_WAIT_S)
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
