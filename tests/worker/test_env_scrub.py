"""Issue 9.3: no secret reaches executed code. The rule (names by pattern, URLs carrying a
password, the user's allow list and extra patterns), and the real worker's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eager_lsp.executors.worker.client import WorkerClient, WorkerOptions
from eager_lsp.executors.worker.launch import is_secret, scrub_env

from .helpers import run1

# Each passed through before (issue 9), each a secret.
LEAKED_BEFORE = {
    "DB_PASS": "hunter2",
    "MYSQL_PWD": "hunter2",
    "REDIS_URL": "redis://:hunter2@cache.internal:6379/0",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/XXXX",
    "NPM_CONFIG__AUTH": "dXNlcjpwYXNz",
    "GH_PAT": "ghp_xxxxxxxxxxxx",
    "MY_PRIVATE_DATA": "x",
    "FLASK_SESSION_SALT": "x",
    "BROWSER_COOKIE": "x",
    "PIP_INDEX_URL": "https://user:pa%40ss@pypi.example.com/simple",
    "HTTPS_PROXY": "http://me:secret@proxy:3128",
    "basic_auth": "x",  # lower case too
    "MY_CREDS": "user:hunter2",  # found by a trial after issue 9 was closed
}

# What the interpreter and ordinary programs need; none of it is a secret.
KEPT = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "VIRTUAL_ENV": "/home/u/.venv",
    "PWD": "/home/u/project",
    "OLDPWD": "/home/u",
    "TERM": "xterm",
    "XDG_SESSION_TYPE": "wayland",
    "HTTPS_PROXY_PLAIN": "http://proxy:3128",
    "REPO_URL": "https://github.com/u/r",
    "GIT_SSH_URL": "ssh://git@github.com/u/r",  # user, no password
    "PATHEXT": ".PY",
    "JAVA_HOME": "/usr/lib/jvm",
}


def test_names_and_values_that_are_secrets() -> None:
    for name, value in LEAKED_BEFORE.items():
        assert is_secret(name, value), name
    for name, value in KEPT.items():
        assert not is_secret(name, value), name
    assert scrub_env({**LEAKED_BEFORE, **KEPT}) == KEPT


def test_allow_and_deny_patterns() -> None:
    env = {"GH_PAT": "g", "DB_PASS": "p", "COMPANY_INTERNAL_HOST": "h", "PATH": "/bin"}
    assert scrub_env(env, allow=["GH_PAT"]) == {
        "GH_PAT": "g",
        "COMPANY_INTERNAL_HOST": "h",
        "PATH": "/bin",
    }
    assert scrub_env(env, deny_patterns=["company_*"]) == {"PATH": "/bin"}
    # allow wins over a pattern, and is exact: not a pattern, not case-folded
    assert scrub_env(env, allow=["db_pass", "GH_*"]) == {
        "COMPANY_INTERNAL_HOST": "h",
        "PATH": "/bin",
    }


async def test_the_worker_sees_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**LEAKED_BEFORE, **KEPT}.items():
        if name not in ("PATH", "HOME", "PYTHONHASHSEED", "LANG", "LC_ALL", "VIRTUAL_ENV"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("COMPANY_INTERNAL_HOST", "h")
    options = WorkerOptions(
        debug=False,
        cwd=str(tmp_path),
        env_allow=("GH_PAT",),
        env_deny_patterns=("COMPANY_*",),
    )
    worker = await WorkerClient.start(options)
    try:
        code = "import json, os\nprint(json.dumps(sorted(os.environ)))\n"
        result = await run1(worker, code)
        seen = set(json.loads(result["stdout"]))
        leaked = seen & set(LEAKED_BEFORE)
        assert leaked == {"GH_PAT"}  # passed through on purpose
        assert "COMPANY_INTERNAL_HOST" not in seen
        assert {"PWD", "OLDPWD", "TERM", "REPO_URL", "PATH"} <= seen
    finally:
        await worker.shutdown()


def test_settings_and_cli_flags_reach_the_worker_options() -> None:
    from eager_lsp.cli.commands import build_parser
    from eager_lsp.cli.options import interpreter_config_from_args
    from eager_lsp.executors.backend import worker_options
    from eager_lsp.lsp.config import parse_settings

    settings, problems = parse_settings(
        {"execution": {"envAllow": ["GH_PAT"], "envDenyPatterns": ["ACME_*"]}}
    )
    assert problems == []
    assert settings.execution.env_allow == ("GH_PAT",)
    assert settings.execution.env_deny_patterns == ("ACME_*",)
    bad, problems = parse_settings({"execution": {"envAllow": "GH_PAT"}})
    assert bad.execution.env_allow == () and problems  # reported, default kept

    args = build_parser().parse_args(
        ["run", "--env-allow", "GH_PAT", "--env-allow", "DB_PASS", "--env-deny", "ACME_*", "x.py"]
    )
    options = worker_options(interpreter_config_from_args(args, "/x.py"))
    assert options.env_allow == ("GH_PAT", "DB_PASS")
    assert options.env_deny_patterns == ("ACME_*",)
