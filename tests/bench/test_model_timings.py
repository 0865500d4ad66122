"""llama.cpp's per-request timings, as the model benchmarks read them (bench/model_timings.py).

The streams here are plain objects carrying the `usage` dict a provider's stream keeps after
its end: the same shape the bundled model's server sends (its `timings`), and an endpoint's,
which has none. The real model's numbers are read in test_first_token_bench.py."""

from __future__ import annotations

from types import SimpleNamespace

from eager_lsp.bench.ai_loop import Sample, _Timed, summarize
from eager_lsp.bench.model_timings import ModelTimings, model_timings

LLAMA_USAGE = {
    "completion_tokens": 31,
    "timings": {
        "prompt_n": 0,  # everything was in the prompt cache
        "prompt_ms": 0.0,
        "prompt_per_second": 0.0,
        "predicted_per_second": 10.4567,
    },
}


def test_the_bundled_models_timings_are_read_with_a_cached_prompt_counted_as_zero() -> None:
    t = model_timings(SimpleNamespace(usage=LLAMA_USAGE))
    assert t == ModelTimings(
        completion_tokens=31,
        decode_tok_s=10.46,
        prompt_tokens_evaluated=0,
        prompt_eval_s=0.0,
        prompt_tok_s=0.0,
    )


def test_an_endpoint_without_timings_or_a_stream_without_usage_gives_none() -> None:
    assert model_timings(SimpleNamespace(usage={"completion_tokens": 5})) == ModelTimings(
        completion_tokens=5
    )
    assert model_timings(object()) == ModelTimings()


def test_the_ai_loop_summary_keeps_requests_that_evaluated_no_prompt_token() -> None:
    samples = []
    for prompt_n in (0, 0, 40):
        usage = {**LLAMA_USAGE, "timings": {**LLAMA_USAGE["timings"], "prompt_n": prompt_n}}
        sample = Sample(ok=True)
        _Timed(SimpleNamespace(usage=usage)).speed(sample)
        samples.append(sample)
    assert [s.prompt_tokens_evaluated for s in samples] == [0, 0, 40]
    # two of three requests evaluated nothing new: the median is 0 (it was 40, the zeros dropped)
    assert summarize(samples)["median_prompt_tokens_evaluated"] == 0
