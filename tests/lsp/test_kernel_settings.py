"""`execution.backend` and `execution.kernel` parsing: forgiving, and the token never shows."""

from __future__ import annotations

from eager_lsp.core.interpreter import KernelTarget
from eager_lsp.lsp.config import parse_settings


def test_defaults_to_the_worker() -> None:
    settings, problems = parse_settings({})
    assert settings.execution.backend == "worker"
    assert settings.execution.kernel is None
    assert problems == []


def test_kernel_targets_parse() -> None:
    for raw, want in (
        ({"name": "python3"}, KernelTarget(name="python3")),
        ({"connectionFile": "/k/kernel-1.json"}, KernelTarget(connection_file="/k/kernel-1.json")),
        (
            {"url": "https://hub:8888", "token": "tok-secret-1"},
            KernelTarget(url="https://hub:8888", token="tok-secret-1"),
        ),
    ):
        settings, problems = parse_settings({"execution": {"backend": "kernel", "kernel": raw}})
        assert problems == []
        assert settings.execution.backend == "kernel"
        assert settings.execution.kernel == want


def test_the_token_is_not_in_the_logged_settings() -> None:
    settings, _ = parse_settings(
        {"execution": {"backend": "kernel", "kernel": {"url": "http://h:1", "token": "tok-xyz-9"}}}
    )
    assert "tok-xyz-9" not in repr(settings)
    assert "http://h:1" in repr(settings)


def test_bad_values_fall_back_and_are_reported() -> None:
    settings, problems = parse_settings(
        {"execution": {"backend": "docker", "kernel": {"url": "ftp://x", "token": 5}}}
    )
    assert settings.execution.backend == "worker"
    assert settings.execution.kernel is None
    assert any("execution.backend" in p for p in problems)
    assert any("execution.kernel.url" in p for p in problems)
    settings, problems = parse_settings({"execution": {"kernel": "python3"}})
    assert settings.execution.kernel is None and problems
