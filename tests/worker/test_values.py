"""Values, trailing expressions and reprs, through a real worker."""

from __future__ import annotations

import time

from eager_lsp.executors.worker.client import WorkerClient
from tests.worker.helpers import run1, values


async def test_simple_values(worker: WorkerClient) -> None:
    code = "i = 42\nl = [1, 2, 3]\nd = {'a': 1, 'b': [1, 2]}\ns = 'x' * 5000\n"
    result = await run1(worker, code, names=["i", "l", "d", "s", "missing"])
    assert result["ok"], result["error"]
    v = values(result)
    assert set(v) == {"i", "l", "d", "s"}  # names not bound are left out
    assert v["i"] == {"name": "i", "type": "int", "repr": "42", "summary": "42"}
    assert v["l"]["repr"] == "[1, 2, 3]" and v["l"]["summary"] == "list[3]"
    assert v["d"]["repr"] == "{'a': 1, 'b': [1, 2]}" and v["d"]["summary"] == "dict[2]"
    assert v["s"]["type"] == "str"
    assert len(v["s"]["repr"]) <= 1000 and v["s"]["repr"].startswith("'xxx")
    assert v["s"]["repr"].endswith("…")
    assert len(v["s"]["summary"]) <= 80


async def test_nested_depth_and_size_caps(worker: WorkerClient) -> None:
    code = "deep = [[[[[1]]]]]\nbig = list(range(100000))\ncyc = [1]\ncyc.append(cyc)\n"
    result = await run1(worker, code, names=["deep", "big", "cyc"])
    v = values(result)
    assert v["deep"]["repr"] == "[[[list[1]]]]"
    assert v["big"]["summary"] == "list[100000]"
    assert "more" in v["big"]["repr"] and len(v["big"]["repr"]) <= 1000
    assert v["cyc"]["repr"] == "[1, [...]]"


async def test_duck_typed_frames_and_arrays(worker: WorkerClient) -> None:
    code = (
        "class DataFrame:\n"
        "    shape = property(lambda self: (1000, 3))\n"
        "    columns = property(lambda self: ['a', 'b', 'c'])\n"
        "    def __repr__(self):\n"
        "        return '   a  b  c\\n0  1  2  3'\n"
        "class ndarray:\n"
        "    shape = property(lambda self: (1000, 3))\n"
        "    dtype = property(lambda self: 'float64')\n"
        "df = DataFrame()\n"
        "arr = ndarray()\n"
    )
    result = await run1(worker, code, names=["df", "arr"])
    v = values(result)
    assert v["df"]["summary"] == "DataFrame 1000×3"
    assert v["df"]["type"] == "DataFrame"
    assert v["arr"]["summary"] == "ndarray float64 (1000, 3)"


async def test_instances_functions_modules_classes(worker: WorkerClient) -> None:
    code = (
        "import json\n"
        "class Point:\n"
        "    def __init__(self, x, y):\n"
        "        self.x, self.y = x, y\n"
        "def f(): pass\n"
        "p = Point(1, [2])\n"
    )
    result = await run1(worker, code, names=["json", "Point", "f", "p"])
    v = values(result)
    assert v["json"]["repr"] == "<module json>"
    assert v["Point"]["repr"] == "<class Point>"
    assert v["f"]["repr"] == "<function f>"
    assert v["p"]["repr"] == "Point(x=1, y=[2])"
    assert v["p"]["type"] == "Point"


async def test_trailing_expression_and_underscore(worker: WorkerClient) -> None:
    result = await run1(worker, "x = 20\nx * 2 + 2\n", names=["x"], trailing_expr=True)
    assert result["expr"]["repr"] == "42"
    assert result["expr"]["name"] == ""
    assert values(result)["x"]["repr"] == "20"
    again = await run1(worker, "_ + 1\n", trailing_expr=True)
    assert again["expr"]["repr"] == "43"
    none = await run1(worker, "print('p')\n", trailing_expr=True)
    assert none["expr"] is None and none["stdout"] == "p\n"
    not_asked = await run1(worker, "1 + 1\n", trailing_expr=False)
    assert not_asked["expr"] is None


async def test_raising_repr(worker: WorkerClient) -> None:
    code = "class Bad:\n    def __repr__(self):\n        raise ValueError('nope')\nb = Bad()\n"
    result = await run1(worker, code, names=["b"])
    assert result["ok"]
    assert values(result)["b"]["repr"] == "<repr failed: ValueError: nope>"


async def test_hanging_repr_times_out(worker: WorkerClient) -> None:
    code = (
        "import time\n"
        "class Slow:\n"
        "    def __repr__(self):\n"
        "        try:\n"
        "            time.sleep(100)\n"
        "        except Exception:\n"
        "            pass\n"
        "        return 'never'\n"
        "s = Slow()\n"
        "s\n"
    )
    began = time.monotonic()
    result = await run1(worker, code, names=["s"], trailing_expr=True)
    assert time.monotonic() - began < 10
    assert values(result)["s"]["repr"] == "<repr timed out>"
    assert result["expr"]["repr"] == "<repr timed out>"
    after = await run1(worker, "1\n", trailing_expr=True)  # the worker is fine afterwards
    assert after["expr"]["repr"] == "1"
