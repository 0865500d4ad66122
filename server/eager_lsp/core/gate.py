"""The gate: decides when a released chunk may run (Eager's policy, made configurable).

`safe` mode defers def/class chunks into the next chunk that does work (a definition alone
produces nothing worth a round trip) and, once a chunk touches external side effects, timing
or dynamic code, stops running eagerly: that chunk and every later one wait for the end of the
stream, as in a serial run. The denylist is data, so users can widen or narrow it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from eager_lsp.core.types import Chunk, GateMode

#: Modules whose use makes a chunk unsafe to run before the whole program is known.
DEFAULT_DENY_MODULES: frozenset[str] = frozenset(
    {
        # external side effects
        "os",
        "subprocess",
        "shutil",
        "socket",
        "multiprocessing",
        # timing
        "time",
        "signal",
        "threading",
    }
)
#: Builtins that run code we cannot see.
DEFAULT_DENY_CALLS: frozenset[str] = frozenset({"eval", "exec", "compile", "__import__"})


@dataclass(frozen=True)
class GatePolicy:
    mode: GateMode = GateMode.SAFE
    deny_modules: frozenset[str] = DEFAULT_DENY_MODULES
    deny_calls: frozenset[str] = DEFAULT_DENY_CALLS

    @classmethod
    def from_settings(
        cls,
        mode: str | GateMode = GateMode.SAFE,
        deny_modules: Iterable[str] | None = None,
        deny_calls: Iterable[str] | None = None,
    ) -> GatePolicy:
        return cls(
            mode=GateMode(mode),
            deny_modules=DEFAULT_DENY_MODULES if deny_modules is None else frozenset(deny_modules),
            deny_calls=DEFAULT_DENY_CALLS if deny_calls is None else frozenset(deny_calls),
        )


@dataclass
class Gate:
    """Stateful per stream: remembers deferred definitions and aliases of denied modules."""

    policy: GatePolicy = field(default_factory=GatePolicy)
    fallen_back: bool = False  # safe mode hit the denylist: the rest runs at the end
    fallback_reason: str | None = None
    _held: list[Chunk] = field(default_factory=list)
    _denied_names: set[str] = field(default_factory=set)

    def admit(self, chunk: Chunk) -> list[Chunk]:
        """Take a released chunk; return the chunks that may run now, in order."""
        mode = self.policy.mode
        if mode is GateMode.EAGER:
            return [chunk]
        self._held.append(chunk)
        if mode is GateMode.SERIAL or self.fallen_back:
            return []
        reason = self.denied(chunk)
        if reason is not None:
            self.fallen_back = True
            self.fallback_reason = f"line {chunk.start_line}: {reason}"
            return []
        if chunk.kind in ("def", "class"):
            return []
        ready, self._held = self._held, []
        return ready

    def flush(self) -> list[Chunk]:
        """End of stream: everything still held runs now."""
        ready, self._held = self._held, []
        return ready

    def denied(self, chunk: Chunk) -> str | None:
        """Why this chunk touches the denylist, or None."""
        if not chunk.checked:
            return "another Python version must compile it (the server cannot judge it)"
        for module in chunk.modules:
            if module in self.policy.deny_modules:
                self._denied_names.update(chunk.binds)
                return f"imports {module}"
        for call in chunk.calls:
            head = call.split(".", 1)[0]
            if call in self.policy.deny_calls or head in self.policy.deny_calls:
                return f"calls {call}()"
            if head in self.policy.deny_modules or head in self._denied_names:
                return f"calls {call}()"
        for name in chunk.reads:
            if name in self._denied_names:
                return f"uses {name}"
        return None
