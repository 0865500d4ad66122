"""Publisher: the first result after a quiet moment goes out at once; only bursts coalesce.

A unit test of the throttle alone: the document is a stand-in (a closed one, so no
diagnostics are computed) and the client's refresh request is a recording coroutine; the real
server and editors exercise the same Publisher in tests/lsp and tests/e2e.

The windows are tens of milliseconds: tests that count what a window let out run on a clock
of their own (`_Clock`), so a loaded host's slow turns cannot open a window early.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast
from unittest import mock

from eager_lsp.lsp import publish


@dataclass
class _Doc:
    uri: str
    version: int = 1
    closed: bool = True


async def _turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


class _Clock:
    """The running loop's time, moved only by `advance` (timers fire as it passes them)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.now = self.loop.time()
        self._patch = mock.patch.object(self.loop, "time", lambda: self.now)

    def __enter__(self) -> _Clock:
        self._patch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.__exit__(*exc)

    async def advance(self, seconds: float, steps: int = 20) -> None:
        for _ in range(steps):
            self.now += seconds / steps
            await _turns(3)


async def test_first_result_after_quiet_is_refreshed_without_waiting() -> None:
    refreshes: list[float] = []

    async def refresh() -> None:
        refreshes.append(asyncio.get_running_loop().time())

    publisher = publish.Publisher(lambda params: None, refresh)
    publisher.schedule(cast(Any, _Doc("file:///a.py")))
    await _turns()  # no timer may stand between the result and the refresh
    assert len(refreshes) == 1


async def test_a_burst_is_coalesced_into_one_trailing_refresh() -> None:
    refreshes: list[float] = []

    async def refresh() -> None:
        refreshes.append(asyncio.get_running_loop().time())

    publisher = publish.Publisher(lambda params: None, refresh)
    doc = cast(Any, _Doc("file:///a.py"))
    with _Clock() as clock:
        publisher.schedule(doc)
        await _turns()
        for _ in range(10):  # ten more results right behind the first
            publisher.schedule(doc)
            await _turns(1)
        assert len(refreshes) == 1
        await clock.advance(publish.REFRESH_WINDOW_S + publish.PUBLISH_WINDOW_S + 0.1)
    assert len(refreshes) == 2  # the burst: one refresh, after the window
    assert refreshes[1] - refreshes[0] >= publish.REFRESH_WINDOW_S * 0.9


async def test_a_result_right_after_a_text_only_publish_is_refreshed_without_waiting() -> None:
    """While code streams in, each didChange publishes diagnostics (no refresh) and opens the
    publish window; the statement's result comes a few ms later. Its refresh must not wait
    for that window (it used to: 20 ms median before the value could be asked for)."""
    refreshes: list[float] = []
    sent: list[Any] = []

    async def refresh() -> None:
        refreshes.append(asyncio.get_running_loop().time())

    publisher = publish.Publisher(sent.append, refresh)
    doc = cast(Any, _Doc("file:///a.py"))
    publisher.schedule(doc, refresh=False)  # the didChange: diagnostics only
    await _turns()
    assert refreshes == []
    publisher.schedule(doc)  # the result, within the publish window
    await _turns()
    assert len(refreshes) == 1
    await asyncio.sleep(publish.PUBLISH_WINDOW_S + 0.05)
    assert len(refreshes) == 1  # the trailing diagnostics publish asks for no second one


@dataclass
class _OpenDoc:
    """An open document without failing results: its diagnostics are an empty list."""

    uri: str
    version: int = 1
    closed: bool = False
    store: Any = None
    text: Any = None

    def __post_init__(self) -> None:
        self.store = SimpleNamespace(failing=[])


async def test_no_diagnostics_after_none_wait_for_the_catch_up_of_the_last_version() -> None:
    """Code that runs without errors used to send an empty list per publish window; now only
    the first goes out, and the catch-up after typing pauses names the last version."""
    sent: list[Any] = []
    publisher = publish.Publisher(sent.append, None)
    doc = cast(Any, _OpenDoc("file:///a.py"))
    with _Clock() as clock:
        publisher.schedule(doc)
        await _turns()
        assert [(p.version, p.diagnostics) for p in sent] == [(1, [])]
        for version in range(2, 6):  # edits and results while code streams in
            doc.version = version
            publisher.catch_up(doc)
            publisher.schedule(doc)
            await clock.advance(publish.PUBLISH_WINDOW_S * 1.5)
        assert len(sent) == 1
        await clock.advance(publish.CATCH_UP_S + 0.1)
    assert [(p.version, p.diagnostics) for p in sent] == [(1, []), (5, [])]
