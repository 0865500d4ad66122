"""The fake OpenAI server itself: formats other test suites and editor tests rely on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


def post(url: str, body: dict) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_sse_format_models_and_non_streaming(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(pieces=["a", "b"])
    status, raw = post(
        fake_openai.url + "/chat/completions",
        {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}},
    )
    assert status == 200
    events = [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content == "ab"
    assert chunks[-1]["usage"]["completion_tokens"] == 2

    fake_openai.enqueue(text="hello world", chunk_chars=3)
    status, raw = post(fake_openai.url + "/chat/completions", {"model": "m", "messages": []})
    assert json.loads(raw)["choices"][0]["message"]["content"] == "hello world"

    with urllib.request.urlopen(fake_openai.url + "/models") as r:
        assert json.load(r)["data"][0]["id"] == "fake-model"
    assert [r.method for r in fake_openai.requests] == ["POST", "POST", "GET"]


def test_error_bodies_are_openai_style(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(status=429, error_message="slow down", retry_after="1")
    status, raw = post(fake_openai.url + "/chat/completions", {"stream": True})
    assert status == 429
    assert json.loads(raw)["error"]["message"] == "slow down"


def test_runs_as_a_process_with_a_script(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps({"replies": [{"text": "x = 1\n"}], "model": "scripted"}))
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.openai_server",
            "--script",
            str(script),
            "--log",
            str(log),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        _, raw = post(url + "/chat/completions", {"messages": [], "stream": False})
        assert json.loads(raw)["choices"][0]["message"]["content"] == "x = 1\n"
        with urllib.request.urlopen(url + "/models") as r:
            assert json.load(r)["data"][0]["id"] == "scripted"
        for _ in range(100):
            if log.exists() and len(log.read_text().splitlines()) == 2:
                break
            time.sleep(0.05)
        first = json.loads(log.read_text().splitlines()[0])
        assert first["path"] == "/v1/chat/completions" and first["body"]["stream"] is False
    finally:
        proc.terminate()
        proc.wait(5)
