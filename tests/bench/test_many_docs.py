"""`eager-lsp bench --many-docs`, small: the real server, the fake model server, every
document's text right and every statement's result timed.

No timing is compared with a threshold (docs/benchmarks.md reads the numbers); this checks
that what the benchmark reports is there and consistent.
"""

from __future__ import annotations

import ast
import asyncio

import pytest

from eager_lsp.bench import many_docs


@pytest.mark.parametrize("stream_edits", [False, True], ids=["applyEdit", "streamEdit"])
def test_two_documents_generate_and_every_statement_is_timed(stream_edits: bool) -> None:
    r = asyncio.run(many_docs.run(docs=2, rate=400.0, lines=12, stream_edits=stream_edits))
    text = many_docs.script(12)
    assert [row["text_ok"] for row in r["per_doc"]] == [True, True]
    assert [row["summary_error"] for row in r["per_doc"]] == [None, None]
    results = [row["results"] for row in r["per_doc"]]
    assert results[0] == results[1] > 0
    st = r["statement_token_to_result_ms"]
    assert st["n"] == sum(results)  # every result was matched to its statement's token
    assert st["median"] <= st["p90"] <= st["max"]
    assert r["tokens_total"] == 2 * -(-len(text) // many_docs.CHARS_PER_TOKEN)
    assert "eager/chunkResult" in r["server_messages"]
    writes = "eager/streamEdit" if stream_edits else "workspace/applyEdit"
    assert r["writes"] == writes and r["server_messages"].get(writes, 0) > 0
    other = "workspace/applyEdit" if stream_edits else "eager/streamEdit"
    assert other not in r["server_messages"]
    # The zygote and the two documents' workers were found below the server; their CPU is read
    # in clock ticks (10 ms), which a run this small may not reach.
    assert r["workers_counted"] >= 3 and r["workers_cpu_s"] >= 0
    report = many_docs.report(r)
    assert "its result received" in report and "interpreters' CPU" in report


def test_the_generation_script_is_the_replayed_workloads_and_runs_whole() -> None:
    text = many_docs.script_text("generation")
    for name in many_docs.GENERATION_WORKLOADS:  # each workload whole, in this order
        source = (many_docs.WORKLOAD_DIR / f"{name}.py").read_text(encoding="utf-8")
        assert source in text
    statements = len(ast.parse(text).body)
    assert len(text) / statements > 40  # the point of it: statements as a model writes them
    r = asyncio.run(many_docs.run(docs=1, rate=2000.0, doc_script="generation"))
    assert r["script"] == "generation" and r["chars_per_doc"] == len(text)
    [row] = r["per_doc"]
    assert row["text_ok"] and row["summary_error"] is None
    assert row["results"] == statements
    assert "generation script" in many_docs.report(r)
