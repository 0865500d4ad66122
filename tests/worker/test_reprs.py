"""The repr rules in-process (fast); the deadline is tested through a worker."""

from __future__ import annotations

import collections

from eager_lsp.executors.worker.reprs import MAX_ITEMS, describe


def test_builtins() -> None:
    assert describe("t", (1,))["repr"] == "(1,)"
    assert describe("s", set())["repr"] == "set()"
    assert describe("b", b"ab")["repr"] == "b'ab'"
    assert describe("n", None)["repr"] == "None"
    big = describe("i", 10**5000)
    assert big["repr"].startswith("<int with") and big["type"] == "int"


def test_caps() -> None:
    many = describe("m", {i: "v" * 50 for i in range(1000)})
    assert len(many["repr"]) <= 1000 and many["summary"] == "dict[1000]"
    assert many["repr"].count(": ") <= MAX_ITEMS
    cyclic: dict = {}
    cyclic["self"] = cyclic
    assert describe("c", cyclic)["repr"] == "{'self': {...}}"
    multiline = describe("q", collections.Counter("aab"))
    assert "\n" not in multiline["summary"]


def test_summary_is_one_short_line() -> None:
    class Multi:
        def __repr__(self) -> str:
            return "line one\nline two"

    value = describe("m", Multi())
    assert value["repr"] == "line one\nline two"
    assert value["summary"] == "line one…"
    assert len(describe("s", "y" * 500)["summary"]) <= 80


def test_broken_len_and_instances() -> None:
    class Empty:
        pass

    assert (
        describe("e", Empty())["repr"].startswith("<")
        and "Empty object" in describe("e", Empty())["repr"]
    )

    class Node:
        def __init__(self) -> None:
            self.next = self

    assert describe("n", Node())["repr"] == "Node(next=Node(...))"
