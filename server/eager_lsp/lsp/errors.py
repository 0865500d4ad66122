"""The one exception features raise to refuse a request."""

from __future__ import annotations


class RequestError(Exception):
    """A refusal phrased for the user: shown with window/showMessage, and returned to the
    command's caller as `{"error": message, "reason": reason}`."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
