"""Model settings shared by the CLI and the LSP, and how missing values are filled in.

`resolve()` is the only place that reads the environment, so tests (and the worker, which
must never see the API key) can pass an explicit mapping instead.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROVIDERS = ("auto", "local", "openai")
# The bundled models `llm.localModel` can name (providers/local_model.py ships them); the
# default is chosen by measurement, see docs/benchmarks.md ("Which bundled model").
# Each name, with the title status tooltips and health checks give it.
LOCAL_MODELS = {
    "qwen2.5-coder-0.5b": "Qwen2.5-Coder-0.5B-Instruct",
    "qwen2.5-coder-1.5b": "Qwen2.5-Coder-1.5B-Instruct",
}
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"

# LSP settings use camelCase; the CLI and Python callers use the field names.
_CAMEL = {
    "baseUrl": "base_url",
    "apiKey": "api_key",
    "maxTokens": "max_tokens",
    "timeoutSeconds": "timeout_s",
    "connectRetries": "connect_retries",
    "localModel": "local_model",
    "localModelPath": "local_model_path",
    "localCtx": "local_ctx",
    "localThreads": "local_threads",
    "localIdleMinutes": "local_idle_minutes",
}


@dataclass
class LLMConfig:
    """Where to get code from. `provider="auto"` means: an endpoint if one is configured, else
    the bundled local model."""

    provider: str = "auto"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout_s: float = 60.0
    connect_retries: int = 2
    local_model: str = DEFAULT_LOCAL_MODEL
    local_model_path: str | None = None
    local_ctx: int = 4096
    local_threads: int | None = None
    # The language server stops the bundled model's server after this long unused (0: never):
    # it holds about 2 GB (the 1.5B). The next generation loads it again.
    local_idle_minutes: float = 30.0

    def __repr__(self) -> str:
        # Configs end up in logs and tracebacks; the key must not.
        fields = ", ".join(
            f"{f.name}={'***' if f.name == 'api_key' and self.api_key else getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
        )
        return f"LLMConfig({fields})"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> LLMConfig:
        """Build from LSP settings (camelCase) or field names; unknown keys are ignored and
        empty strings mean "not set" (editors send them for blank settings)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in (d or {}).items():
            name = _CAMEL.get(key, key)
            if name not in names or value is None or value == "":
                continue
            kwargs[name] = value
        config = cls(**kwargs)
        config._coerce()
        return config

    def _coerce(self) -> None:
        self.provider = str(self.provider).strip().lower()
        if self.provider not in PROVIDERS:
            raise ValueError(
                f"llm.provider must be one of {', '.join(PROVIDERS)}, not {self.provider!r}"
            )
        self.temperature = float(self.temperature)
        self.max_tokens = int(self.max_tokens)
        if self.max_tokens < 1:
            raise ValueError(f"llm.maxTokens must be at least 1, not {self.max_tokens}")
        self.timeout_s = float(self.timeout_s)
        self.connect_retries = max(0, int(self.connect_retries))
        self.local_model = str(self.local_model).strip().lower()
        if self.local_model not in LOCAL_MODELS:
            raise ValueError(
                f"llm.localModel must be one of {', '.join(LOCAL_MODELS)}, not {self.local_model!r}"
            )
        self.local_ctx = int(self.local_ctx)
        if self.local_threads is not None:
            self.local_threads = int(self.local_threads)
        if isinstance(self.local_idle_minutes, bool):
            raise TypeError("llm.localIdleMinutes must be a number")
        self.local_idle_minutes = float(self.local_idle_minutes)
        if not self.local_idle_minutes >= 0:  # (also NaN)
            raise ValueError(
                f"llm.localIdleMinutes must be 0 (never) or more, not {self.local_idle_minutes}"
            )


def resolve(config: LLMConfig, environ: Mapping[str, str] | None = None) -> LLMConfig:
    """Return a copy with environment fallbacks applied and "auto" decided.

    `OPENAI_BASE_URL` / `OPENAI_API_KEY` / `OPENAI_MODEL` fill unset fields; "auto" becomes
    "openai" when a base URL or key is known, else "local".
    """
    env = os.environ if environ is None else environ
    out = dataclasses.replace(config)
    out._coerce()
    if out.provider != "local":
        out.base_url = out.base_url or env.get("OPENAI_BASE_URL") or None
        out.api_key = out.api_key or env.get("OPENAI_API_KEY") or None
        out.model = out.model or env.get("OPENAI_MODEL") or None
    if out.provider == "auto":
        out.provider = "openai" if (out.base_url or out.api_key) else "local"
    if out.provider == "openai" and not out.base_url:
        out.base_url = "https://api.openai.com/v1"
    if out.base_url:
        out.base_url = out.base_url.rstrip("/")
    return out


def describe(config: LLMConfig, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Which provider and model a generation would use, for status tooltips and health checks
    (no network: an unset model on an endpoint is "the endpoint's first model")."""
    cfg = resolve(config, environ)
    if cfg.provider == "local":
        if cfg.local_model_path:
            model = os.path.basename(cfg.local_model_path)
        else:  # the one `llm.localModel` names (it said 0.5B whichever ran)
            model = f"{LOCAL_MODELS.get(cfg.local_model, cfg.local_model)} (bundled)"
        return {"provider": "local", "model": model}
    return {
        "provider": "openai",
        "model": cfg.model or "the endpoint's first model",
        "baseUrl": cfg.base_url or "",
    }
