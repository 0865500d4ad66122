"""analysis.analyze: kind, binds, reads, modules, calls and trailing_expr of one chunk."""

from __future__ import annotations

import pytest

from eager_lsp.core.analysis import ChunkFacts, analyze


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("x = 1\n", "simple"),
        ("print(x)\n", "simple"),
        ("import os\n", "import"),
        ("from a.b import c as d, e\n", "import"),
        ("import os; x = 1\n", "simple"),
        ("def f():\n    pass\n", "def"),
        ("async def f():\n    pass\n", "def"),
        ("@dec\n@dec2(1)\ndef f():\n    pass\n", "def"),
        ("@dataclass\nclass C:\n    x: int\n", "class"),
        ("class C(B):\n    pass\n", "class"),
        ("if x:\n    pass\nelse:\n    pass\n", "compound"),
        ("for i in r:\n    pass\n", "compound"),
        ("while x:\n    pass\n", "compound"),
        ("try:\n    pass\nexcept E:\n    pass\n", "compound"),
        ("try:\n    pass\nexcept* E:\n    pass\n", "compound"),
        ("with a as b:\n    pass\n", "compound"),
        ("async def g():\n    async with a:\n        pass\n", "def"),
        ("match x:\n    case 1:\n        pass\n", "compound"),
    ],
)
def test_kind(code: str, kind: str) -> None:
    assert analyze(code).kind == kind


@pytest.mark.parametrize(
    ("code", "binds"),
    [
        ("x = 1\n", ("x",)),
        ("a = b = 2\n", ("a", "b")),
        ("a, (b, *c) = t\n", ("a", "b", "c")),
        ("[p, q] = t\n", ("p", "q")),
        ("total += 1\n", ("total",)),
        ("n: int = 3\n", ("n",)),
        ("(w := 5) + 1\n", ("w",)),
        ("for i, j in pairs:\n    k = i\n", ("i", "j", "k")),
        ("with open(p) as fh, lock as (l1, l2):\n    pass\n", ("fh", "l1", "l2")),
        ("try:\n    pass\nexcept E as err:\n    pass\n", ("err",)),
        ("import os.path\n", ("os",)),
        ("import numpy as np, pandas\n", ("np", "pandas")),
        ("from shutil import rmtree as rt, copy\n", ("rt", "copy")),
        ("def f(a, b=1):\n    inner = a\n    return inner\n", ("f",)),
        ("class C:\n    attr = 1\n", ("C",)),
        ("if x:\n    y = 1\nelse:\n    z = 2\n", ("y", "z")),
        ("obj.attr = 1\nitems[0] = 2\n", ()),
        ("print(1)\n", ()),
        ("squares = [n * n for n in range(3)]\n", ("squares",)),
    ],
)
def test_binds(code: str, binds: tuple[str, ...]) -> None:
    assert analyze(code).binds == binds


@pytest.mark.parametrize(
    ("code", "reads"),
    [
        ("x = y + 1\n", ("y",)),
        ("x = x + 1\n", ("x",)),  # the old x: the assignment happens after the load
        ("x = 1; y = x\n", ()),
        ("total += i\n", ("total", "i")),
        ("total = 0; total += 1\n", ()),
        ("def f(p):\n    return p + q + f(1)\n", ("q",)),
        ("squares = [n * n for n in data]\n", ("data",)),
        ("for i in range(3):\n    acc = acc + i\n", ("range", "acc")),
        ("class C:\n    attr = 1\n    other = attr\nprint(attr)\n", ("print", "attr")),
        ("import os\nos.getcwd()\n", ()),
        ("obj.attr = value\n", ("obj", "value")),
        ("@register(app)\ndef handler():\n    return db\n", ("register", "app", "db")),
        ("with lock:\n    n = len(items)\n", ("lock", "len", "items")),
        ("x: 'Foo' = None\ny = True or z\n", ("z",)),
    ],
)
def test_reads(code: str, reads: tuple[str, ...]) -> None:
    assert analyze(code).reads == reads


@pytest.mark.parametrize(
    ("code", "modules"),
    [
        ("import os.path\n", ("os",)),
        ("import numpy as np, pandas as pd\n", ("numpy", "pandas")),
        ("from shutil import rmtree\n", ("shutil",)),
        ("from xml.etree import ElementTree\n", ("xml",)),
        ("from . import sibling\nfrom .pkg import thing\n", ()),
        ("def f():\n    import subprocess\n    return subprocess\n", ("subprocess",)),
        ("from os import *\n", ("os",)),
        ("x = 1\n", ()),
    ],
)
def test_modules(code: str, modules: tuple[str, ...]) -> None:
    assert analyze(code).modules == modules


@pytest.mark.parametrize(
    ("code", "calls"),
    [
        ("os.remove(p)\n", ("os.remove",)),
        ("eval(s)\n", ("eval",)),
        ("subprocess.run(['ls'])\n", ("subprocess.run",)),
        ("m = np.mean(a.b.c(1))\n", ("np.mean", "a.b.c")),
        ("import os as o; o.remove('f')\n", ("o.remove", "os.remove")),
        ("from subprocess import run as r\nr('ls')\n", ("r", "subprocess.run")),
        ("from os import path\npath.join('a')\n", ("path.join", "os.path.join")),
        ("import os.path as osp\nosp.exists('a')\n", ("osp.exists", "os.path.exists")),
        ("df.groupby('a').mean()\n", ("df.groupby",)),
        ("f()()\nitems[0]()\n", ("f",)),
        ("def g():\n    return shutil.rmtree(p)\n", ("shutil.rmtree",)),
        ("x = 1\n", ()),
    ],
)
def test_calls(code: str, calls: tuple[str, ...]) -> None:
    assert analyze(code).calls == calls


@pytest.mark.parametrize(
    ("code", "trailing"),
    [
        ("x\n", True),
        ("df.head()\n", True),
        ("print('hi')\n", True),
        ("x = 1; x\n", True),
        ("'a docstring-like string'\n", True),
        ("x = 1\n", False),
        ("x; y = 1\n", False),
        ("import os\n", False),
        ("if x:\n    y\n", False),
        ("def f():\n    return 1\n", False),
    ],
)
def test_trailing_expr(code: str, trailing: bool) -> None:
    assert analyze(code).trailing_expr is trailing


def test_full_facts_for_a_realistic_chunk() -> None:
    code = "import pandas as pd\ndf = pd.read_csv(path)\n"
    # Two statements are not one chunk in practice; analyze still describes them all.
    assert analyze(code) == ChunkFacts(
        kind="import",
        binds=("pd", "df"),
        reads=("path",),
        modules=("pandas",),
        calls=("pd.read_csv", "pandas.read_csv"),
        trailing_expr=False,
    )


def test_invalid_code_raises() -> None:
    with pytest.raises(SyntaxError):
        analyze("x = = 1\n")
