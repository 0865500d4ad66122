"""The gate decides when a complete chunk may run; these pin its three policies."""

from __future__ import annotations

from eager_lsp.core.gate import Gate, GatePolicy
from eager_lsp.core.types import Chunk, GateMode


def chunk(i: int, kind: str = "simple", **kw: object) -> Chunk:
    return Chunk(
        index=i,
        start_line=i + 1,
        end_line=i + 1,
        code=f"x{i} = {i}\n",
        released_offset=0,
        released_at=0.0,
        kind=kind,
        **kw,  # type: ignore[arg-type]
    )


def indices(chunks: list[Chunk]) -> list[int]:
    return [c.index for c in chunks]


def test_eager_runs_everything_at_once() -> None:
    gate = Gate(GatePolicy(mode=GateMode.EAGER))
    assert indices(gate.admit(chunk(0, "def"))) == [0]
    assert indices(gate.admit(chunk(1, modules=("os",)))) == [1]
    assert gate.flush() == []


def test_serial_holds_everything_until_the_end() -> None:
    gate = Gate(GatePolicy(mode=GateMode.SERIAL))
    assert gate.admit(chunk(0)) == []
    assert gate.admit(chunk(1)) == []
    assert indices(gate.flush()) == [0, 1]


def test_safe_defers_definitions_into_the_next_working_chunk() -> None:
    gate = Gate(GatePolicy())
    assert gate.admit(chunk(0, "def")) == []
    assert gate.admit(chunk(1, "class")) == []
    assert indices(gate.admit(chunk(2))) == [0, 1, 2]
    assert gate.admit(chunk(3, "def")) == []
    assert indices(gate.flush()) == [3]


def test_safe_falls_back_to_serial_from_a_denied_import() -> None:
    gate = Gate(GatePolicy())
    assert indices(gate.admit(chunk(0))) == [0]
    assert gate.admit(chunk(1, "import", modules=("shutil",), binds=("shutil",))) == []
    assert gate.admit(chunk(2)) == []  # harmless, but after the fallback: waits too
    assert gate.fallen_back
    assert gate.fallback_reason == "line 2: imports shutil"
    assert indices(gate.flush()) == [1, 2]


def test_safe_tracks_aliases_of_denied_modules() -> None:
    gate = Gate(GatePolicy(deny_modules=frozenset({"subprocess"})))
    # `import numpy` is fine; `from subprocess import run as go` binds a denied alias
    assert indices(gate.admit(chunk(0, "import", modules=("numpy",), binds=("np",)))) == [0]
    assert gate.denied(chunk(1, "import", modules=("subprocess",), binds=("go",))) is not None
    assert gate.denied(chunk(2, reads=("go",), calls=("go",))) == "calls go()"


def test_safe_denies_dynamic_code_calls() -> None:
    gate = Gate(GatePolicy())
    assert gate.admit(chunk(0, calls=("eval",))) == []
    assert "eval" in (gate.fallback_reason or "")


def test_denylist_is_configurable() -> None:
    policy = GatePolicy.from_settings("safe", deny_modules=[], deny_calls=["print"])
    gate = Gate(policy)
    assert indices(gate.admit(chunk(0, "import", modules=("os",)))) == [0]
    assert gate.admit(chunk(1, calls=("print",))) == []


def test_a_chunk_only_another_python_can_compile_is_deferred() -> None:
    from eager_lsp.core.detector import BoundaryDetector

    detector = BoundaryDetector(version=(3, 99))
    chunks = detector.feed("x = 1\ny = (\n") + detector.end()
    gate = Gate(GatePolicy())
    assert [c.index for c in gate.admit(chunks[0])] == [0]
    assert gate.admit(chunks[1]) == []
    assert gate.fallen_back
    assert [c.index for c in gate.flush()] == [1]
