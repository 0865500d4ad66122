"""Strip Markdown fences and chatty prose from a model's streamed answer.

We ask for plain Python, but chat models often answer "Here is the code:\\n```python ...```
This prints ...". The eager runner needs only the code, and needs it early, so this works
line by line on a stream:

* The first non-blank line decides. A fence line starts a fenced answer. A line that is not
  Python (by `codeop`) is prose: lines are held back until a fence shows up (the prose is
  dropped) or a Python-looking line does (then the held text is passed on after all).
  Anything else is plain Python and passes through untouched.
* Inside a fence, text is emitted as it arrives. Only the start of a line that could still
  become the closing fence (indentation, or up to three backticks) is held back.
* The closing fence (or any fence line in plain mode) ends the code; the rest is ignored.

Decisions are made on whole lines only, so the output never depends on how the stream was
split into pieces.
"""

from __future__ import annotations

import codeop
import warnings

_FIRST, _PROSE, _FENCE, _PLAIN, _DONE = range(5)
_TICKS = "```"


def _is_fence(line: str) -> bool:
    return line.lstrip(" \t").startswith(_TICKS)


def _is_closing_fence(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(_TICKS) and set(stripped) == {"`"}


def _could_be_fence(partial: str) -> bool:
    """True while an unfinished line may still turn out to be a fence line."""
    t = partial.lstrip(" \t")
    return _TICKS.startswith(t) or t.startswith(_TICKS)


def _compiles(source: str) -> bool:
    """True if `source` is valid or merely incomplete Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            codeop.compile_command(source, "<model>", "exec")
        except (SyntaxError, ValueError, OverflowError):
            return False
    return True


def looks_like_prose(line: str) -> bool:
    """Whether a first line reads as English rather than Python.

    Errs towards "code": wrongly calling prose code only lets a sentence through (a syntax
    error the repair loop handles); wrongly calling code prose would delay it.
    """
    if line[:1] in (" ", "\t"):  # indented: a continuation, never a chat preamble
        return False
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "@")):
        return False
    if _compiles(stripped):
        return False
    # return/yield/await/break/continue are fine inside a body; give them one.
    return not _compiles("async def _f():\n while _:\n  " + stripped)


class CodeFenceFilter:
    """Feed model text in pieces of any size; get back only the code, as early as possible."""

    def __init__(self) -> None:
        self._mode = _FIRST
        self._held: list[str] = []  # complete lines held while undecided (first line / prose)
        self._line = ""  # start of the current line, not yet emitted
        self._line_open = False  # the current line is known content and already partly emitted

    @property
    def done(self) -> bool:
        """The code has ended (closing fence seen); more input will be ignored."""
        return self._mode == _DONE

    def feed(self, piece: str) -> str:
        out: list[str] = []
        start = 0
        while start < len(piece) and self._mode != _DONE:
            nl = piece.find("\n", start)
            end = len(piece) if nl < 0 else nl + 1
            self._take(piece[start:end], out)
            start = end
        return "".join(out)

    def end(self) -> str:
        """Flush at the end of the stream; without any fence, held text is passed through."""
        out: list[str] = []
        line, self._line = self._line, ""
        if self._mode in (_FIRST, _PROSE):
            if line:
                self._line_done(line, out)
            if self._mode in (_FIRST, _PROSE):
                out.extend(self._held)
        elif self._mode in (_FENCE, _PLAIN) and line and not _is_fence(line):
            out.append(line)  # a held line start (indentation, backticks) that never became a fence
        self._held = []
        self._mode = _DONE
        return "".join(out)

    # -- internals --------------------------------------------------------------------------

    def _take(self, text: str, out: list[str]) -> None:
        """Handle a run of text that holds at most one newline, at its end."""
        complete = text.endswith("\n")
        if self._mode in (_FIRST, _PROSE):
            self._line += text
            if complete:
                line, self._line = self._line, ""
                self._line_done(line, out)
            return
        if self._line_open:
            out.append(text)
            self._line_open = not complete
            return
        self._line += text
        if complete:
            line, self._line = self._line, ""
            if not _is_fence(line):
                out.append(line)
            elif self._mode == _PLAIN or _is_closing_fence(line):
                self._mode = _DONE
            else:
                out.append(line)  # "```python" inside a fence is content, not a close
        elif not _could_be_fence(self._line):
            out.append(self._line)
            self._line = ""
            self._line_open = True

    def _line_done(self, line: str, out: list[str]) -> None:
        """Classify a complete line while the answer's shape is still undecided."""
        if _is_fence(line):
            self._held = []  # prose before the fence is dropped
            self._mode = _FENCE
        elif not line.strip() or looks_like_prose(line):
            self._held.append(line)
            if line.strip():
                self._mode = _PROSE
        else:
            out.extend(self._held)
            out.append(line)
            self._held = []
            self._mode = _PLAIN
