"""The terminal's options turned into the core's configs: `InterpreterConfig` (the interpreter or
kernel, the gate, limits) and `LLMConfig` (the model).

Its own module so that the commands (`console.run_file`, `generate.generate_main`) and the
parser (`cli.py`) all import it and none imports another: `cli` imports the commands, the
commands import only this.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eager_lsp.core.config import InterpreterConfig, KernelTarget
    from eager_lsp.providers.config import LLMConfig

KERNEL_TOKEN_ENV = "EAGER_KERNEL_TOKEN"


def kernel_target_from_args(args: argparse.Namespace) -> KernelTarget | None:
    """The Jupyter kernel the options ask for, or None (the worker). SystemExit on a bad mix."""
    from eager_lsp.core.config import KernelTarget

    name = getattr(args, "kernel", None)
    connection = getattr(args, "kernel_connection", None)
    url = getattr(args, "kernel_url", None)
    token = getattr(args, "kernel_token", None) or os.environ.get(KERNEL_TOKEN_ENV) or None
    if getattr(args, "kernel_token", None) and not url:
        # Without a URL it would be ignored and the code would run in the worker instead.
        raise SystemExit("eager-lsp: --kernel-token goes with --kernel-url")
    if not (name or connection or url):
        return None
    if connection and (name or url):
        raise SystemExit(
            "eager-lsp: --kernel-connection goes alone (not with --kernel/--kernel-url)"
        )
    if getattr(args, "python", None):
        raise SystemExit("eager-lsp: --python is for the worker; a kernel brings its own Python")
    if getattr(args, "script_args", None):
        # (the kernel's sys.argv is its launcher's: the script would run without them)
        print(
            "eager-lsp: arguments after the script are for the worker's sys.argv; a Jupyter"
            " kernel keeps its own (leave out --kernel…, or the arguments)",
            file=sys.stderr,
        )
        raise SystemExit(2)  # (a usage error, as argparse's are)
    if getattr(args, "debug", False):
        raise SystemExit("eager-lsp: --debug is not available with a Jupyter kernel")
    if url and not url.startswith(("http://", "https://")):
        raise SystemExit(f"eager-lsp: --kernel-url must start with http:// or https://: {url}")
    return KernelTarget(
        name=name, connection_file=connection, url=url, token=token if url else None
    )


def interpreter_config_from_args(args: argparse.Namespace, path: str) -> InterpreterConfig:
    """The InterpreterConfig the `run` and `generate` commands share."""
    from eager_lsp.core.config import InterpreterConfig
    from eager_lsp.core.gate import GatePolicy

    kernel = kernel_target_from_args(args)
    return InterpreterConfig(
        backend="kernel" if kernel is not None else "worker",
        kernel=kernel,
        path=path,
        cwd=os.getcwd(),
        python=args.python,
        debug=args.debug,
        debug_listen=args.debug,
        gate=GatePolicy.from_settings(args.gate),
        stop_on_error=not args.keep_going,
        env_allow=tuple(getattr(args, "env_allow", None) or ()),
        env_deny_patterns=tuple(getattr(args, "env_deny", None) or ()),
        memory_limit_mb=_memory_limit(args.memory_limit_mb),
    )


def _memory_limit(value: int | None) -> int:
    from eager_lsp.limits import MIN_MEMORY_LIMIT_MB, default_memory_limit_mb

    if value is None:
        return default_memory_limit_mb()
    if value < 0 or 0 < value < MIN_MEMORY_LIMIT_MB:
        print(
            f"eager-lsp: --memory-limit-mb must be 0 (no limit) or at least {MIN_MEMORY_LIMIT_MB}",
            file=sys.stderr,
        )
        raise SystemExit(2)  # (a usage error, as argparse's are)
    return value


def llm_config_from_args(args: argparse.Namespace) -> LLMConfig:
    """The model `generate` streams from; ValueError when the options contradict each other."""
    from eager_lsp.providers.config import LLMConfig, resolve

    settings: dict[str, Any] = {
        "provider": args.provider,
        "model": args.model,
        "base_url": args.base_url,
        "max_tokens": args.max_tokens,
        "local_model": getattr(args, "local_model", None),
        "timeout_s": getattr(args, "timeout", None),
    }
    config = resolve(LLMConfig.from_dict(settings))
    if config.provider == "local" and args.model:
        raise ValueError(
            f"--model {args.model} names a model of an OpenAI-compatible endpoint, but no "
            "endpoint is set, so the bundled local model would write the code (and ignore "
            "--model). Give the endpoint with --base-url URL (or OPENAI_BASE_URL / "
            "OPENAI_API_KEY), or leave out --model to use the local model."
        )
    if config.provider == "local" and args.base_url:
        raise ValueError(
            f"--provider local runs the bundled model, which has no endpoint: --base-url "
            f"{args.base_url} would be ignored. Leave out --provider local to use that endpoint."
        )
    return config
