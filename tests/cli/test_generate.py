"""`eager-lsp generate` against a real HTTP server speaking the OpenAI streaming format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.slow


def generate(
    srv: FakeOpenAIServer, tmp_path: Path, *extra: str, debug: str | None = "--no-debug"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = "sk-test-secret-123"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "eager_lsp",
            "generate",
            "do the task",
            "--base-url",
            srv.url,
            "--model",
            "fake",
            *([debug] if debug else []),
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


FAILING = (
    "```python\nx = 6 * 7\nprint('x is', x)\ny = x / (x - 42)\n"
    + "".join(f"pad{i} = {i}\n" for i in range(40))
    + "```\nThat's it.\n"
)


def test_generate_strips_fences_and_runs_as_it_streams(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="Here you go:\n```python\nx = 6 * 7\nprint(x)\n```\nDone.", delay=0.01)
        out = generate(srv, tmp_path, "--json", "-o", str(tmp_path / "out.py"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["code"] == "x = 6 * 7\nprint(x)\n"
    assert (tmp_path / "out.py").read_text() == "x = 6 * 7\nprint(x)\n"
    assert [c["ok"] for c in summary["chunks"]] == [True, True]
    assert summary["attempts"] == 1 and summary["ok"] is True
    assert "sk-test-secret-123" not in out.stdout + out.stderr


def test_generate_debug_listens_before_the_code_runs_and_says_where(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="import sys\nloaded = 'pydevd' in sys.modules\nprint(loaded)\n")
        out = generate(srv, tmp_path, "--json", debug="--debug")
    assert out.returncode == 0, out.stderr
    port = json.loads(out.stdout)["debug_port"]
    assert isinstance(port, int) and f"debugpy: attach to 127.0.0.1:{port}" in out.stderr
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 1\n")
        plain = generate(srv, tmp_path, "--json", debug=None)  # no flag: the default
    assert json.loads(plain.stdout)["debug_port"] is None and "debugpy" not in plain.stderr


def test_generate_stops_the_model_early_on_an_error(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=FAILING, delay=0.02)
        out = generate(srv, tmp_path, "--json")
        sent = srv.chat_requests[0].pieces_sent
    assert out.returncode == 1
    summary = json.loads(out.stdout)
    assert summary["stopped_early"] is True
    assert summary["code"] == "x = 6 * 7\nprint('x is', x)\ny = x / (x - 42)\n"
    assert summary["chunks"][-1]["error"] == "ZeroDivisionError: division by zero"
    assert sent < len(FAILING) // 4  # the HTTP stream was closed long before the end


def test_repair_rewrites_from_the_failing_statement_and_keeps_earlier_state(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=FAILING, delay=0.02)
        srv.enqueue(text="y = x / 2\nprint('y is', y)\n", delay=0.01)
        out = generate(srv, tmp_path, "--repair", "1")
        repair_prompt = json.dumps(srv.chat_requests[1].body["messages"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "y is 21.0" in out.stdout
    assert "repair attempt 1: rewriting from line 3" in out.stdout
    # the model saw the failing statement and the traceback
    assert "y = x / (x - 42)" in repair_prompt and "ZeroDivisionError" in repair_prompt


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        url = srv.url
    out = subprocess.run(
        [sys.executable, "-m", "eager_lsp", "generate", "x", "--base-url", url, "--no-debug"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPENAI_API_KEY": "sk-x"},
    )
    assert out.returncode == 1
    assert "Cannot reach the model" in out.stderr
    assert "Traceback" not in out.stderr
    assert "stream -" not in out.stdout, out.stdout  # no summary of a stream that never came


def test_auth_failure_is_a_clear_error(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(status=401, error_message="bad key")
        out = generate(srv, tmp_path)
    assert out.returncode == 1
    assert "401" in out.stderr and "sk-test-secret-123" not in out.stderr


def test_a_stream_that_breaks_says_so_and_keeps_complete_lines(tmp_path: Path) -> None:
    """The model drops the connection mid-line: the CLI names that as the end (as the editors
    do), runs the complete lines and does not run the unfinished one."""
    with FakeOpenAIServer() as srv:
        srv.enqueue(pieces=["x = 1\n", "print('ran', x)\n", "y = "], drop_after=3)
        out = generate(srv, tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "ended: the model stream broke after 2 lines:" in out.stderr, out.stderr
    assert "ran 1" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr


def test_a_generation_cut_by_its_token_limit_does_not_run_the_cut_statement(
    tmp_path: Path,
) -> None:
    """`--max-tokens 21`: the model stopped in `total = price * quantity` after `total = price`,
    which parses. It ran (`total = 12345`) and the command said nothing and exited 0 (a
    newcomer helper). A length stop is the end of an unfinished stream now: the complete
    statements ran, the one being written did not, and the command says why."""
    text = "price = 12345\nquantity = 67890\ntotal = price"
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=text, finish_reason="length")
        out = generate(srv, tmp_path, "--max-tokens", "21", "-o", str(tmp_path / "cut.py"))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "quantity = 67890" in out.stdout
    assert "total = 12345" not in out.stdout, out.stdout
    assert "ended: The model reached its token limit (llm.maxTokens = 21)" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("where", ["adir", "missing/dir/out.py"])
def test_an_output_path_that_cannot_be_written_is_refused_before_the_model_runs(
    tmp_path: Path, where: str
) -> None:
    """`-o` naming a directory or a path in no directory: a clear message and exit 2 before
    the model is asked (it was asked, the code ran, then a traceback lost the summary)."""
    (tmp_path / "adir").mkdir()
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 1\n")
        out = generate(srv, tmp_path, "-o", where)
        assert srv.chat_requests == []
    assert out.returncode == 2, out.stderr
    assert f"cannot write {where}" in out.stderr and "Traceback" not in out.stderr, out.stderr


MY_WORK = "# my work\nX = 42\n"


def test_an_existing_file_is_not_replaced_unless_asked(tmp_path: Path) -> None:
    """`-o` naming a file that holds text: a usage error before the model is asked (it was
    replaced without a word), and the file is as it was."""
    mine = tmp_path / "p.py"
    mine.write_text(MY_WORK)
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 1\n")
        out = generate(srv, tmp_path, "-o", "p.py")
        assert srv.chat_requests == []
    assert out.returncode == 2, out.stdout + out.stderr
    assert "p.py already exists" in out.stderr and "--overwrite" in out.stderr, out.stderr
    assert mine.read_text() == MY_WORK and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "reply",
    [{"status": 500, "error_message": "boom"}, {"status": 401}, {"pieces": []}],
    ids=["http500", "http401", "empty"],
)
def test_a_generation_that_wrote_nothing_writes_no_file(
    tmp_path: Path, reply: dict[str, object]
) -> None:
    """The model failed or answered nothing: the file, even with --overwrite, keeps the
    user's text (it was emptied: "wrote p.py", 0 bytes), a new one is not created, and the
    command says so."""
    mine = tmp_path / "p.py"
    mine.write_text(MY_WORK)
    with FakeOpenAIServer() as srv:
        srv.enqueue(**reply)
        srv.enqueue(**reply)
        kept = generate(srv, tmp_path, "-o", "p.py", "--overwrite")
        new = generate(srv, tmp_path, "-o", "new.py")
    for out, name in ((kept, "p.py"), (new, "new.py")):
        assert out.returncode == 1, out.stdout + out.stderr
        assert "wrote" not in out.stdout, out.stdout
        assert f"nothing was generated: {name} " in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
    assert mine.read_text() == MY_WORK
    assert not (tmp_path / "new.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.py"]  # (no temporary file left)


def test_overwrite_replaces_an_existing_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    """`--overwrite`: the generated code replaces the file (through a temporary file renamed
    over it: never half-written), with the file's permissions; an empty file needs no flag."""
    mine = tmp_path / "p.py"
    mine.write_text(MY_WORK)
    mine.chmod(0o640)
    (tmp_path / "empty.py").write_text("")
    with FakeOpenAIServer() as srv:
        srv.enqueue(text="x = 6 * 7\nprint(x)\n")
        srv.enqueue(text="y = 1\n")
        out = generate(srv, tmp_path, "-o", "p.py", "--overwrite")
        into_empty = generate(srv, tmp_path, "-o", "empty.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "wrote p.py" in out.stdout.splitlines(), out.stdout
    assert mine.read_text() == "x = 6 * 7\nprint(x)\n"
    assert mine.stat().st_mode & 0o777 == 0o640
    assert into_empty.returncode == 0, into_empty.stderr
    assert (tmp_path / "empty.py").read_text() == "y = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.py", "p.py"]


def test_serve_reports_a_bad_address_or_log_file_without_a_traceback(tmp_path: Path) -> None:
    """`serve` mistakes are told in one line: a malformed or out-of-range --tcp (before the
    TCP warning), an address this machine does not have, a port already taken, a log file in
    no directory."""
    import socket

    def serve(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "eager_lsp", "serve", *extra],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd=tmp_path,
        )

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runs = {
            "127.0.0.1:99999": (2, "--tcp wants HOST:PORT"),
            "foo": (2, "--tcp wants HOST:PORT"),
            f"127.0.0.1:{port}": (1, "cannot listen on"),
        }
        for address, (code, said) in runs.items():
            out = serve("--tcp", address)
            assert out.returncode == code and said in out.stderr, (address, out.stderr)
            assert "Traceback" not in out.stderr, out.stderr
            if code == 2:
                assert "warning" not in out.stderr, out.stderr  # refused before the warning
    out = serve("--log-file", str(tmp_path / "missing" / "server.log"))
    assert out.returncode == 2 and "cannot write the log file" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
