"""The gate: decides when a released chunk may run (Eager's policy, made configurable).

`eager` and `parallel` admit every chunk at once; `parallel` then lets the worker start
independent chunks side by side (what waits for what: core/parallel.py).

`safe` mode defers def/class chunks into the next chunk that does work (a definition alone
produces nothing worth a round trip) and, once a chunk may have an effect outside the
interpreter or runs code nobody can see, stops running eagerly: that chunk and every later one
wait for the end of the stream, as in a serial run.

It judges *calls*, not modules: `import time; time.sleep(1)` runs eagerly, `os.remove(p)`
does not. A name counts through the imports of every chunk so far (`import subprocess as sp`
then `sp.run()` is `subprocess.run`), and a reference that is not a call counts too
(`cleanup = shutil.rmtree`). The rules are data (settings), in three lists of shell patterns
over resolved dotted names:
- `deny_calls`: unsafe (`os.*`, `subprocess.*`, `requests.post`, `eval`, ...);
- `allow_calls`: exceptions to those (`os.path.*`, `os.getcwd`, `shutil.which`, ...);
- `deny_methods`: method names unsafe on any object, since the object's type is unknown
  (`.unlink()`, `.write_text()`, `.connect()`, `.send()`, `.to_csv()`, ...).
Two rules look at arguments: `open()` and its relatives are unsafe in a mode other than
reading (or a mode that is not a literal), and `urllib.request.urlopen`/`Request` are unsafe
with data, a method, or a target that is not a literal URL (it may carry data). `deny_modules`
(empty by default) still treats a whole module as unsafe from its import on, as before.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from eager_lsp.core.analysis import FSTRING, CallSite, resolve_alias
from eager_lsp.core.types import Chunk, GateMode

#: Calls (and references) that have effects outside the interpreter or run unseen code.
DEFAULT_DENY_CALLS: tuple[str, ...] = (
    # code we cannot see
    "eval",
    "exec",
    "compile",
    "__import__",
    "breakpoint",
    "importlib.import_module",
    # the file system and processes
    "os.*",
    "shutil.*",
    "subprocess.*",
    "pty.*",
    "multiprocessing.*",
    "signal.*",
    "threading.*",
    "_thread.*",
    "ctypes.*",
    "asyncio.create_subprocess_*",
    "numpy.save",
    "numpy.savez",
    "numpy.savez_compressed",
    "numpy.savetxt",
    "matplotlib.pyplot.savefig",
    "sqlite3.connect",
    # the network
    "socket.*",
    "ssl.*",
    "http.client.*",
    "smtplib.*",
    "ftplib.*",
    "telnetlib.*",
    "webbrowser.*",
    "urllib.request.urlretrieve",
    "urllib.request.build_opener",
    "urllib.request.install_opener",
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.request",
    "requests.Session",
    "requests.session",
    "httpx.post",
    "httpx.put",
    "httpx.patch",
    "httpx.delete",
    "httpx.request",
    "httpx.stream",
    "httpx.Client",
    "httpx.AsyncClient",
    "aiohttp.*",
)
#: Exceptions to DEFAULT_DENY_CALLS: reading state, not changing it.
DEFAULT_ALLOW_CALLS: tuple[str, ...] = (
    "os.path.*",
    "os.environ",
    "os.environ.get",
    "os.environ.copy",
    "os.environ.items",
    "os.environ.keys",
    "os.environ.values",
    "os.getenv",
    "os.getcwd",
    "os.getcwdb",
    "os.listdir",
    "os.scandir",
    "os.walk",
    "os.stat",
    "os.lstat",
    "os.access",
    "os.fspath",
    "os.fsencode",
    "os.fsdecode",
    "os.cpu_count",
    "os.getpid",
    "os.getppid",
    "os.getuid",
    "os.getgid",
    "os.getlogin",
    "os.uname",
    "os.urandom",
    "os.strerror",
    "os.get_terminal_size",
    "os.sep",
    "os.altsep",
    "os.linesep",
    "os.pathsep",
    "os.curdir",
    "os.pardir",
    "os.extsep",
    "os.devnull",
    "os.name",
    "shutil.which",
    "shutil.disk_usage",
    "shutil.get_terminal_size",
    "threading.current_thread",
    "threading.get_ident",
    "threading.active_count",
    "threading.Lock",
    "threading.RLock",
)
#: Methods unsafe on any object (the receiver's type is not known before it runs).
DEFAULT_DENY_METHODS: frozenset[str] = frozenset(
    {
        # pathlib and friends
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "rmtree",
        "touch",
        "mkdir",
        "makedirs",
        "symlink_to",
        "hardlink_to",
        "chmod",
        # sockets, HTTP sessions
        "connect",
        "connect_ex",
        "send",
        "sendall",
        "sendto",
        "sendfile",
        "post",
        "urlopen",
        # data written to files
        "to_csv",
        "to_excel",
        "to_parquet",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "to_sql",
        "to_stata",
        "savefig",
    }
)
#: Kept for the legacy module-level rule (`execution.denyModules`); empty: calls decide.
DEFAULT_DENY_MODULES: frozenset[str] = frozenset()

_OPENERS = frozenset(
    {"open", "builtins.open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open"}
)
_URL_CALLS = frozenset({"urllib.request.urlopen", "urllib.request.Request"})
_READ_MODE = re.compile(r"[rbtU]*\Z")
_MODE_LIKE = re.compile(r"[rwxabtU+]{1,4}\Z")


def _matcher(patterns: Iterable[str]) -> re.Pattern[str]:
    parts = [fnmatch.translate(p) for p in patterns if p]
    return re.compile("|".join(parts) if parts else r"(?!)")


@dataclass(frozen=True)
class GatePolicy:
    mode: GateMode = GateMode.SAFE
    deny_modules: frozenset[str] = DEFAULT_DENY_MODULES
    deny_calls: tuple[str, ...] = DEFAULT_DENY_CALLS
    allow_calls: tuple[str, ...] = DEFAULT_ALLOW_CALLS
    deny_methods: frozenset[str] = DEFAULT_DENY_METHODS
    _deny: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _allow: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_deny", _matcher(self.deny_calls))
        object.__setattr__(self, "_allow", _matcher(self.allow_calls))

    @classmethod
    def from_settings(
        cls,
        mode: str | GateMode = GateMode.SAFE,
        deny_modules: Iterable[str] | None = None,
        deny_calls: Iterable[str] | None = None,
        allow_calls: Iterable[str] | None = None,
        deny_methods: Iterable[str] | None = None,
    ) -> GatePolicy:
        return cls(
            mode=GateMode(mode),
            deny_modules=DEFAULT_DENY_MODULES if deny_modules is None else frozenset(deny_modules),
            deny_calls=DEFAULT_DENY_CALLS if deny_calls is None else tuple(deny_calls),
            allow_calls=DEFAULT_ALLOW_CALLS if allow_calls is None else tuple(allow_calls),
            deny_methods=DEFAULT_DENY_METHODS if deny_methods is None else frozenset(deny_methods),
        )

    def unsafe(self, name: str) -> bool:
        """A resolved dotted name the policy denies (and does not allow back)."""
        return self._deny.match(name) is not None and self._allow.match(name) is None

    def allowed(self, name: str) -> bool:
        return self._allow.match(name) is not None

    def unsafe_module(self, module: str) -> bool:
        """`from module import *`: could bind any name the policy denies."""
        return module in self.deny_modules or self.unsafe(module + ".*")


@dataclass
class Gate:
    """Stateful per stream: remembers deferred definitions and what names were imported as."""

    policy: GatePolicy = field(default_factory=GatePolicy)
    fallen_back: bool = False  # safe mode met an unsafe chunk: the rest runs at the end
    fallback_reason: str | None = None
    held_because: str | None = None  # the reason alone (fallback_reason names its line too)
    _held: list[Chunk] = field(default_factory=list)
    _denied_names: set[str] = field(default_factory=set)
    _aliases: dict[str, str] = field(default_factory=dict)  # bound name → module path

    def admit(self, chunk: Chunk) -> list[Chunk]:
        """Take a released chunk; return the chunks that may run now, in order."""
        mode = self.policy.mode
        if mode in (GateMode.EAGER, GateMode.PARALLEL):
            return [chunk]
        self._held.append(chunk)
        if mode is GateMode.SERIAL or self.fallen_back:
            return []
        reason = self.denied(chunk)
        if reason is not None:
            self.fallen_back = True
            self.fallback_reason = f"line {chunk.start_line}: {reason}"
            self.held_because = reason
            return []
        if chunk.kind in ("def", "class"):
            return []
        ready, self._held = self._held, []
        return ready

    def flush(self) -> list[Chunk]:
        """End of stream: everything still held runs now."""
        ready, self._held = self._held, []
        return ready

    def denied(self, chunk: Chunk) -> str | None:
        """Why this chunk may not run early, or None."""
        policy = self.policy
        if not chunk.checked:
            return "another Python version must compile it (the server cannot judge it)"
        for module in chunk.modules:
            if module in policy.deny_modules:
                self._denied_names.update(chunk.binds)
                return f"imports {module}"
        facts = chunk.facts
        if facts is not None:
            self._aliases.update(facts.aliases)
            for module in facts.star_modules:
                if policy.unsafe_module(module):
                    return f"imports * from {module}"
            for site in facts.call_sites:
                reason = self._call_denied(site)
                if reason is not None:
                    return reason
            for ref in facts.refs:
                reason = self._name_denied(ref, called=False)
                if reason is not None:
                    return reason
        else:  # facts unknown (built by hand, or by an older detector): the names we have
            for call in chunk.calls:
                reason = self._name_denied(call, called=True)
                if reason is not None:
                    return reason
        for name in chunk.reads:
            if name in self._denied_names:
                return f"uses {name}"
        return None

    def _resolve(self, name: str) -> str:
        return resolve_alias(name, self._aliases)

    def _name_denied(self, name: str, called: bool) -> str | None:
        head = name.split(".", 1)[0]
        if head in self._denied_names:
            return f"calls {name}()" if called else f"uses {name}"
        # Dotted names count only through an import (a variable called `signal` is not the
        # module); plain names are builtins unless some chunk imported them.
        if "." in name and head not in self._aliases:
            return None
        resolved = self._resolve(name)
        policy = self.policy
        shown = name if resolved == name else f"{name} ({resolved})"
        if policy.unsafe(resolved):
            return f"calls {shown}()" if called else f"uses {shown}"
        module_itself = not called and "." not in name and head in self._aliases
        if module_itself and policy.unsafe(resolved + ".x"):  # `runner = subprocess`
            return f"uses module {shown}"
        if not called and resolved in _OPENERS | _URL_CALLS:
            return f"passes {shown} around (its arguments cannot be checked)"
        return None

    def _call_denied(self, site: CallSite) -> str | None:
        policy = self.policy
        head = site.name.split(".", 1)[0] if site.name else ""
        imported = head in self._aliases
        resolved = self._resolve(site.name) if imported else site.name
        if site.method in policy.deny_methods and not (imported and "." in site.name):
            # A method of some object; an imported module's functions go by their names.
            return f"calls .{site.method}()"
        if resolved in _OPENERS:
            return None if policy.allowed(resolved) else _open_denied(site, resolved)
        if site.method == "open" and not imported:
            return _open_denied(site, None)
        if resolved in _URL_CALLS:
            return None if policy.allowed(resolved) else _url_denied(site, resolved)
        return self._name_denied(site.name, called=True) if site.name else None


def _open_denied(site: CallSite, resolved: str | None) -> str | None:
    """`open(path, mode)`: only reading runs early. A method `.open(...)` (`resolved` None:
    Path, ZipFile) is judged by whichever literal argument looks like a mode."""
    label = f"{resolved}()" if resolved else f".{site.method}()"
    if resolved is None:
        modes = [v for _, v in site.kwargs if isinstance(v, str)] + [
            v for v in site.args if isinstance(v, str) and _MODE_LIKE.match(v)
        ]
        for key, value in site.kwargs:
            if key == "mode" and not isinstance(value, str):
                return f"calls {label} with a mode that is not a literal"
        bad = [m for m in modes if _MODE_LIKE.match(m) and not _READ_MODE.match(m)]
        return f"calls {label} to write (mode {bad[0]!r})" if bad else None
    mode = site.arg(1, "mode", "r")
    if not isinstance(mode, str):
        return f"calls {label} with a mode that is not a literal"
    if not _READ_MODE.match(mode):
        return f"calls {label} to write (mode {mode!r})"
    return None


def _url_denied(site: CallSite, resolved: str) -> str | None:
    """`urlopen(url)` reads; with data (a POST), or a target that may be a Request carrying
    data, it may change something elsewhere."""
    if site.arg(1, "data") is not None:
        return f"calls {resolved}() with data"
    if resolved.endswith("Request") and site.arg(3, "method") not in (None, "GET", "HEAD"):
        return f"calls {resolved}() with a method"
    target = site.arg(0, "url")
    if not (isinstance(target, str) or target is FSTRING):
        return f"calls {resolved}() on a target that is not a literal URL"
    return None
