"""Model settings: defaults, LSP camelCase settings, environment fallbacks, "auto"."""

from __future__ import annotations

import pytest

from eager_lsp.providers.config import LLMConfig, resolve


def test_defaults_pick_the_local_model_without_endpoint_or_key() -> None:
    cfg = resolve(LLMConfig(), environ={})
    assert cfg.provider == "local"
    assert cfg.base_url is None and cfg.api_key is None


def test_env_fallbacks_pick_openai() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1/", "OPENAI_API_KEY": "sk-env"}
    cfg = resolve(LLMConfig(), environ=env)
    assert cfg.provider == "openai"
    assert cfg.base_url == "http://127.0.0.1:8080/v1"  # trailing slash dropped
    assert cfg.api_key == "sk-env"


def test_a_key_alone_means_the_openai_api() -> None:
    cfg = resolve(LLMConfig(), environ={"OPENAI_API_KEY": "sk-env"})
    assert cfg.provider == "openai" and cfg.base_url == "https://api.openai.com/v1"


def test_explicit_settings_win_over_the_environment() -> None:
    env = {"OPENAI_BASE_URL": "http://env/v1", "OPENAI_API_KEY": "sk-env", "OPENAI_MODEL": "m-env"}
    cfg = resolve(LLMConfig(base_url="http://mine/v1", api_key="sk-mine", model="m"), environ=env)
    assert (cfg.base_url, cfg.api_key, cfg.model) == ("http://mine/v1", "sk-mine", "m")
    assert resolve(LLMConfig(), environ=env).model == "m-env"


def test_local_ignores_openai_environment() -> None:
    cfg = resolve(LLMConfig(provider="local"), environ={"OPENAI_API_KEY": "sk-env"})
    assert cfg.provider == "local" and cfg.api_key is None


def test_resolve_does_not_mutate_its_input() -> None:
    original = LLMConfig()
    resolve(original, environ={"OPENAI_API_KEY": "k"})
    assert original.provider == "auto" and original.api_key is None


def test_from_lsp_settings_camel_case() -> None:
    cfg = LLMConfig.from_dict(
        {
            "provider": "OpenAI",
            "baseUrl": "http://127.0.0.1:9/v1",
            "model": "qwen",
            "apiKey": "sk-x",
            "temperature": "0.2",
            "maxTokens": 512,
            "timeoutSeconds": 30,
            "localModelPath": "~/m.gguf",
            "somethingElse": True,
        }
    )
    assert cfg == LLMConfig(
        provider="openai",
        base_url="http://127.0.0.1:9/v1",
        model="qwen",
        api_key="sk-x",
        temperature=0.2,
        max_tokens=512,
        timeout_s=30.0,
        local_model_path="~/m.gguf",
    )


def test_from_dict_field_names_and_blank_values() -> None:
    cfg = LLMConfig.from_dict({"base_url": "", "apiKey": None, "max_tokens": "64"})
    assert cfg.base_url is None and cfg.api_key is None and cfg.max_tokens == 64
    assert LLMConfig.from_dict(None) == LLMConfig()


def test_unknown_provider_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"llm\.provider"):
        LLMConfig.from_dict({"provider": "anthropic"})


def test_repr_never_shows_the_key() -> None:
    assert "sk-secret" not in repr(LLMConfig(api_key="sk-secret"))
    assert "sk-secret" not in str(resolve(LLMConfig(), environ={"OPENAI_API_KEY": "sk-secret"}))


def test_describe_names_the_bundled_model_that_runs() -> None:
    """Health checks and status tooltips (`eager.info`) name the bundled model that
    `llm.localModel` chooses, or the user's own file; an endpoint's model as configured."""
    from eager_lsp.providers.config import describe

    assert describe(LLMConfig(provider="local"), {}) == {
        "provider": "local",
        "model": "Qwen2.5-Coder-1.5B-Instruct (bundled)",
    }
    small = LLMConfig(provider="local", local_model="qwen2.5-coder-0.5b")
    assert describe(small, {})["model"] == "Qwen2.5-Coder-0.5B-Instruct (bundled)"
    own = LLMConfig(provider="local", local_model_path="/models/my-coder.gguf")
    assert describe(own, {})["model"] == "my-coder.gguf"
    assert describe(LLMConfig(), {"OPENAI_API_KEY": "k", "OPENAI_MODEL": "m"}) == {
        "provider": "openai",
        "model": "m",
        "baseUrl": "https://api.openai.com/v1",
    }
