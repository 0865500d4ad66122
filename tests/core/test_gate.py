"""The gate decides when a complete chunk may run; these pin its three policies."""

from __future__ import annotations

import pytest

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
    gate = Gate(GatePolicy.from_settings("safe", deny_modules=["shutil"]))
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


# Call-level judgement on real chunks: each script runs through the real detector; the index is
# that of the first chunk the default safe gate holds back (None: everything runs early).
def first_deferred(src: str, policy: GatePolicy | None = None) -> tuple[int | None, str | None]:
    from eager_lsp.core.detector import BoundaryDetector

    detector = BoundaryDetector()
    chunks = detector.feed(src) + detector.end()
    assert detector.error is None, detector.error
    gate = Gate(policy or GatePolicy())
    ran: list[int] = []
    for c in chunks:
        ran += indices(gate.admit(c))
    held = [c.index for c in chunks if c.index not in ran]
    return (held[0] if held else None), gate.fallback_reason


SAFE_SCRIPTS = {
    "sleep_and_clock": "import time\nt0 = time.time()\ntime.sleep(0.01)\nprint(time.time() - t0)\n",
    "from_time": "from time import sleep, perf_counter\nsleep(0)\nx = perf_counter()\n",
    "read_a_file": "with open('data.txt') as fh:\n    text = fh.read()\nb = open('x', 'rb')\n",
    "paths": "import os\np = os.path.join(os.getcwd(), 'a')\nenv = os.environ.get('HOME')\n",
    "get_url": "import urllib.request as ur\nr = ur.urlopen('http://example.com')\n",
    "variable_named_like_a_module": "signal = [1, 2]\nsignal.append(3)\n",
    "which": "import shutil\nexe = shutil.which('python3')\n",
    "list_remove": "xs = [1, 2]\nxs.remove(1)\n",
    "re_compile": "import re\npat = re.compile('a+')\n",
}
UNSAFE_SCRIPTS = {
    "os_remove": ("import os\nx = 1\nos.remove('f')\ny = 2\n", 2),
    "os_remove_aliased": ("import os as o\nx = 1\no.remove('f')\n", 2),
    "from_os_import": ("from os import remove\nx = 1\nremove('f')\n", 2),
    "rmtree": ("import shutil\nshutil.rmtree('d')\n", 1),
    "rmtree_passed_around": ("from shutil import rmtree\nclean = rmtree\n", 1),
    "subprocess": ("import subprocess\nsubprocess.run(['ls'])\n", 1),
    "subprocess_alias": ("import subprocess as sp\np = sp.Popen(['ls'])\n", 1),
    "open_write": ("x = 1\nwith open('out.txt', 'w') as fh:\n    fh.write('x')\n", 1),
    "open_append_kw": ("fh = open('log', mode='a')\n", 0),
    "open_exclusive": ("fh = open('new', 'x')\n", 0),
    "open_update": ("fh = open('f', 'r+')\n", 0),
    "open_unknown_mode": ("m = 'w'\nfh = open('f', m)\n", 1),
    "path_write_text": ("from pathlib import Path\nPath('f').write_text('x')\n", 1),
    "path_open_write": ("from pathlib import Path\nfh = Path('f').open('w')\n", 1),
    "requests_post": ("import requests\nr = requests.post('http://h', data={'a': 1})\n", 1),
    "session_post": ("import requests\ns = requests.Session()\n", 1),
    "urlopen_with_data": ("from urllib.request import urlopen\nurlopen('http://h', b'data')\n", 1),
    "urlopen_request_object": (
        "import urllib.request\nreq = make()\nurllib.request.urlopen(req)\n",
        2,
    ),
    "socket_connect": ("import socket\ns = socket.socket()\ns.connect(('h', 1))\n", 1),
    "method_send_on_any_object": ("conn = get()\nconn.sendall(b'x')\n", 1),
    "eval": ("x = eval('1')\n", 0),
    "star_import": ("from os import *\nremove('f')\n", 0),
    "inside_a_function": ("import os\ndef f():\n    os.system('ls')\nx = 1\n", 1),
    "to_csv": ("df = load()\ndf.to_csv('out.csv')\n", 1),
}


@pytest.mark.parametrize("name", sorted(SAFE_SCRIPTS))
def test_safe_calls_run_early(name: str) -> None:
    assert first_deferred(SAFE_SCRIPTS[name]) == (None, None)


@pytest.mark.parametrize("name", sorted(UNSAFE_SCRIPTS))
def test_dangerous_calls_are_still_deferred(name: str) -> None:
    src, index = UNSAFE_SCRIPTS[name]
    held, reason = first_deferred(src)
    assert held == index, reason
    assert reason


def test_call_lists_are_configurable() -> None:
    src = "import time\ntime.sleep(0)\nimport os\nos.remove('f')\n"
    assert first_deferred(src, GatePolicy.from_settings("safe", deny_calls=["time.*"]))[0] == 1
    allow = GatePolicy.from_settings("safe", allow_calls=["os.remove"])
    assert first_deferred(src, allow) == (None, None)
    no_methods = GatePolicy.from_settings("safe", deny_methods=[])
    assert first_deferred("conn = get()\nconn.sendall(b'x')\n", no_methods) == (None, None)


def test_a_module_object_passed_around_is_unsafe_but_a_variable_of_that_name_is_not() -> None:
    assert first_deferred("import subprocess\nrunner = subprocess\n")[0] == 1
    assert first_deferred("os = 'linux'\nprint(os)\n") == (None, None)
