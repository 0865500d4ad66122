"""Chat messages: plain-Python instructions and the document around the insertion point."""

from __future__ import annotations

from eager_lsp.providers.prompts import (
    CURSOR,
    MAX_AFTER,
    MAX_BEFORE,
    generation_messages,
    repair_messages,
)


def test_generation_asks_for_plain_python_and_includes_the_document() -> None:
    before = "import pandas as pd\ndf = pd.read_csv('sales.csv')\n"
    after = "\nprint('bye')\n"
    messages = generation_messages("plot revenue by month", before, after, "/w/report.py")
    system, user = messages[0], messages[-1]  # few-shot examples may sit in between
    assert system["role"] == "system" and user["role"] == "user"
    assert "plain Python" in system["content"] and "fences" in system["content"]
    assert "print" in system["content"]
    text = user["content"]
    assert "plot revenue by month" in text
    assert "/w/report.py" in text
    assert f"df = pd.read_csv('sales.csv')\n{CURSOR}\nprint('bye')" in text


def test_empty_document() -> None:
    user = generation_messages("say hi", "", "", None)[-1]
    assert "say hi" in user["content"] and CURSOR not in user["content"]


def _prompt_text(messages: list[dict[str, str]]) -> str:
    return "".join(f"<{m['role']}>{m['content']}" for m in messages)


def test_the_task_comes_last_so_a_new_task_reuses_the_cached_prefix() -> None:
    # The local model's prompt cache keeps the longest prefix it already evaluated: whatever
    # follows the task is evaluated again for every new task. Nothing may follow it.
    for before in ("", "import math\nx = 1\n"):
        a = _prompt_text(generation_messages("print the squares", before, "", "/w/a.py"))
        b = _prompt_text(generation_messages("count the words", before, "", "/w/a.py"))
        assert a.endswith("Task: print the squares") and b.endswith("Task: count the words")
        assert a.removesuffix("print the squares") == b.removesuffix("count the words")


def test_document_context_is_bounded_to_whole_lines_near_the_cursor() -> None:
    before = "".join(f"line_{i} = {i}\n" for i in range(2000))
    after = "".join(f"after_{i} = {i}\n" for i in range(1000))
    user = generation_messages("continue", before, after, None)[-1]
    text = user["content"]
    assert "line_1999 = 1999\n" + CURSOR + "after_0 = 0\n" in text
    assert "line_0 = 0\n" not in text and "after_999" not in text
    assert len(text) < MAX_BEFORE + MAX_AFTER + 800
    assert "characters omitted" in text
    start = text.index(CURSOR) - 1
    kept_before = text[:start]
    assert kept_before.splitlines()[-1] == "line_1999 = 1999"


def test_repair_includes_task_code_failure_and_traceback() -> None:
    tb = 'Traceback (most recent call last):\n  File "<cell>", line 1\nZeroDivisionError: division by zero\n'
    system, user = repair_messages(
        "average the scores",
        code_ran="scores = []\n",
        failing_statement="avg = sum(scores) / len(scores)\n",
        traceback=tb,
        before="# my notebook\n",
    )
    assert "replaces the failing statement and everything after it" in system["content"]
    text = user["content"]
    for part in (
        "average the scores",
        "scores = []",
        "avg = sum(scores) / len(scores)",
        "ZeroDivisionError",
        "# my notebook",
    ):
        assert part in text
    assert text.index("scores = []") < text.index("The statement that failed")


def test_repair_traceback_is_bounded() -> None:
    tb = "x" * 50_000 + "\nValueError: the end"
    _, user = repair_messages("t", "", "f()\n", tb)
    assert "ValueError: the end" in user["content"] and len(user["content"]) < 6000
