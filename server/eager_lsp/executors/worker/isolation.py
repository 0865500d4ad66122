"""The worker's own imports never resolve to workspace files; user code sees the workspace.

A workspace is untrusted until the user runs something in it: its `runpy.py`, `types.py`,
`site.py`, `sitecustomize.py`, `debugpy/` or `eager_lsp/` must not run (or break the
interpreter) just because a document was opened. So the worker starts isolated
(`python -I -c BOOTSTRAP`, see launch.py): `-I` keeps the current directory, PYTHONPATH, the
user site and every PYTHON* variable out of start-up; the bootstrap puts only the folder of
`eager_lsp`/`debugpy` symlinks on sys.path. `-I` exists on every Python 3 (unlike `-P`,
3.11+), so this holds for any `execution.python`. PYTHONSAFEPATH is deliberately not put in
the environment: `-I` already covers the worker, and programs that user code starts would
inherit it (a script run that way would no longer find modules next to it).

The worker then imports everything it will ever need, including the stdlib modules that
stdlib code imports lazily (`preload`), and only then calls `open_to_user`, which gives user
code the sys.path it would have had under `python script.py` in the workspace: the working
directory first, then PYTHONPATH, and the user site where Python would have enabled it.

Later imports of the worker's own (debugpy, started lazily when the user asks to attach) go
through `own_import`, which resolves them against the start-up path only.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType

# Imported lazily by the stdlib code the worker runs (tracebacks, reprs, linecache, argparse
# messages, json errors, signal handling); importing them up front means a workspace file of
# the same name can never stand in for them later. Missing ones (older Pythons) are skipped.
PRELOAD: tuple[str, ...] = (
    "ast",
    "codeop",
    "collections",
    "contextlib",
    "copy",
    "ctypes",
    "dis",
    "enum",
    "functools",
    "gettext",
    "inspect",
    "io",
    "json",
    "keyword",
    "linecache",
    "locale",
    "opcode",
    "operator",
    "platform",
    "pprint",
    "re",
    "reprlib",
    "selectors",
    "signal",
    "site",
    "socket",
    "string",
    "struct",
    "tempfile",
    "textwrap",
    "threading",
    "token",
    "tokenize",
    "traceback",
    "types",
    "typing",
    "warnings",
    "weakref",
)

_own_path: list[str] | None = None  # sys.path as the isolated start-up left it


def preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def user_paths(cwd: str, environ: Mapping[str, str]) -> list[str]:
    """What `python script.py` in `cwd` puts before the stdlib: the script's directory (the
    workspace) and the PYTHONPATH entries (-I made the interpreter ignore them)."""
    paths = [cwd]
    for entry in environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry:
            paths.append(os.path.abspath(entry))
    return paths


def _user_site(environ: Mapping[str, str]) -> str | None:
    """The user site-packages Python would have added without -I: not in a venv (which turns
    it off unless it includes system packages; not detected here), not PYTHONNOUSERSITE."""
    if environ.get("PYTHONNOUSERSITE") or sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        return None
    try:
        import site

        path = site.getusersitepackages()
    except Exception:
        return None
    return path if isinstance(path, str) and os.path.isdir(path) else None


def open_to_user(environ: Mapping[str, str] | None = None) -> None:
    """Give user code its sys.path; call once, after the worker's own imports."""
    global _own_path
    env = os.environ if environ is None else environ
    if _own_path is None:
        _own_path = list(sys.path)
    front = [p for p in user_paths(os.getcwd(), env) if p not in sys.path]
    sys.path[:0] = front
    user_site = _user_site(env)
    if user_site is not None and user_site not in sys.path:
        import site

        site.addsitedir(user_site)  # the user's own .pth files: theirs, not the workspace's


@contextlib.contextmanager
def _own_sys_path() -> Iterator[None]:
    if _own_path is None:
        yield
        return
    saved, own = sys.path[:], list(_own_path)
    sys.path[:] = own
    try:
        yield
    finally:
        # keep what the import itself put on sys.path (a package may add its vendored dir)
        added = [p for p in sys.path if p not in own and p not in saved]
        sys.path[:] = added + saved


@contextlib.contextmanager
def own_path() -> Iterator[None]:
    """Run a block (debugpy.listen: pydevd imports dozens of stdlib modules as it starts)
    with only the start-up path on sys.path, so none of those imports finds a workspace file."""
    with _own_sys_path():
        yield


def own_import(name: str) -> ModuleType:
    """Import one of the worker's own modules (e.g. debugpy) after `open_to_user`, resolving
    it against the start-up path only, never the workspace."""
    module = sys.modules.get(name.partition(".")[0])
    if module is not None and not _is_own(module):
        raise ImportError(f"{name} was already imported from {getattr(module, '__file__', '?')}")
    with _own_sys_path():
        return importlib.import_module(name)


def _is_own(module: ModuleType) -> bool:
    """Whether `module` came from the start-up path (not from a user directory)."""
    if _own_path is None:
        return True
    origin = getattr(module, "__file__", None)
    if not origin:
        return True  # built-in or namespace: not a workspace file
    origin = os.path.abspath(origin)
    user = [os.path.abspath(p) for p in sys.path if p not in _own_path]
    return not any(origin.startswith(p.rstrip(os.sep) + os.sep) for p in user if p)
