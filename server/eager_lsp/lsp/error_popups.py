"""Server errors shown to the user, at most one popup every few seconds.

pygls reports a failure outside a request (a notification it cannot parse, a notification
handler that raised) as a `window/showMessage` error popup, one per failure. A client that
sends the same bad notification on every keystroke, or a handler bug hit on every change,
then buries the editor in popups (an attacker's run: 20,000 notifications without `params`,
20,000 popups). Every failure is still logged; a popup shows the first of a burst, and the
next one says how many were not shown in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

POPUP_INTERVAL_S = 5.0


class ErrorPopups:
    """Decides which server errors become popups; `show` sends one."""

    def __init__(
        self,
        show: Callable[[str], None],
        interval_s: float = POPUP_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None
        self._held = 0  # errors not shown since the last popup

    def report(self, error: Exception) -> None:
        log.error("server error: %s", error)
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            self._held += 1
            return
        held, self._held, self._last = self._held, 0, now
        more = f" ({held} more since the last one: see the server log)" if held else ""
        self._show(f"Error in server: {error}{more}")
