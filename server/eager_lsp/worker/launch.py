"""How to start a worker: the command line, its environment, and its import path.

The worker may run in the user's own interpreter (their venv, their packages), where neither
eager_lsp nor debugpy is installed. Instead of installing anything there we build, once, a
directory holding only two symlinks, `eager_lsp` and `debugpy`, pointing into the server's
environment, and put it first on the child's PYTHONPATH.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Mapping

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../eager_lsp

# Secrets never reach code an AI wrote. A variable is dropped when its upper-cased name
# matches any of these shell patterns: anything mentioning a key, token, secret, password,
# passphrase or credential, and the whole families of model-provider and cloud settings.
# Deliberately not matched: paths and switches such as SSH_AUTH_SOCK, XAUTHORITY or HF_HOME.
SECRET_PATTERNS: tuple[str, ...] = (
    "*KEY*",
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*CREDENTIAL*",
    "OPENAI_*",
    "ANTHROPIC_*",
    "AWS_*",
    "AZURE_*",
    "GEMINI_*",
    "MISTRAL_*",
    "COHERE_*",
    "GROQ_*",
    "DATABASE_URL",
    "*_DSN",
)


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SECRET_PATTERNS)


def scrub_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the variables `is_secret` flags (see SECRET_PATTERNS)."""
    return {k: v for k, v in env.items() if not is_secret(k)}


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
            os.makedirs(root, exist_ok=True)
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
    return all(
        os.path.realpath(os.path.join(directory, name)) == os.path.realpath(target)
        for name, target in targets.items()
    )


def worker_command(
    python: str, result_fd: int, *, debug: bool, memory_limit_mb: int = 0
) -> list[str]:
    """`-Xfrozen_modules=off` lets debugpy see stdlib sources (ignored before 3.11)."""
    command = [python, "-Xfrozen_modules=off", "-m", "eager_lsp.worker", "--result-fd"]
    command.append(str(result_fd))
    if not debug:
        command.append("--no-debug")
    if memory_limit_mb > 0:
        command += ["--memory-limit-mb", str(memory_limit_mb)]
    return command


def worker_env(base: Mapping[str, str] | None) -> dict[str, str]:
    """The child's environment: `base` as given, or the server's own minus secrets; plus the
    worker path first on PYTHONPATH and the debugpy settings."""
    env = scrub_env(os.environ) if base is None else dict(base)
    path = worker_path_dir()
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = path + (os.pathsep + existing if existing else "")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONINSPECT", None)
    return env


def default_python() -> str:
    return sys.executable
