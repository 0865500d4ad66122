"""Property: on any valid module, streamed in any piece sizes, the detector releases exactly the
top-level statements CPython sees, each once, in order, each at the first feed after which it is
final (its logical line has ended, or, for compound statements, the next top-level token is
complete) and never before.
"""

from __future__ import annotations

import ast
import re
from itertools import accumulate, cycle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eager_lsp.core.detector import BoundaryDetector

TEMPLATES = (
    "x{n} = {n}\n",
    "a{n} = 1; b{n} = 2\n",
    "print(x{n})\n",
    "import os.path as p{n}\n",
    "from shutil import rmtree as r{n}\n",
    "if x{n}:\n    y = 1\nelif z:\n    y = 2\n# between\nelse:\n    y = 3\n",
    "if x{n}: y()\n",
    "if x{n}:\n\tpass\n",
    "for i in range({n}):\n    total += i\nelse:\n    pass\n",
    "while x{n}:\n    break\nelse:\n    pass\n",
    "try:\n    a{n}()\nexcept ValueError as e:\n    pass\nelse:\n    pass\nfinally:\n    pass\n",
    "try:\n    pass\nfinally:\n    pass\n",
    "try:\n    pass\nexcept* ValueError:\n    pass\n",
    "with open(f{n}) as fh, lock:\n    data = fh.read()\n",
    "async def af{n}():\n    async with s as c:\n        async for x in c:\n            pass\n",
    "def f{n}(a,\n        b=2):\n    '''Doc.'''\n    return a + b\n",
    "class C{n}(Base):\n    attr = 1\n\n    def m(self):\n        return self.attr\n",
    "@dec\n@dec2(\n    {n},\n)\ndef g{n}():\n    pass\n",
    "@dec\nclass D{n}:\n    pass\n",
    "@d\nasync def ad{n}():\n    await x\n",
    "match cmd{n}:\n    case 1:\n        pass\n    case _:\n        pass\n",
    "match = {n}\n",
    "match(x{n})\n",
    "s{n} = '''\nx = 1\nif y:\nelse:\n'''\n",
    "t{n} = [\n1,\n2,\n]\n",
    "u{n} = 1 + \\\n    2\n",
    "el{n} = 1\n",
    "else_{n} = 1\n",
    "(p{n}) = 1\n",
    "'''doc {n}'''\n",
    "def h{n}():\n    a = 1\n# column-0 comment in a body\n    return a\n",
    "naïve{n} = 'héllo'  # ü\n",
    "d{n} = {'a': 1,\n'b': [2,\n3]}\n",
    "x{n} = f'{a}' + rb'\\'' + \"#\" + ''\n",
    "lam{n} = lambda: (1,\n2)\n",
    "g{n}: int = 3\n",
    "def k{n}(): return 1\n",
)
SEPARATORS = ("", "", "\n", "# comment\n", "    # indented comment\n", "\n\n", "   \n", "#\n\n")
COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.TryStar,
    ast.With,
    ast.AsyncWith,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Match,
)


@st.composite
def modules(draw: st.DrawFn) -> str:
    picks = draw(st.lists(st.sampled_from(range(len(TEMPLATES))), min_size=0, max_size=10))
    parts = [draw(st.sampled_from(SEPARATORS))]
    for n, pick in enumerate(picks):
        parts.append(TEMPLATES[pick].replace("{n}", str(n)))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    src = "".join(parts)
    if draw(st.booleans()):
        src = src.rstrip("\n")
    return src.replace("\n", draw(st.sampled_from(("\n", "\n", "\r\n", "\r"))))


def physical_lines(src: str) -> list[str]:
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", src)


def statements(src: str) -> list[tuple[int, int, bool]]:
    """(first line, last line, compound) of each top-level statement, per CPython."""
    out: list[tuple[int, int, bool]] = []
    for node in ast.parse(src).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        assert node.end_lineno is not None
        compound = isinstance(node, COMPOUND)
        if out and out[-1][1] == start:  # `a = 1; b = 2` is one chunk
            out[-1] = (out[-1][0], node.end_lineno, out[-1][2] or compound)
        else:
            out.append((start, node.end_lineno, compound))
    return out


def final_points(src: str, stmts: list[tuple[int, int, bool]]) -> list[int]:
    """How many characters must have arrived before each statement can be final."""
    lines = physical_lines(src)
    starts = [0, *accumulate(len(line) for line in lines)]
    points = []
    for i, (_, end, compound) in enumerate(stmts):
        if not compound:
            point = starts[end]
            if lines[end - 1].endswith("\r"):
                point += 1  # a lone CR could still become CRLF
        elif i + 1 < len(stmts):
            head = starts[stmts[i + 1][0] - 1]
            word = re.match(r"\w*", src[head:])
            point = head + (len(word.group()) + 1 if word and word.group() else 1)
        else:
            point = len(src)
        points.append(min(point, len(src)))
    return points


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=modules(), sizes=st.lists(st.integers(1, 16), min_size=1, max_size=12))
def test_streamed_modules_release_exactly_cpython_statements(src: str, sizes: list[int]) -> None:
    stmts = statements(src)
    detector = BoundaryDetector()
    chunks = []
    boundaries = []
    offset = 0
    for size in cycle(sizes):
        if offset >= len(src):
            break
        piece = src[offset : offset + size]
        offset += len(piece)
        chunks += detector.feed(piece)
        boundaries.append(offset)
    chunks += detector.end()

    assert detector.error is None
    assert [(c.start_line, c.end_line) for c in chunks] == [(s, e) for s, e, _ in stmts]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    lines = physical_lines(src)
    for chunk, point in zip(chunks, final_points(src, stmts), strict=True):
        code = "".join(lines[chunk.start_line - 1 : chunk.end_line])
        assert chunk.code == (code if code.endswith(("\n", "\r")) else code + "\n")
        expected = next((b for b in boundaries if b >= point), len(src))
        assert chunk.released_offset == expected, (chunk, point)


TOKEN_SOUP = (
    *("if", "else", "elif", "el", "try", "except", "finally", "for", "while", "def", "class"),
    *("match", "async", "with", "x", "f", "rb", "pass", "1", "λ", "@", ":", "=", ";", ","),
    *("(", ")", "[", "]", "{", "}", "{{", "}}", "'", '"', "'''", '"""', "#", "\\"),
    *(" ", "    ", "\t", "\f", "\n", "\n", "\n", "\r\n", "\r"),
)


def outcome(src: str, sizes: list[int]) -> tuple[list[tuple[int, int, str]], object]:
    detector = BoundaryDetector()
    chunks = []
    offset = 0
    for size in cycle(sizes):
        if offset >= len(src):
            break
        chunks += detector.feed(src[offset : offset + size])
        offset += size
    chunks += detector.end()
    return [(c.start_line, c.end_line, c.code) for c in chunks], detector.error


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tokens=st.lists(st.sampled_from(TOKEN_SOUP), max_size=40),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=6),
)
def test_any_text_gives_the_same_outcome_whatever_the_pieces(
    tokens: list[str], sizes: list[int]
) -> None:
    """Valid or not, how the text is cut into pieces never changes what is released or the error."""
    src = "".join(tokens)
    assert outcome(src, sizes) == outcome(src, [len(src) + 1])
