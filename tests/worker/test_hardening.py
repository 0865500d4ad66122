"""Doors an attack review found after the first round of issue 9 (each test failed before).

- A process of ours is dumpable between execve and its prctl: code of the same user could
  PTRACE_SEIZE it in that gap and stay attached. It must notice and leave.
- The worker-path folder under /tmp (the fallback when ~/.cache cannot be used) has a
  predictable name: another user could create it first with a module of theirs inside.
- Secrets under names no pattern catches, recognised by their values.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eager_lsp.executors.worker import launch
from eager_lsp.executors.worker.launch import is_secret

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl/ptrace")

PTRACE_TRACEME = 0
PTRACE_CONT = 7


@linux_only
def test_a_process_traced_from_its_start_refuses_to_go_on() -> None:
    """A tracer attached before `make_undumpable` stays attached after it; the process must
    see it (TracerPid) and exit before running anything else."""
    code = (
        "from eager_lsp.executors.worker.nodump import make_undumpable_or_exit\n"
        "make_undumpable_or_exit('the test process')\n"
        "print('went on')\n"
    )
    libc = ctypes.CDLL(None, use_errno=True)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: traced by the test from before exec
        try:
            os.close(read_end)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            libc.ptrace(PTRACE_TRACEME, 0, None, None)
            os.execv(sys.executable, [sys.executable, "-c", code])
        finally:
            os._exit(127)
    os.close(write_end)
    status = 0
    for _ in range(10_000):  # bounded: continue every stop (exec, signals) until it exits
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            break
        libc.ptrace(PTRACE_CONT, pid, None, None)
    with os.fdopen(read_end) as out:
        printed = out.read()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 72, (status, printed)
    assert "went on" not in printed
    assert "being traced by pid" in printed


@linux_only
def test_an_untraced_process_goes_on() -> None:
    code = (
        "from eager_lsp.executors.worker.nodump import make_undumpable_or_exit\n"
        "make_undumpable_or_exit('the test process')\n"
        "print('went on')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0 and "went on" in out.stdout, out.stderr


def test_a_worker_path_folder_someone_else_prepared_is_not_used(tmp_path: Path) -> None:
    targets = {"eager_lsp": str(Path(launch.__file__).parent.parent)}
    root = tmp_path / "root"
    root.mkdir(mode=0o700)
    folder = root / "worker-path-x"
    folder.mkdir(mode=0o700)
    os.symlink(targets["eager_lsp"], folder / "eager_lsp")
    assert launch._links_ok(str(folder), targets)

    (folder / "argparse.py").write_text("raise SystemExit('planted')\n")  # one module more
    assert not launch._links_ok(str(folder), targets)
    (folder / "argparse.py").unlink()

    os.chmod(root, 0o777)  # a parent others may write to (/tmp without the sticky owner)
    assert not launch._links_ok(str(folder), targets)
    os.chmod(root, 0o700)

    if os.getuid() == 0:  # the folder made by another user (root can hand it over to test)
        os.chown(folder, 65533, 65533)
        assert not launch._links_ok(str(folder), targets)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PW", "x"),
        ("POSTGRES_PW", "x"),
        ("CI_JOB_JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"),
        ("STRIPE_LIVE", "sk_live_abcdefghijkl1234"),
        ("GIT_REMOTE", "https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r"),
        ("SLACK_URL", "https://hooks.slack.com/services/T000/B000/XXXX"),
        ("ConnectionStrings__Default", "Server=x;Database=y;User Id=u;Password=p4ss;"),
        ("MONGO_URI", "mongodb+srv://u:hunt/er2@cluster0.example.net/db"),
        ("SENTRY", "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1"),
        ("GITHUB", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
        ("SLACK_BOT", "xoxb-1234567890-abcdef"),
        ("NETRC_CONTENT", "machine h login u password p4ss"),
        ("CERT", "-----BEGIN RSA PRIVATE KEY-----\nMIIB..."),
    ],
)
def test_secrets_are_recognised_by_their_values_too(name: str, value: str) -> None:
    assert is_secret(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LS_COLORS", "rs=0:di=01;34:ln=01;36"),
        ("HOME_PAGE", "https://example.com/a?b=c"),
        ("GIT_URL", "ssh://git@github.com/o/r"),
        ("PYTHONPATH", "/a:/b"),
    ],
)
def test_ordinary_variables_pass(name: str, value: str) -> None:
    assert not is_secret(name, value)


@linux_only
def test_the_command_is_non_dumpable_before_it_imports_the_cli() -> None:
    """`make_undumpable` ran in `cli.main`, after the CLI's imports (a few hundred ms): a loop
    in a document read every new `eager-lsp` process's environment in that window, 10 times
    in 10 (an attacking helper). The console script and SERVER_MAIN now start in
    `eager_lsp.entry`, which turns dumping off before importing the CLI."""
    import eager_lsp

    probe = (
        "import sys\n"
        "from eager_lsp.executors.worker.nodump import is_dumpable\n"
        "class Probe:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'eager_lsp.cli':\n"
        "            print('dumpable at the CLI import:', is_dumpable(), flush=True)\n"
        "sys.meta_path.insert(0, Probe())\n"
        "sys.argv[1:] = ['--version']\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe + eager_lsp.SERVER_MAIN],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "dumpable at the CLI import: False" in out.stdout, out.stdout + out.stderr
    assert "eager-lsp" in out.stdout  # --version ran
