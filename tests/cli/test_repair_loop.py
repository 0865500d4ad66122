"""`eager-lsp generate --repair`: repeats dropped, an unchanged failing statement refused, and
the runtime facts in the prompt (a real HTTP server speaking the OpenAI streaming format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.openai_server import FakeOpenAIServer
from tests.support.scripts import PRICES_BROKEN, PRICES_REPEATING_FIX

from .test_generate import generate

pytestmark = pytest.mark.slow

BROKEN = PRICES_BROKEN
REPEATING_FIX = PRICES_REPEATING_FIX
# ... or everything that ran, then the failing statement as it was.
UNCHANGED = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices[ 'apple' ] * 3  # same statement\n"
    "print('total:', total)\n"
)


def test_repair_drops_the_statements_that_already_ran(tmp_path: Path) -> None:
    out_file = tmp_path / "out.py"
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=REPEATING_FIX, delay=0.005)
        out = generate(srv, tmp_path, "--repair", "1", "-o", str(out_file))
    assert out.returncode == 0, out.stdout + out.stderr
    # Each statement that ran did so once: its output appears once, and the file is not longer.
    assert out.stdout.count("out| fruits: ['Apple', 'banana']") == 1, out.stdout
    assert "total: 3.6" in out.stdout
    assert "dropped 2 repeated statements that already ran" in out.stdout
    assert out_file.read_text() == (
        "prices = {'Apple': 1.2, 'banana': 0.5}\n"
        "print('fruits:', list(prices))\n"
        "total = prices['Apple'] * 3\n"
        "print('total:', round(total, 2))\n"
    )


def test_an_unchanged_failing_statement_is_not_run_again(tmp_path: Path) -> None:
    out_file = tmp_path / "out.py"
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=UNCHANGED, delay=0.005)
        srv.enqueue(text="total = prices['Apple'] * 3\n", delay=0.005)  # never asked for
        out = generate(srv, tmp_path, "--repair", "1", "--json", "-o", str(out_file))
        requests = len(srv.chat_requests)
    assert out.returncode == 1
    summary = json.loads(out.stdout)
    assert summary["repairs"] == [{"dropped": 2, "unchanged": True}]
    assert "unchanged" in summary["error"] and "line 3" in summary["error"]
    # Nothing of the answer ran: no chunk at all in the repair attempt.
    assert summary["chunks"] == []
    assert requests == 2  # the attempt stopped; the one repair allowed is used up
    # The file keeps the failing code once, as it was.
    assert out_file.read_text() == BROKEN[: BROKEN.index("print('total")]


def test_after_an_unchanged_answer_the_next_attempt_is_told_so(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=UNCHANGED, delay=0.005)
        srv.enqueue(text="total = prices['Apple'] * 3\nprint('total:', total)\n", delay=0.005)
        out = generate(srv, tmp_path, "--repair", "2", "--json")
        second = srv.chat_requests[1].body["messages"][-1]["content"]
        third = srv.chat_requests[2].body["messages"][-1]["content"]
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads(out.stdout)
    assert summary["repairs"] == [
        {"dropped": 2, "unchanged": True},
        {"dropped": 0, "unchanged": False},
    ]
    assert summary["code"] == BROKEN[: BROKEN.index("total =")] + (
        "total = prices['Apple'] * 3\nprint('total:', total)\n"
    )
    assert "previous answer" not in second
    assert "Your previous answer began with this same failing statement" in third


def test_the_repair_prompt_has_the_runtime_facts(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text="total = prices['Apple'] * 3\n", delay=0.005)
        out = generate(srv, tmp_path, "--repair", "1")
        messages = srv.chat_requests[1].body["messages"]
    assert out.returncode == 0, out.stdout + out.stderr
    user = messages[-1]["content"]
    # The value and type of the name the failing statement reads, from the live interpreter.
    assert "prices = {'Apple': 1.2, 'banana': 0.5}  (dict)" in user
    # What the statements before it produced.
    assert "printed fruits: ['Apple', 'banana']" in user
    assert "KeyError: 'apple'" in user  # the traceback
    # No built-in example in a repair.
    assert all(m["role"] != "assistant" for m in messages)


def test_legacy_repair_style_is_kept_for_measurement(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(text=BROKEN, delay=0.005)
        srv.enqueue(text=REPEATING_FIX, delay=0.005)
        out = generate(srv, tmp_path, "--repair", "1", "--repair-style", "legacy", "--json")
        user = srv.chat_requests[1].body["messages"][-1]["content"]
    summary = json.loads(out.stdout)
    assert summary["repairs"] == []  # no filter: the repeats ran again
    assert summary["code"].count("prices = {") == 2
    assert "(dict)" not in user
