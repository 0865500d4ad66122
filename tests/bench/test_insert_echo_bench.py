"""`eager-lsp bench --insert`: its counting, through the product's stream and echo filter, with
a real HTTP server speaking the OpenAI streaming format on 127.0.0.1 in the model's place (the
bundled model's answers vary with its build; these are fixed)."""

from __future__ import annotations

from eager_lsp.bench import insert_echo
from eager_lsp.bench.insert_echo import Case
from eager_lsp.providers.config import LLMConfig
from tests.support.openai_server import FakeOpenAIServer

CASES = (
    # restates the code above, then answers: the echo is dropped, the file runs either way
    Case("nums = [3, 1, 2]\n", "", "print the largest"),
    # restates the code below at its end, which would print "end" twice
    Case("x = 2\n", "print('end')\n", "print x squared"),
    # answers with no echo, but fails: counted as not running, as written and as kept
    Case("y = 1\n", "", "divide"),
)
ANSWERS = (
    "nums = [3, 1, 2]\nprint(max(nums))\n",
    "print(x ** 2)\nprint('end')\n",
    "print(y / 0)\n",
)


async def test_the_bench_counts_echoes_as_written_and_as_kept() -> None:
    with FakeOpenAIServer() as srv:
        for answer in ANSWERS:
            srv.enqueue(text=answer, chunk_chars=3)
        llm = LLMConfig(provider="openai", base_url=srv.url, api_key="k", model="fake")
        report = await insert_echo.measure("fake", None, CASES, llm=llm)
    assert report["summary"] == {
        "cases": 3,
        "model_with_an_echo": 2,
        "model_runs": 2,
        "statements_dropped": 2,
        "kept_with_an_echo": 0,
        "kept_runs": 2,
    }
    first, second, _ = report["requests"]
    assert first["kept_text"] == "print(max(nums))\n"
    assert second["kept_text"] == "print(x ** 2)\n"
    assert "as the product keeps it" in insert_echo.format_table(report)
