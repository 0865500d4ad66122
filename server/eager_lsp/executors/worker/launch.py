"""How to start a worker: the command line, its environment, and its import path.

The worker may run in the user's own interpreter (their venv, their packages), where neither
eager_lsp nor debugpy is installed. Instead of installing anything there we build, once, a
directory holding only two symlinks, `eager_lsp` and `debugpy`, pointing into the server's
environment, and put it first on the child's sys.path.

On Linux the workers are forked by a zygote started the same way (`zygote_command`, see
executors/worker/zygote.py and executors/worker/spawn.py); elsewhere each worker is exec'd (`worker_command`).

The child starts isolated, `python -I -c BOOTSTRAP`: nothing in the workspace (its working
directory) can run before the worker has done its own imports, see executors/worker/isolation.py. `-I`
also ignores PYTHONPATH, so the bootstrap inserts the symlink folder itself; the worker puts
the workspace and PYTHONPATH back for user code afterwards.

Its environment is the server's minus anything that looks like a secret (`scrub_env`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping

_PACKAGE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))  # .../eager_lsp

# Secrets never reach code an AI wrote. A variable is dropped when its upper-cased name
# matches any of these shell patterns (the words of issue 9, plus personal access tokens and
# the whole families of model-provider and cloud settings), or when its value is a URL that
# carries a password (`scheme://user:pass@host`, e.g. REDIS_URL). AUTH also drops
# SSH_AUTH_SOCK and XAUTHORITY on purpose: with them, code could sign with the user's ssh
# agent or talk to their X server. SESSION drops DBUS_SESSION_BUS_ADDRESS (the keyring lives
# behind it). Users pass a variable through with `execution.envAllow`.
SECRET_PATTERNS: tuple[str, ...] = (
    "*KEY*",
    "*TOKEN*",
    "*SECRET*",
    "*PASS*",  # PASSWORD, PASSWD, PASSPHRASE, DB_PASS
    "*PWD*",  # MYSQL_PWD; PWD and OLDPWD themselves are kept, see NOT_SECRET
    "*AUTH*",  # NPM_CONFIG__AUTH, *_AUTH_HEADER, SSH_AUTH_SOCK, XAUTHORITY
    "*CRED*",  # CREDENTIALS, MY_CREDS, GOOGLE_APPLICATION_CREDENTIALS
    "*PRIVATE*",
    "*SESSION*",
    "*COOKIE*",
    "*WEBHOOK*",
    "*_PAT",  # GH_PAT, GITHUB_PAT, AZURE_DEVOPS_PAT (not PATH: the underscore)
    "*_PAT_*",
    "OPENAI_*",
    "ANTHROPIC_*",
    "AWS_*",
    "AZURE_*",
    "GEMINI_*",
    "MISTRAL_*",
    "COHERE_*",
    "GROQ_*",
    "DATABASE_URL",
    "*DSN*",
    "*_PW",  # DB_PW, POSTGRES_PW
    "*_PW_*",
    "*JWT*",  # CI_JOB_JWT
)


# Matched by a pattern above but not secrets, and needed by programs: the shell's working
# directories and the desktop session's type (toolkits pick X11 or Wayland by it).
NOT_SECRET: frozenset[str] = frozenset(
    {"PWD", "OLDPWD", "XDG_SESSION_TYPE", "XDG_SESSION_DESKTOP", "XDG_SESSION_CLASS"}
    | {"DESKTOP_SESSION"}
)

# scheme://user:password@host. Matched up to the last '@' of the authority, since real
# passwords carry '/', '#' or '?' unescaped (mongodb+srv://u:pa/ss@host); that also flags a few
# innocent URLs (an '@' in a query after a port), which errs on the safe side.
_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:\S*@")
# scheme://TOKEN@host: a user name that is a credential (a GitHub token, a Sentry DSN key)
_URL_WITH_TOKEN_USER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9_\-.~%]{16,}@")
# Values that are secrets whatever the variable is called: well-known token formats, JWTs,
# private keys, connection strings and netrc lines with a password, chat webhooks.
_SECRET_VALUE = re.compile(
    r"(?:^|[^A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|xox[abprse]-[\w-]{10,}"
    r"|sk-[A-Za-z0-9_-]{16,}|[sr]k_(?:live|test)_\w{10,}|A[KS]IA[0-9A-Z]{16}|AIza[\w-]{30,}"
    r"|glpat-[\w-]{16,}|hf_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{30,})"
    r"|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\."
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|(?i:\b(?:password|passwd|pwd)\s*[=:]\s*[^\s;]|\bpassword\s+\S)"
    r"|(?i:hooks\.slack\.com/|discord(?:app)?\.com/api/webhooks/|\.webhook\.office\.com/)"
)


def _secret_value(value: str) -> bool:
    return bool(
        _URL_WITH_PASSWORD.search(value)
        or _URL_WITH_TOKEN_USER.search(value)
        or _SECRET_VALUE.search(value)
    )


def is_secret(name: str, value: str = "", deny_patterns: Iterable[str] = ()) -> bool:
    """Whether variable `name` (with `value`) must not reach executed code. Patterns are
    shell-style and case-insensitive; `deny_patterns` adds to SECRET_PATTERNS."""
    upper = name.upper()
    if upper in NOT_SECRET:
        return False
    for pattern in (*SECRET_PATTERNS, *deny_patterns):
        if fnmatch.fnmatchcase(upper, pattern.upper()):
            return True
    return bool(value) and _secret_value(value)


def scrub_env(
    env: Mapping[str, str], allow: Iterable[str] = (), deny_patterns: Iterable[str] = ()
) -> dict[str, str]:
    """`env` without the variables `is_secret` flags, except the names in `allow` (exact,
    case-sensitive as the environment is)."""
    allowed = set(allow)
    deny = tuple(deny_patterns)
    return {k: v for k, v in env.items() if k in allowed or not is_secret(k, v, deny_patterns=deny)}


def _cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "eager-lsp")


def debugpy_dir() -> str | None:
    """The server environment's debugpy package directory, found without importing it."""
    spec = importlib.util.find_spec("debugpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.abspath(next(iter(spec.submodule_search_locations)))


def worker_path_dir() -> str:
    """A directory with only `eager_lsp` and `debugpy` symlinks; created once per layout."""
    targets = {"eager_lsp": _PACKAGE_DIR}
    debugpy = debugpy_dir()
    if debugpy is not None:
        targets["debugpy"] = debugpy
    digest = hashlib.sha256(repr(sorted(targets.items())).encode()).hexdigest()[:16]
    for root in (_cache_root(), os.path.join(tempfile.gettempdir(), f"eager-lsp-{os.getuid()}")):
        final = os.path.join(root, f"worker-path-{digest}")
        if _links_ok(final, targets):
            return final
        try:
            os.makedirs(root, mode=0o700, exist_ok=True)
            staging = tempfile.mkdtemp(prefix="worker-path-tmp-", dir=root)
            for name, target in targets.items():
                os.symlink(target, os.path.join(staging, name))
            try:
                os.rename(staging, final)  # atomic; loses harmlessly to a concurrent builder
            except OSError:
                for name in targets:
                    os.unlink(os.path.join(staging, name))
                os.rmdir(staging)
            if _links_ok(final, targets):
                return final
        except OSError:
            continue
    raise RuntimeError("cannot create the eager-lsp worker path directory")


def _links_ok(directory: str, targets: Mapping[str, str]) -> bool:
    """The folder holds exactly our symlinks, and neither it nor its parent can be changed by
    another user: on a shared machine someone else could pre-create it in /tmp (its name is
    predictable) with a module of theirs beside the links, and the worker would import it."""
    try:
        if not (_private(os.path.dirname(directory)) and _private(directory)):
            return False
        if sorted(os.listdir(directory)) != sorted(targets):
            return False
    except OSError:
        return False
    return all(
        os.path.islink(os.path.join(directory, name))
        and os.path.realpath(os.path.join(directory, name)) == os.path.realpath(target)
        for name, target in targets.items()
    )


def _private(path: str) -> bool:
    """A real directory (not a symlink), ours, writable by nobody else."""
    st = os.lstat(path)
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


# `-c` code: the only sys.path entry it adds is the symlink folder, spelled inside the code so
# that sys.argv[1:] are the worker's own arguments.
BOOTSTRAP = "import sys; sys.path.insert(0, {path!r}); from eager_lsp.executors.worker.main import main; main()"
ZYGOTE_BOOTSTRAP = "import sys; sys.path.insert(0, {path!r}); from eager_lsp.executors.worker.zygote import main; main()"


def worker_argv(result_fd: int, *, debug: bool, memory_limit_mb: int = 0) -> list[str]:
    """The worker's own arguments (executors/worker/main.py)."""
    argv = ["--result-fd", str(result_fd)]
    if not debug:
        argv.append("--no-debug")
    if memory_limit_mb > 0:
        argv += ["--memory-limit-mb", str(memory_limit_mb)]
    return argv


def _interpreter(python: str, bootstrap: str) -> list[str]:
    """`-I`: isolated start-up, nothing from the workspace or PYTHON* variables (see the module
    docstring). `-Xfrozen_modules=off` lets debugpy see stdlib sources (ignored before 3.11)."""
    return [python, "-I", "-Xfrozen_modules=off", "-c", bootstrap.format(path=worker_path_dir())]


def worker_command(
    python: str, result_fd: int, *, debug: bool, memory_limit_mb: int = 0
) -> list[str]:
    """A worker exec'd directly (spawn.DirectProcess): where there is no zygote."""
    argv = worker_argv(result_fd, debug=debug, memory_limit_mb=memory_limit_mb)
    return [*_interpreter(python, BOOTSTRAP), *argv]


def zygote_command(python: str, socket_fd: int, parent_pid: int | None = None) -> list[str]:
    """The interpreter's zygote (executors/worker/zygote.py), which forks workers with the same
    start-up: the same flags, the same isolated sys.path. With `parent_pid` it is woken (SIGCONT,
    PR_SET_PDEATHSIG) when that process dies, even when executed code keeps it stopped."""
    extra = [] if parent_pid is None else [str(parent_pid)]
    return [*_interpreter(python, ZYGOTE_BOOTSTRAP), str(socket_fd), *extra]


def worker_env(
    base: Mapping[str, str] | None,
    allow: Iterable[str] = (),
    deny_patterns: Iterable[str] = (),
) -> dict[str, str]:
    """The child's environment: `base` as given, or the server's own minus secrets (with the
    user's `allow` names and extra `deny_patterns`); plus the debugpy settings. PYTHONPATH is
    left as the user had it: the worker applies it to user code only (isolation.py)."""
    env = scrub_env(os.environ, allow, deny_patterns) if base is None else dict(base)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    # No GUI: figures are drawn off-screen and sent back as PNG files (executors/worker/rich.py).
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONINSPECT", None)
    return env


def default_python() -> str:
    return sys.executable
