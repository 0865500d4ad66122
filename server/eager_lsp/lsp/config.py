"""Settings: initializationOptions and `workspace/configuration` (section `eager`), one shape.

Parsing is forgiving on purpose: an editor sends whatever the user typed, so a bad value falls
back to its default and is reported once (as a warning message), never crashing the server.
Defaults are documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eager_lsp.core.gate import GatePolicy
from eager_lsp.core.interpreter import KernelTarget
from eager_lsp.limits import MIN_MEMORY_LIMIT_MB, default_memory_limit_mb

if TYPE_CHECKING:  # the model layer imports the openai SDK (~1 s): only on first use
    from eager_lsp.providers.config import LLMConfig

GATES = ("eager", "safe", "serial", "parallel")
REPAIR_MODES = ("off", "ask", "auto")
BACKENDS = ("worker", "kernel")


@dataclass(frozen=True)
class ExecutionSettings:
    gate: str = "safe"
    stop_on_error: bool = True
    interrupt_grace_s: float = 2.0
    python: str | None = None
    start_on_open: bool = True
    deny_modules: tuple[str, ...] | None = None  # None: the gate's defaults
    deny_calls: tuple[str, ...] | None = None
    env_allow: tuple[str, ...] = ()  # environment variables passed although secret-looking
    env_deny_patterns: tuple[str, ...] = ()  # more name patterns kept from executed code
    # MiB the interpreter may use (executors/worker/memory.py); 0: no limit. Default: half the machine's.
    memory_limit_mb: int = field(default_factory=default_memory_limit_mb)
    allow_calls: tuple[str, ...] | None = None
    deny_methods: tuple[str, ...] | None = None
    backend: str = "worker"  # "worker" | "kernel"
    kernel: KernelTarget | None = None  # `execution.kernel`; its token is never in a repr

    def gate_policy(self) -> GatePolicy:
        return GatePolicy.from_settings(
            self.gate, self.deny_modules, self.deny_calls, self.allow_calls, self.deny_methods
        )


@dataclass(frozen=True)
class RepairSettings:
    mode: str = "ask"
    max_attempts: int = 2


@dataclass(frozen=True)
class Settings:
    llm: dict[str, Any] = field(default_factory=dict)  # handed to LLMConfig.from_dict
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    repair: RepairSettings = field(default_factory=RepairSettings)
    debug_enabled: bool = True
    inline_max_length: int = 80
    # `inline.decorations`: the client draws values and their hover itself (the VS Code
    # extension does), so the server serves it no inlay hints and no hover: one value per editor.
    client_draws_values: bool = False

    def llm_config(self) -> LLMConfig:
        """The model settings (ValueError/TypeError when they are unusable)."""
        from eager_lsp.providers.config import LLMConfig

        return LLMConfig.from_dict(self.llm)

    def __repr__(self) -> str:  # settings get logged; the API key must not
        llm = {k: ("***" if k == "apiKey" and v else v) for k, v in self.llm.items()}
        return (
            f"Settings(llm={llm}, execution={self.execution}, repair={self.repair}, "
            f"debug_enabled={self.debug_enabled}, inline_max_length={self.inline_max_length}, "
            f"client_draws_values={self.client_draws_values})"
        )


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from the `eager` object, plus a list of problems (bad values, which were
    replaced by their defaults)."""
    problems: list[str] = []
    d = raw if isinstance(raw, Mapping) else {}
    if raw is not None and not isinstance(raw, Mapping):
        problems.append("the `eager` settings are not an object; using defaults")
    ex = _section(d, "execution", problems)
    rp = _section(d, "repair", problems)
    dbg = _section(d, "debug", problems)
    inl = _section(d, "inline", problems)
    llm = dict(_section(d, "llm", problems))  # checked when a generation starts, but for:
    if "maxTokens" in llm and llm["maxTokens"] is not None:  # (a model server's own 400 else)
        tokens = llm["maxTokens"]
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            problems.append(f"llm.maxTokens must be a whole number ≥ 1, not {tokens!r}")
            del llm["maxTokens"]
    defaults = ExecutionSettings()
    execution = ExecutionSettings(
        gate=_choice(ex, "gate", GATES, defaults.gate, problems, "execution."),
        stop_on_error=_bool(ex, "stopOnError", defaults.stop_on_error, problems, "execution."),
        interrupt_grace_s=_number(
            ex, "interruptGraceSeconds", defaults.interrupt_grace_s, problems, "execution."
        ),
        python=_str_or_none(ex, "python", problems, "execution."),
        start_on_open=_bool(ex, "startOnOpen", defaults.start_on_open, problems, "execution."),
        deny_modules=_names(ex, "denyModules", problems, "execution."),
        deny_calls=_names(ex, "denyCalls", problems, "execution."),
        env_allow=_names(ex, "envAllow", problems, "execution.") or (),
        env_deny_patterns=_names(ex, "envDenyPatterns", problems, "execution.") or (),
        memory_limit_mb=_memory_limit(ex, defaults.memory_limit_mb, problems),
        allow_calls=_names(ex, "allowCalls", problems, "execution."),
        deny_methods=_names(ex, "denyMethods", problems, "execution."),
        backend=_choice(ex, "backend", BACKENDS, defaults.backend, problems, "execution."),
        kernel=_kernel(ex, problems),
    )
    repair_defaults = RepairSettings()
    repair = RepairSettings(
        mode=_choice(rp, "mode", REPAIR_MODES, repair_defaults.mode, problems, "repair."),
        max_attempts=int(
            _number(rp, "maxAttempts", repair_defaults.max_attempts, problems, "repair.", lo=0)
        ),
    )
    settings = Settings(
        llm=llm,
        execution=execution,
        repair=repair,
        debug_enabled=_bool(dbg, "enabled", True, problems, "debug."),
        inline_max_length=int(_number(inl, "maxLength", 80, problems, "inline.", lo=8)),
        client_draws_values=_bool(inl, "decorations", False, problems, "inline."),
    )
    return settings, problems


def merge(base: Any, override: Any) -> Any:
    """`override` on top of `base`, recursively for objects (workspace/configuration over
    initializationOptions); None in `override` keeps the base value."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base.get(k), v)
        return out
    return base if override is None else override


# -- helpers --------------------------------------------------------------------------------


def _section(d: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{key} must be an object; using defaults")
        return {}
    return value


def _bool(d: Mapping[str, Any], key: str, default: bool, problems: list[str], p: str) -> bool:
    v = d.get(key)
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    problems.append(f"{p}{key} must be true or false, not {v!r}")
    return default


def _number(
    d: Mapping[str, Any],
    key: str,
    default: float,
    problems: list[str],
    p: str,
    lo: float = 0.0,
) -> float:
    v = d.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
        problems.append(f"{p}{key} must be a number ≥ {lo:g}, not {v!r}")
        return default
    return float(v)


def _memory_limit(ex: Mapping[str, Any], default: int, problems: list[str]) -> int:
    value = int(_number(ex, "memoryLimitMB", default, problems, "execution."))
    if 0 < value < MIN_MEMORY_LIMIT_MB:
        problems.append(
            f"execution.memoryLimitMB must be 0 (no limit) or at least {MIN_MEMORY_LIMIT_MB}, "
            f"not {value}"
        )
        return default
    return value


def _choice(
    d: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    default: str,
    problems: list[str],
    p: str,
) -> str:
    v = d.get(key)
    if v is None or v == "":
        return default
    if isinstance(v, str) and v.lower() in choices:
        return v.lower()
    problems.append(f"{p}{key} must be one of {', '.join(choices)}, not {v!r}")
    return default


def _str_or_none(d: Mapping[str, Any], key: str, problems: list[str], p: str) -> str | None:
    v = d.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    problems.append(f"{p}{key} must be a string, not {v!r}")
    return None


def _kernel(ex: Mapping[str, Any], problems: list[str]) -> KernelTarget | None:
    """`execution.kernel`: {name} | {connectionFile} | {url, token, name?}; None: unset."""
    raw = ex.get("kernel")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append("execution.kernel must be an object ({name}, {connectionFile} or {url})")
        return None
    p = "execution.kernel."
    name = _str_or_none(raw, "name", problems, p)
    connection = _str_or_none(raw, "connectionFile", problems, p)
    url = _str_or_none(raw, "url", problems, p)
    token = raw.get("token")
    if token is not None and not isinstance(token, str):
        problems.append("execution.kernel.token must be a string")  # its value is not shown
        token = None
    if connection and (url or name):
        problems.append("execution.kernel: connectionFile goes alone; using connectionFile")
        url = name = None
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"execution.kernel.url must start with http:// or https://: {url!r}")
        return None
    return KernelTarget(
        name=name, connection_file=connection, url=url, token=(token or None) if url else None
    )


def _names(d: Mapping[str, Any], key: str, problems: list[str], p: str) -> tuple[str, ...] | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return tuple(v)
    problems.append(f"{p}{key} must be a list of names, not {v!r}")
    return None
