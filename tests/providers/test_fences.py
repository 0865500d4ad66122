"""The fence filter: code out, fences and chat prose dropped, independent of piece sizes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eager_lsp.providers.fences import CodeFenceFilter, looks_like_prose


def run(text: str, size: int | None = None) -> str:
    f = CodeFenceFilter()
    if size is None:
        return f.feed(text) + f.end()
    out = "".join(f.feed(text[i : i + size]) for i in range(0, len(text), size))
    return out + f.end()


def run_pieces(pieces: list[str]) -> str:
    f = CodeFenceFilter()
    return "".join(f.feed(p) for p in pieces) + f.end()


CODE = "import math\n\ndef area(r):\n    return math.pi * r ** 2\n\nprint(area(2))\n"

CASES = [
    # (model output, expected code)
    (CODE, CODE),
    (f"```python\n{CODE}```\n", CODE),
    (f"```\n{CODE}```", CODE),
    (f"```py\n{CODE}```\nThis prints the area.\n", CODE),
    (f"Here is the code:\n\n```python\n{CODE}```\n\nIt uses math.pi.\n", CODE),
    (f"Sure! Here's a solution.\nIt computes an area.\n```python\n{CODE}```\nDone.", CODE),
    (f"{CODE}```\nExplanation after a stray fence.\n", CODE),
    (f"\n\n```python\n{CODE}```\n", CODE),
    ("```python\nx = 1\n", "x = 1\n"),  # unterminated fence: everything inside
    ("```python\n", ""),
    ("x = 1", "x = 1"),  # no newline at all
    ("", ""),
    ("    return x\n", "    return x\n"),  # indented continuation is code
    ("# a comment first\nx = 1\n", "# a comment first\nx = 1\n"),
    ("Only prose, no code.", "Only prose, no code."),  # no fence: passed through
    ("```python\ns = '''\n``` inside\n'''\n```\nafter", "s = '''\n``` inside\n'''\n"),
    ("```python\nx = 1\n```python\ny = 2\n```\n", "x = 1\n```python\ny = 2\n"),
    ("```python\r\nx = 1\r\n```\r\nbye", "x = 1\r\n"),
    ("Here it is:\nimport os\nprint(os.sep)\n", "Here it is:\nimport os\nprint(os.sep)\n"),
    ("  ```python\nx = 1\n  ```\n", "x = 1\n"),
    ("```python\nx = '`'\ny = 2\n``", "x = '`'\ny = 2\n``"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
@pytest.mark.parametrize("size", [None, 1, 2, 3, 7])
def test_cases(text: str, expected: str, size: int | None) -> None:
    assert run(text, size) == expected


def test_emits_code_as_soon_as_it_arrives_inside_a_fence() -> None:
    f = CodeFenceFilter()
    assert f.feed("```python\n") == ""
    assert f.feed("pri") == "pri"  # not held: cannot be a fence any more
    assert f.feed("nt(1)\n") == "nt(1)\n"
    assert f.feed("  ") == ""  # a line start could still become the closing fence
    assert f.feed("  x") == "    x"
    assert f.feed("\n``") == "\n"
    assert f.feed("`\nprose") == ""
    assert f.done
    assert f.feed("more") == ""
    assert f.end() == ""


def test_plain_code_passes_after_its_first_line() -> None:
    f = CodeFenceFilter()
    assert f.feed("import os") == ""  # the first line decides: held until complete
    assert f.feed("\nprint(") == "import os\nprint("
    assert f.feed("os.sep)\n") == "os.sep)\n"


def test_prose_is_held_until_a_fence_proves_it_is_prose() -> None:
    f = CodeFenceFilter()
    assert f.feed("Here is the code:\n") == ""
    assert f.feed("```python\nx = 1\n") == "x = 1\n"


@pytest.mark.parametrize(
    "line",
    [
        "Here is the code:",
        "Sure! Here's a function that adds two numbers.",
        "To solve this, we can use a loop.",
        "I'll write it step by step:",
        "1. First, read the file.",
    ],
)
def test_prose_lines(line: str) -> None:
    assert looks_like_prose(line)


@pytest.mark.parametrize(
    "line",
    [
        "import os",
        "def f(x):",
        "x = (1,",
        "print('hi')",
        "return x",
        "    else:",
        "@decorator",
        "# comment",
        "s = '''doc",
        "for i in range(3): print(i)",
        "await asyncio.sleep(1)",
        "break",
    ],
)
def test_code_lines(line: str) -> None:
    assert not looks_like_prose(line)


# -- properties -------------------------------------------------------------------------------

lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "x = 1",
                "print(x)",
                "",
                "    y = 2",
                "```",
                "```python",
                "Here is the code:",
                "`",
                "``",
                "  ```",
                "def f():",
                "Done.",
                "a = '```'",
            ]
        ),
        st.text(alphabet="ab `\t:#(\n", max_size=12),
    ),
    max_size=12,
)


@st.composite
def text_and_cuts(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "\n".join(draw(lines)) + draw(st.sampled_from(["", "\n"]))
    cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=len(text)), max_size=20)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=400, deadline=None)
@given(text_and_cuts())
def test_any_split_gives_the_same_output(case: tuple[str, list[str]]) -> None:
    text, pieces = case
    assert run_pieces(pieces) == run(text)
    assert run(text, 1) == run(text)


code_lines = st.lists(
    st.sampled_from(["x = 1", "print(x)", "", "    y = 2", "def f():", "# c", "s = 'a`b'"]),
    min_size=1,
    max_size=10,
)


@settings(max_examples=200, deadline=None)
@given(code_lines, st.integers(min_value=1, max_value=9))
def test_plain_python_passes_through_unchanged(ls: list[str], size: int) -> None:
    text = "\n".join(ls) + "\n"
    assert run(text, size) == text


@settings(max_examples=200, deadline=None)
@given(code_lines, st.sampled_from(["", "Here is the code:\n", "Sure!\n\n"]), st.integers(1, 9))
def test_fenced_code_is_extracted(ls: list[str], preamble: str, size: int) -> None:
    code = "\n".join(ls) + "\n"
    text = f"{preamble}```python\n{code}```\nThis code does things.\n```\nmore\n```\n"
    assert run(text, size) == code
