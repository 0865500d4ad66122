"""Reading a Python file from disk the way Python itself does.

Why: a file is Python source, not just text. Python reads it as UTF-8 unless its first two
lines declare another encoding (PEP 263, `# -*- coding: latin-1 -*-`) or it starts with a
UTF-8 BOM; `tokenize.open` applies those rules. A file Python could run must not be refused
as "not UTF-8", and one it could not read gets one clear sentence, not a traceback.
"""

from __future__ import annotations

import tokenize
from pathlib import Path


class SourceError(Exception):
    """The file cannot be read as Python source; the message says why, for a person."""


def read_python_source(path: Path) -> str:
    try:
        with tokenize.open(path) as f:
            return f.read()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except SyntaxError as exc:
        if "invalid or missing encoding" in str(exc.msg):  # its first lines are not UTF-8
            raise SourceError(
                f"{path} is not valid UTF-8 text and declares no other encoding (PEP 263)"
            ) from exc
        raise SourceError(f"{path}: {exc.msg}") from exc  # e.g. an unknown encoding
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not valid {exc.encoding.upper()} text (its declared or default"
            f" encoding): {exc.reason} at byte {exc.start}"
        ) from exc
