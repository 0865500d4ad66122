"""BoundaryDetector: which chunks are released, with what text, and exactly when.

Each case marks with `⟂` the points where a chunk must become final: the chunk is released by
the first feed that brings the stream at least that far, never earlier and never later. The
markers are stripped before feeding. Every case is fed in pieces of 1, 2, 3 and 7 characters
and whole.
"""

from __future__ import annotations

import ast
import re
import sys

import pytest

from eager_lsp.core import detector as detector_module
from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.core.types import Chunk, SyntaxIssue

MARK = "⟂"
SIZES = (1, 2, 3, 7, 10_000)


def feed_all(src: str, size: int, **kwargs: object) -> tuple[list[Chunk], SyntaxIssue | None]:
    detector = BoundaryDetector(**kwargs)  # type: ignore[arg-type]
    chunks: list[Chunk] = []
    for i in range(0, len(src), size):
        chunks += detector.feed(src[i : i + size])
    chunks += detector.end()
    return chunks, detector.error


def unmark(marked: str) -> tuple[str, list[int]]:
    """The source without markers, and the offset each marker stands at."""
    points: list[int] = []
    out: list[str] = []
    for part in marked.split(MARK)[:-1]:
        out.append(part)
        points.append(sum(map(len, out)))
    out.append(marked.split(MARK)[-1])
    return "".join(out), points


def expected_offset(point: int, size: int, total: int) -> int:
    """The stream offset after the feed that first reaches `point`."""
    return min(-(-point // size) * size, total) if point else 0


def physical_lines(src: str) -> list[str]:
    """Lines as Python counts them (str.splitlines also splits on form feeds and more)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", src)


def lines_code(src: str, start: int, end: int) -> str:
    code = "".join(physical_lines(src)[start - 1 : end])
    return code if code.endswith(("\n", "\r")) else code + "\n"


def ast_spans(src: str) -> list[tuple[int, int]]:
    """Top-level statements per CPython; `a = 1; b = 2` on one line is one span."""
    spans: list[tuple[int, int]] = []
    for node in ast.parse(src).body:
        decorators = getattr(node, "decorator_list", [])
        start = min([node.lineno] + [d.lineno for d in decorators])
        assert node.end_lineno is not None
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], node.end_lineno)
        else:
            spans.append((start, node.end_lineno))
    return spans


CASES: dict[str, tuple[str, list[tuple[int, int]]]] = {
    "simple": ("x = 1\n⟂y = 2\n⟂", [(1, 1), (2, 2)]),
    "semicolons": ("a = 1; b = 2\n⟂c = a\n⟂", [(1, 1), (2, 2)]),
    "if_elif_else": (
        "if a:\n    x = 1\nelif b:\n    x = 2\nelse:\n    x = 3\ny ⟂= 1\n⟂",
        [(1, 6), (7, 7)],
    ),
    "comment_between_if_and_else": (
        "if a:\n    pass\n# note\n\n   # indented note\nelse:\n    pass\n# tail\n\nz ⟂= 2\n⟂",
        [(1, 7), (10, 10)],
    ),
    "el_prefixed_names": (
        "if a:\n    pass\nel ⟂= 1\n⟂if b:\n    pass\nelephant ⟂= 2\n⟂if c:\n    pass\nelse_ ⟂= 3\n⟂",
        [(1, 2), (3, 3), (4, 5), (6, 6), (7, 8), (9, 9)],
    ),
    "for_else_while_else": (
        "for i in r:\n    pass\nelse:\n    pass\nwhile ⟂c:\n    pass\nelse:\n    pass\n⟂",
        [(1, 4), (5, 8)],
    ),
    "try_full": (
        "try:\n    a()\nexcept ValueError as e:\n    b(e)\nexcept (TypeError, KeyError):\n"
        "    pass\nelse:\n    c()\nfinally:\n    d()\ntry:⟂\n    pass\nfinally:\n    pass\n⟂",
        [(1, 10), (11, 14)],
    ),
    "except_star": (
        "try:\n    a()\nexcept* ValueError:\n    pass\nexcept* TypeError as eg:\n    pass\nx ⟂= 1\n⟂",
        [(1, 6), (7, 7)],
    ),
    "with": ("with open(p) as f, lock:\n    data = f.read()\nprint(⟂data)\n⟂", [(1, 2), (3, 3)]),
    "async_forms": (
        "async def main():\n    async with s as c:\n        async for x in c:\n            pass\n"
        "    return 1\nasync ⟂def g():\n    pass\n⟂",
        [(1, 5), (6, 7)],
    ),
    "def_and_class": (
        "def f(a,\n      b):\n    return a + b\nclass ⟂C(Base):\n    x = 1\n\n"
        "    def m(self):\n        return self.x\n⟂",
        [(1, 3), (4, 8)],
    ),
    "decorators": (
        "@first\n@second(\n    1,\n    2,\n)\ndef f():\n    pass\n@⟂dec\nclass C:\n    pass\n"
        "@⟂d\nasync def g():\n    pass\nx ⟂= C()\n⟂",
        [(1, 7), (8, 10), (11, 13), (14, 14)],
    ),
    "single_line_compound": ("if x: y()\nz\n⟂⟂while 0: pass\n⟂", [(1, 1), (2, 2), (3, 3)]),
    "triple_quoted_column_0": (
        "s = '''\nx = 1\nif y:\n'''\n⟂def f():\n    return \"\"\"\nclass C:\nelse:\n\"\"\"\ny ⟂= 2\n⟂",
        [(1, 4), (5, 9), (10, 10)],
    ),
    "brackets_column_0": (
        "x = [\n1,\n2,\n]\n⟂d = {\n'a':\n(1,\n2)}\n⟂if (a\nor b):\n    pass\nz ⟂= 1\n⟂",
        [(1, 4), (5, 8), (9, 11), (12, 12)],
    ),
    "backslash_continuation": (
        "total = 1 + \\\n2 + \\\n    3\n⟂if a and \\\nb:\n    pass\nz ⟂= 1\n⟂",
        [(1, 3), (4, 6), (7, 7)],
    ),
    "backslash_newline_before_first_token": (
        "x = 1\n⟂\\\ny = 2\n⟂if x:\n    pass\n\\\nelse:\n    pass\n⟂",
        [(1, 1), (3, 3), (4, 8)],
    ),
    "tabs": ("if x:\n\ty = 1\n\tif y:\n\t\tpass\nz ⟂= 1\n⟂", [(1, 4), (5, 5)]),
    "non_ascii": (
        "naïve = 'héllo wörld'\n⟂π = 3.14\n⟂def größe(ß):\n    return ß\nλ ⟂= größe(π)\n⟂",
        [(1, 1), (2, 2), (3, 4), (5, 5)],
    ),
    "no_trailing_newline": ("x = 1\n⟂if x:\n    y = 2⟂", [(1, 1), (2, 3)]),
    "empty": ("", []),
    "only_comments": ("# a\n# b\n\n   # c\n", []),
    "comments_between_statements": (
        "# head\nx = 1  # trailing\n⟂\n# mid\n\ny = 2\n⟂# end\n",
        [(2, 2), (6, 6)],
    ),
    "trailing_indented_comment": (
        "def f():\n    return 1\n    # after\n\nx ⟂= 1\n⟂",
        [(1, 2), (5, 5)],
    ),
    "column_0_comment_inside_body": (
        "def f():\n    a = 1\n# col-0 comment\n    return a\nx ⟂= f()\n⟂",
        [(1, 4), (5, 5)],
    ),
    "strings_and_prefixes": (
        "s = 'it\\'s' + rb'\\'' + f\"{x!r}\" + '' + \"\"\n⟂"
        "t = '''a''' + \"\"\"b\\\"\"\"\" + r'''c\\\\''' + 'd'\n⟂"
        "u = '# not a comment' + \"x # y\"; v = 1  # real comment\n⟂",
        [(1, 1), (2, 2), (3, 3)],
    ),
    "hash_and_brackets_in_strings": (
        's = \')]}\' + \'([{\'\n⟂t = """\n(\n"""\n⟂',
        [(1, 1), (2, 4)],
    ),
    "form_feed": ("\fx = 1\n⟂\f\ny = 2\n⟂", [(1, 1), (3, 3)]),
    "compound_at_end_of_stream": ("x = 1\n⟂if x:\n    pass\n\n# done\n⟂", [(1, 1), (2, 3)]),
    "non_identifier_next_token": (
        "if x:\n    pass\n(⟂a) = 1\n⟂for i in r:\n    pass\n'⟂doc'\n⟂for j in r:\n    pass\n[⟂j]\n⟂",
        [(1, 2), (3, 3), (4, 5), (6, 6), (7, 8), (9, 9)],
    ),
    "blank_lines_with_spaces": ("x = 1\n⟂   \n\t\n\ny = 2\n⟂", [(1, 1), (5, 5)]),
}

CASES["match_case"] = (
    "match cmd:\n    case 1:\n        pass\n    case _:\n        pass\nmatch ⟂= 3\n⟂match(x)\n⟂",
    [(1, 5), (6, 6), (7, 7)],
)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_release_points(name: str, size: int) -> None:
    marked, spans = CASES[name]
    src, points = unmark(marked)
    assert len(points) == len(spans), "one marker per chunk"
    assert ast_spans(src) == spans, "the case itself disagrees with CPython"
    chunks, error = feed_all(src, size)
    assert error is None
    assert [(c.start_line, c.end_line) for c in chunks] == spans
    assert [c.index for c in chunks] == list(range(len(spans)))
    for chunk, point in zip(chunks, points, strict=True):
        assert chunk.code == lines_code(src, chunk.start_line, chunk.end_line)
        assert chunk.released_offset == expected_offset(point, size, len(src)), chunk


@pytest.mark.parametrize("size", SIZES)
def test_crlf_keeps_line_endings(size: int) -> None:
    src = "x = 1\r\nif x:\r\n    y = 2\r\nelse:\r\n    y = 3\r\nz = 4\r\n"
    chunks, error = feed_all(src, size)
    assert error is None
    assert [c.code for c in chunks] == [
        "x = 1\r\n",
        "if x:\r\n    y = 2\r\nelse:\r\n    y = 3\r\n",
        "z = 4\r\n",
    ]
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 1), (2, 5), (6, 6)]


@pytest.mark.parametrize("size", SIZES)
def test_cr_only_line_endings(size: int) -> None:
    # A lone "\r" might be the first half of "\r\n": the line ends one character later.
    src = "x = 1\rif x:\r    y = 2\rz = 3\r"
    chunks, error = feed_all(src, size)
    assert error is None
    assert [(c.start_line, c.end_line, c.code) for c in chunks] == [
        (1, 1, "x = 1\r"),
        (2, 3, "if x:\r    y = 2\r"),
        (4, 4, "z = 3\r"),
    ]
    assert chunks[0].released_offset == expected_offset(len("x = 1\ri"), size, len(src))


def test_missing_final_newline_is_added() -> None:
    chunks, _ = feed_all("x = 1\ny = 2", 3)
    assert [c.code for c in chunks] == ["x = 1\n", "y = 2\n"]


def test_partial_keyword_waits() -> None:
    detector = BoundaryDetector()
    assert detector.feed("if a:\n    pass\n") == []
    assert detector.feed("el") == []
    assert detector.feed("se") == []
    assert detector.feed(":\n    pass\n") == []
    assert detector.feed("else_") == []
    released = detector.feed(" = 1\n")
    assert [(c.start_line, c.end_line) for c in released] == [(1, 4), (5, 5)]


def test_decorator_line_never_released_alone() -> None:
    detector = BoundaryDetector()
    assert detector.feed("x = 1\n") != []
    assert detector.feed("@dec\n") == []
    assert detector.feed("@other(1)\n") == []
    assert detector.feed("def f():\n    pass\n") == []
    (chunk,) = detector.end()
    assert (chunk.start_line, chunk.end_line, chunk.kind) == (2, 5, "def")


def test_first_line_offsets_document_lines() -> None:
    chunks, _ = feed_all("x = 1\n\nif x:\n    pass\n", 4, first_line=40)
    assert [(c.start_line, c.end_line) for c in chunks] == [(40, 40), (42, 43)]


def test_offset_clock_and_facts() -> None:
    ticks = iter([10.0, 20.0])
    detector = BoundaryDetector(clock=lambda: next(ticks))
    first = detector.feed("import os.path as p\nx = p.join('a')\n")
    assert detector.offset == 36
    second = detector.end()
    assert second == []
    imp, assign = first
    assert (imp.kind, imp.binds, imp.modules, imp.released_at) == ("import", ("p",), ("os",), 10.0)
    assert (assign.kind, assign.binds, assign.reads) == ("simple", ("x",), ("p",))
    assert assign.calls == ("p.join",)  # aliases resolve within one chunk only
    assert assign.released_at == 20.0
    assert imp.released_offset == assign.released_offset == 36


def test_nothing_is_released_twice_and_end_is_idempotent() -> None:
    detector = BoundaryDetector()
    assert len(detector.feed("x = 1\ny = 2")) == 1
    assert len(detector.end()) == 1
    assert detector.end() == []
    assert detector.feed("z = 3\n") == []


# Syntax errors


def test_error_is_final_at_its_newline() -> None:
    detector = BoundaryDetector()
    assert detector.feed("x = = 1") == []
    assert detector.error is None
    assert detector.feed("\ny = 2\n") == []
    assert detector.error is not None
    assert (detector.error.line, detector.error.column) == (1, 4)
    assert detector.feed("z = 3\n") == []
    assert detector.end() == []


@pytest.mark.parametrize("size", SIZES)
def test_nothing_after_error_is_released(size: int) -> None:
    chunks, error = feed_all("a = 1\nb = (1 2)\nc = 3\nif c:\n    pass\n", size)
    assert [c.start_line for c in chunks] == [1]
    assert error is not None and error.line == 2


def test_open_bracket_is_still_fixable() -> None:
    detector = BoundaryDetector()
    detector.feed("x = 1\ndef f(:\n    pass\n")
    assert detector.error is None
    detector.feed("zzz\n")
    assert detector.error is None
    assert detector.end() == []
    assert detector.error is not None and detector.error.line == 2


def test_unterminated_at_end_is_an_error() -> None:
    chunks, error = feed_all("x = 1\ns = '''abc\n", 5)
    assert [c.start_line for c in chunks] == [1]
    assert error is not None and error.line == 2


def test_error_inside_compound_waits_for_next_token() -> None:
    detector = BoundaryDetector()
    detector.feed("if x:\n    y = = 1\n")
    assert detector.error is None  # an `else:` could still come; the statement is not final
    detector.feed("z ")
    assert detector.error is not None and detector.error.line == 2


@pytest.mark.parametrize(
    ("src", "line", "released"),
    [
        ("x = 1\n    y = 2\nz = 3\n", 2, [1]),
        ("x = 1\nelse:\n    pass\n", 2, [1]),
        ("with a:\n    pass\nelse:\n    pass\n", 3, [1]),
        ("try:\n    pass\nx = 1\n", 3, []),
        ("@dec\nx = 1\n", 2, []),
        ("if x:\ny = 1\n", 2, []),
        ("if x:\n    pass\nelse:\n    pass\nelse:\n    pass\n", 5, []),
        ("x = 1\ny = 'abc\nz = 2\n", 2, [1]),
        ("class C\n    pass\nx = 1\n", 1, []),  # missing colon: its own line, not the next
        ("x = 1\nwhile\n\n\ny = 2\n", 2, [1]),
    ],
)
@pytest.mark.parametrize("size", (1, 3, 10_000))
def test_error_lines(src: str, line: int, released: list[int], size: int) -> None:
    chunks, error = feed_all(src, size)
    assert error is not None
    assert error.line == line
    assert error.message
    assert [c.start_line for c in chunks] == released


def test_error_lines_use_first_line() -> None:
    chunks, error = feed_all("x = 1\ny = = 2\n", 2, first_line=40)
    assert [c.start_line for c in chunks] == [40]
    assert error is not None and error.line == 41


def test_unexpected_indent_waits_for_line_end() -> None:
    detector = BoundaryDetector()
    detector.feed("x = 1\n    y = (1,")
    assert detector.error is None
    detector.feed("\n 2)\n")
    assert detector.error is not None
    assert (detector.error.line, detector.error.column) == (2, 4)


PEP701_CASES = {
    "multi_line_field": (
        "s = f\"{'\\n'.join([\n    'a',  # comment\n])}\"\nt = 1\n",
        [(1, 3), (4, 4)],
    ),
    "same_quotes_nested": ("t = f'{x['k']}' + f'{a[\"}\"]}'\nu = 2\n", [(1, 1), (2, 2)]),
    "format_specs": (
        "v = f\"{x:{'>'}10}\" + f'{y!r:^{w}}' + f'{{lit}}'\nw = 3\n",
        [(1, 1), (2, 2)],
    ),
    "nested_triple": ("x = f'''{'''\n'''}'''\ny = 1\n", [(1, 2), (3, 3)]),
    "keyword_before_quote": ("if f'{x}':\n    pass\nelse:\n    pass\nr = 1\n", [(1, 4), (5, 5)]),
}


@pytest.mark.parametrize("size", (1, 2, 5, 10_000))
@pytest.mark.parametrize("name", sorted(PEP701_CASES))
def test_pep701_fstrings(name: str, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12 f-strings nest quotes and span lines. A detector for a 3.12 worker follows
    3.12's rules whatever Python the server runs; chunks this Python cannot compile are left
    unchecked, for the worker's own compile to judge."""
    src, spans = PEP701_CASES[name]
    chunks, error = feed_all(src, size, version=(3, 12))
    assert error is None
    assert [(c.start_line, c.end_line) for c in chunks] == spans
    if sys.version_info >= (3, 12):
        assert all(c.checked for c in chunks)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python follows PEP 701")
def test_pre_pep701_fstring_rules() -> None:
    """Before 3.12 the same text is an unterminated string on line 1, as CPython 3.11 says."""
    _, error = feed_all(PEP701_CASES["multi_line_field"][0], 3)
    assert error is not None and error.line == 1


def test_byte_order_mark_is_not_code() -> None:
    chunks, error = feed_all("\ufeffx = 1\ny = 2\n", 1)
    assert error is None
    assert [(c.start_line, c.code) for c in chunks] == [(1, "x = 1\n"), (2, "y = 2\n")]


@pytest.mark.parametrize(
    "src",
    [
        "x = [\n" + "    1234567,\n" * 1000 + "]\n",
        "s = '''" + "text at column 0\n" * 2000 + "'''\n",
        "# " + "c" * 30000 + "\nx = 1\n",
        "def f():\n"
        + "".join(f"    v{i} = v{i - 1} + 1  # work\n" for i in range(1000))
        + "x = 1\n",
    ],
)
def test_each_character_is_scanned_about_once(src: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed one character at a time, a long statement must not be re-scanned from its start."""
    steps = 0
    original = detector_module.LogicalLineScanner._step

    def counting(self: detector_module.LogicalLineScanner, *args: object) -> int:
        nonlocal steps
        steps += 1
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(detector_module.LogicalLineScanner, "_step", counting)
    detector = BoundaryDetector()
    for ch in src:
        detector.feed(ch)
    detector.end()
    assert detector.error is None
    assert steps <= 2 * len(src)


# Code the old libcst parser accepted (or crashed on) that this Python rejects: each is a syntax error at the
# line CPython names for the whole file, and nothing after it is released.
REJECTED_BY_CPYTHON = {
    "bytes_non_ascii": "b = b'é'\n",
    "unpacking_in_comprehension": "c = [*a for a in x]\n",
    "backslash_line_after_def": "def f():\n    pass\n \\\nx = 1\n",
    "mixed_bytes_and_str": "s = u'x' b'y'\n",
    "bare_except_not_last": "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n",
    "top_level_nonlocal": "nonlocal x\n",
    "return_outside_function": "return 1\n",
    "duplicate_argument": "def g(a, a):\n    pass\n",
    # Simple statements that only the compiler rejects (the detector skips the bytecode
    # compile of plain simple statements: each of these must still be compiled in full).
    "assign_debug": "__debug__ = 1\n",
    "assign_debug_attribute": "o.__debug__ = 1\n",
    "debug_keyword": "f(__debug__=1)\n",
    "import_as_debug": "import a as __debug__\n",
    # Look-alike letters the parser folds into `__debug__` (NFKC): not in the text as written.
    "assign_fullwidth_debug": "__\uff44ebug__ = 1\n",
    "keyword_math_bold_debug": "f(__\U0001d41debug__=1)\n",
    "delete_fullwidth_debug": "del __\uff44ebug__\n",
    "repeated_keyword": "f(a=1, a=2)\n",
    "repeated_keyword_after_unpacking": "f(**a, b=1, b=2)\n",
    "two_starred_targets": "*a, *b = c\n",
    "global_after_assignment": "y = 1; global y\n",
    "future_braces": "from __future__ import braces\n",
    "yield_outside_function": "y = (yield)\n",
    "await_in_call_outside_function": "f(await g())\n",
}
if sys.version_info < (3, 12):
    REJECTED_BY_CPYTHON.update(
        {
            "pep695_type_alias": "type X = int\n",
            "pep695_generic_def": "def f[T](x: T) -> T:\n    return x\n",
            "pep701_nested_quotes": "t = f'{x['k']}'\n",
        }
    )


def cpython_error_line(src: str) -> int:
    try:
        compile(src, "<file>", "exec", dont_inherit=True)
    except SyntaxError as err:
        assert err.lineno is not None
        return err.lineno
    raise AssertionError("CPython accepts it")


@pytest.mark.parametrize("size", (1, 3, 10_000))
@pytest.mark.parametrize("name", sorted(REJECTED_BY_CPYTHON))
def test_this_pythons_grammar_decides(name: str, size: int) -> None:
    src = "x0 = 1\n" + REJECTED_BY_CPYTHON[name] + "after = 2\n"
    chunks, error = feed_all(src, size)
    assert [c.start_line for c in chunks] == [1]
    assert error is not None and error.message
    assert error.line == cpython_error_line(src)


@pytest.mark.parametrize(
    ("bad", "line"),
    [("s = '\ud800'\n", 2), ("t = 'a\x00b'\n", 2), ("u = (\n    '\ud800',\n)\n", 3)],
)
def test_characters_python_cannot_compile_are_errors_not_exceptions(bad: str, line: int) -> None:
    for size in (1, 4, 10_000):
        chunks, error = feed_all("x0 = 1\n" + bad + "after = 2\n", size)
        assert [c.start_line for c in chunks] == [1]
        assert error is not None and error.line == line, error


def test_more_text_after_an_error_releases_nothing() -> None:
    detector = BoundaryDetector()
    assert detector.feed("s = u'x' b'y'\n") == []
    assert detector.error is not None and detector.error.line == 1
    assert detector.feed("z = 3\nw = 4\n") == []
    assert detector.end() == []


def test_unexpected_failure_inside_the_detector_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: object, *args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(detector_module.BoundaryDetector, "_on_end", broken)
    detector = BoundaryDetector()
    assert detector.feed("x = 1\ny = 2\n") == []
    assert detector.error is not None and "KeyError" in detector.error.message
    assert detector.end() == []


def test_expression_too_deep_for_this_python_is_an_error_at_its_line() -> None:
    src = "x0 = 1\nx = " + " + ".join(["1"] * 3000) + "\nafter = 2\n"
    chunks, error = feed_all(src, 10_000)
    assert [c.start_line for c in chunks] == [1]
    assert error is not None and error.line == 2


@pytest.mark.parametrize("terms", (800, 2000))
def test_long_expression_this_python_compiles_is_released(terms: int) -> None:
    """Compiling an AST object hits depth limits that compiling the source does not: the
    detector must accept whatever the worker's compile() of the source accepts."""
    src = "x = " + " + ".join(["1"] * terms) + "\n"
    compile(src, "<chunk>", "exec", dont_inherit=True)  # this Python accepts it
    chunks, error = feed_all(src, 10_000)
    assert error is None
    assert [c.start_line for c in chunks] == [1]


def test_plain_simple_statements_are_parsed_but_not_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bytecode compile is skipped only for short chunks of plain statements; anything
    else (here a definition, a comprehension, a long chunk) is still compiled in full."""
    calls: list[str] = []

    def spy(source: str, filename: str, mode: str, flags: int = 0, *args: object) -> object:
        if not flags & ast.PyCF_ONLY_AST:
            calls.append(source)
        return compile(source, filename, mode, flags, *args)  # type: ignore[call-overload]

    monkeypatch.setattr(detector_module, "compile", spy, raising=False)
    plain = "import math\nx = f(1, k=2)[0].y + -3\nprint(f'{x!r}', x < 2 or x)\ndel x\n"
    chunks, error = feed_all(plain, 3)
    assert error is None and len(chunks) == 4
    assert calls == []
    rest = "def g(a):\n    return a\n", "y = [i for i in x]\n", "z = " + "+".join("1" * 600) + "\n"
    chunks, error = feed_all("".join(rest), 7)
    assert error is None and len(chunks) == 3
    assert calls == list(rest)


def test_a_worker_on_another_python_judges_what_this_one_rejects() -> None:
    """The worker runs a newer Python: chunks this one rejects are left unchecked, in order."""
    other = (3, 99)
    chunks, error = feed_all("x = 1\ntype X = int\ny = 2\nz = (\n", 1, version=other)
    assert error is None
    assert [(c.start_line, c.checked) for c in chunks] == [
        (1, True),
        (2, sys.version_info >= (3, 12)),
        (3, True),
        (4, False),
    ]


@pytest.mark.parametrize("size", (1, 7, 64))
def test_buffer_holds_only_the_open_statement(size: int) -> None:
    """Compound statements that follow one another (each released only when the next begins)
    must not keep the whole stream in the buffer."""
    block = "".join(f"if x{i}:\n    y = {i}\nelse:\n    y = 0\n" for i in range(400))
    block += "".join(f"def f{i}(a):\n    return a + {i}\n" for i in range(400))
    detector = BoundaryDetector()
    largest = 0
    released = 0
    for i in range(0, len(block), size):
        released += len(detector.feed(block[i : i + size]))
        largest = max(largest, detector.buffered)
    released += len(detector.end())
    assert detector.error is None and released == 800
    assert largest < 200, largest


def test_indentation_and_tab_errors_are_named_as_python_names_them() -> None:
    """An `if` without its indented block was reported as "SyntaxError: expected an indented
    block…"; Python says IndentationError (a newcomer helper)."""
    d = BoundaryDetector()
    d.feed("a = 1\nif a:\nb = 2\n")
    d.end()
    assert d.error is not None and d.error.line == 3
    assert d.error.text.startswith("IndentationError: expected an indented block")
    d = BoundaryDetector()
    d.feed("x = (\n")
    d.end()
    assert d.error is not None and d.error.text.startswith("SyntaxError: ")
