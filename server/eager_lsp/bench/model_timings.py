"""What llama.cpp says about one request: read from a stream's `usage` once it ended.

The bundled model's server adds its own `timings` to the stream's last usage: how many prompt
tokens it evaluated (what its prompt cache did not hold), how long that took, and its decode
rate. An endpoint sends none of it, and each field is then None. The benchmarks that time
the model (`ai_loop`, `first_token`) read them here, one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelTimings:
    completion_tokens: int | None = None
    decode_tok_s: float | None = None
    prompt_tokens_evaluated: int | None = None
    prompt_eval_s: float | None = None
    prompt_tok_s: float | None = None


def model_timings(stream: Any) -> ModelTimings:
    """The timings of `stream`'s request (a provider's stream, after its end)."""
    usage = getattr(stream, "usage", None) or {}
    t = usage.get("timings") or {}

    def number(key: str, scale: float = 1.0, digits: int = 3) -> float | None:
        value = t.get(key)
        return None if value is None else round(float(value) * scale, digits)

    tokens = usage.get("completion_tokens")
    evaluated = t.get("prompt_n")
    return ModelTimings(
        completion_tokens=None if tokens is None else int(tokens),
        decode_tok_s=number("predicted_per_second", digits=2),
        prompt_tokens_evaluated=None if evaluated is None else int(evaluated),
        prompt_eval_s=number("prompt_ms", 1 / 1000),
        prompt_tok_s=number("prompt_per_second", digits=2),
    )
