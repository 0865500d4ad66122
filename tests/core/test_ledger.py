"""The ledger (core/ledger.py) and the dependency plan (core/dependencies.py), driven
directly: no interpreter needed, the records are built from real detector chunks."""

from __future__ import annotations

from eager_lsp.core.dependencies import effects, plan, writes_of, writes_of_code
from eager_lsp.core.ledger import FAILED, INTERRUPTED, OK, SKIPPED, Ledger, code_key
from eager_lsp.core.rerun import padded, statements
from eager_lsp.core.types import ChunkResult, ErrorInfo


def ran(
    ledger: Ledger,
    text: str,
    *,
    fail: set[int] = frozenset(),
    skip: set[int] = frozenset(),
    secs: float = 0.5,
) -> None:  # type: ignore[assignment]
    """Record every statement of `text` as run (line numbers of `fail` failed)."""
    chunks, _ = statements(text)
    log = ledger.open_run()
    for c in chunks:
        if c.start_line in skip:
            result = ChunkResult(chunk=c, ok=False, skipped=True)
        elif c.start_line in fail:
            err = ErrorInfo(type="ValueError", message="no", line=c.start_line)
            result = ChunkResult(chunk=c, ok=False, error=err, exec_start=1.0, exec_end=1.0 + secs)
        else:
            result = ChunkResult(chunk=c, ok=True, exec_start=1.0, exec_end=1.0 + secs)
        ledger.record(result, log)


SCRIPT = "import math\ndata = [1, 2, 3]\ntotal = sum(data)\nroot = math.sqrt(total)\nlabel = 'x'\nshout = label.upper()\n"


def test_records_hash_lines_names_status_and_duration() -> None:
    ledger = Ledger()
    ran(ledger, SCRIPT, fail={4})
    recs = ledger.records
    assert [(r.start_line, r.end_line) for r in recs] == [(i, i) for i in range(1, 7)]
    assert recs[1].binds == ("data",) and recs[2].reads == ("sum", "data")
    assert recs[2].key == code_key("total = sum(data)\n")
    assert [r.status for r in recs] == [OK, OK, OK, FAILED, OK, OK]
    assert recs[3].attempted and recs[3].failed
    assert ledger.attempted(4, 4) and ledger.attempted(2, 2, "data = [1, 2, 3]\n")
    assert not ledger.attempted(2, 2, "data = [9]\n")
    assert abs(ledger.rebuild_estimate() - 3.0) < 1e-9


def test_interrupt_and_skip_statuses_and_a_skip_keeps_the_earlier_record() -> None:
    ledger = Ledger()
    ran(ledger, "a = 1\nb = 2\n")
    chunks, _ = statements("a = 1\nb = 2\n")
    stop = ErrorInfo(type="KeyboardInterrupt", message="", line=1)
    ledger.record(ChunkResult(chunk=chunks[0], ok=False, error=stop))
    assert ledger.records[0].status == INTERRUPTED and ledger.records[0].attempted
    ledger.record(ChunkResult(chunk=chunks[1], ok=False, skipped=True))
    assert ledger.records[1].status == OK  # never ran: the namespace still has b = 2
    ran(ledger, "c = 3\n", skip={1})
    assert ledger.records[0].status == SKIPPED and not ledger.records[0].attempted


def test_a_run_reads_its_results_from_its_log_and_the_first_result_wins() -> None:
    ledger = Ledger()
    chunks, _ = statements("a = 1\n")
    log = ledger.open_run()
    first = ChunkResult(chunk=chunks[0], ok=True)
    assert ledger.record(first, log) is not None
    assert ledger.record(ChunkResult(chunk=chunks[0], ok=False, skipped=True), log) is None
    assert log.results == {0: first}


def test_match_pairs_statements_by_text_in_order_whatever_their_lines() -> None:
    ledger = Ledger()
    ran(ledger, "a = 1\nb = 2\nc = 3\n")
    chunks, _ = statements("# new line\na = 1\nb = 20\nc = 3\nd = 4\n")
    got = [None if r is None else r.binds for r in ledger.match(chunks)]
    assert got == [("a",), None, ("c",), None]


def test_writes_attribute_subscript_method_calls_and_del() -> None:
    chunks, _ = statements(
        "x.a = 1\ny[0] += 2\nz.append(3)\ndel w[1]\ndel v\nnp.sum(q)\nimport numpy as np\n"
    )
    # `sum` only reads, whatever the object (the parallel gate's analysis, shared)
    assert [writes_of(c) for c in chunks[:6]] == [("x",), ("y",), ("z",), ("w",), ("v",), ()]
    assert writes_of(chunks[6]) == ()
    numpy = (("np", "numpy"),)
    assert effects("np.copyto(r, 1)\n", numpy).writes == frozenset({"r"})
    assert effects("np.add(a, b, out=c)\n", numpy).writes == frozenset({"c"})
    assert effects("np.sum(q)\n", numpy).writes == frozenset()
    assert effects("obj.s = s\nobj.s.append(1)\n").writes == frozenset({"obj", "s"})
    assert effects("def f():\n    g.append(1)\n").writes == frozenset()  # runs when called
    ledger = Ledger()
    ran(ledger, "x = []\nx.append(1)\n")
    assert [writes_of_code(r.code) for r in ledger.records] == [(), ("x",)]


def first_plan(old: str, new: str, **kw):  # type: ignore[no-untyped-def]
    ledger = Ledger()
    ran(ledger, old, **kw)
    chunks, _ = statements(new)
    return plan(ledger.records, chunks), chunks


def lines(chunks) -> list[int]:  # type: ignore[no-untyped-def]
    return [c.start_line for c in chunks]


def test_editing_a_late_statement_reruns_only_it() -> None:
    p, _ = first_plan(SCRIPT, SCRIPT.replace("label = 'x'", "label = 'y'"))
    assert not p.full and lines(p.run) == [5, 6]
    assert p.why[p.run[0].start_line] == "changed" and p.why[p.run[1].start_line] == "reads `label`"
    assert p.forget == ["label", "shout"]


def test_editing_the_load_step_reruns_its_dependents_transitively() -> None:
    p, _ = first_plan(SCRIPT, SCRIPT.replace("[1, 2, 3]", "[4, 5]"))
    assert lines(p.run) == [2, 3, 4]


def test_unchanged_statements_that_moved_are_kept_not_rerun() -> None:
    p, _ = first_plan(SCRIPT, "# a comment\n\n" + SCRIPT)
    assert p.nothing and len(p.kept) == 6
    assert [c.start_line for _, c in p.kept] == [3, 4, 5, 6, 7, 8]


def test_a_deleted_statement_forgets_its_names_and_reruns_its_readers() -> None:
    p, _ = first_plan(SCRIPT, SCRIPT.replace("label = 'x'\n", ""))
    assert p.forget == ["label", "shout"] and lines(p.run) == [5]
    assert [r.binds for r in p.removed] == [("label",)]


def test_an_earlier_binder_of_a_changed_name_reruns_too() -> None:
    old = "y = 1\nz = y\ny = 2\n"
    p, _ = first_plan(old, "y = 1\nz = y\ny = 3\n")
    assert lines(p.run) == [1, 2, 3]  # all of them touch `y`


def test_method_calls_and_functions_that_mutate_count_as_writes() -> None:
    old = "acc = []\ndef push(v):\n    acc.append(v)\npush(1)\nn = len(acc)\nk = 5\n"
    p, _ = first_plan(old, old.replace("push(1)", "push(2)"))
    assert lines(p.run) == [1, 2, 4, 5]  # the call writes acc: acc is rebuilt, n re-read
    p, _ = first_plan(
        "acc = []\nacc.append(1)\nn = len(acc)\nk = 5\n",
        "acc = []\nacc.append(2)\nn = len(acc)\nk = 5\n",
    )
    assert lines(p.run) == [1, 2, 3]


def test_a_call_that_reaches_a_name_through_a_function_says_so() -> None:
    """The call re-runs because the function it calls uses `acc` (and may change it); the
    reason shown is that, not "writes `acc`", which the line itself does not."""
    old = "acc = []\ndef push(v):\n    acc.append(v)\npush(1)\n"
    p, _ = first_plan(old, old.replace("acc = []", "acc = [0]"))
    assert lines(p.run) == [1, 2, 4]
    assert p.why[4] == "calls `push`, which uses `acc`", p.why


def test_modules_are_not_written_by_calls_on_them() -> None:
    p, _ = first_plan(SCRIPT, SCRIPT.replace("sum(data)", "sum(data) + 1"))
    assert lines(p.run) == [3, 4]  # math.sqrt(total) does not make `math` dirty


def test_consuming_an_iterator_writes_it_a_list_is_not_advanced() -> None:
    """`sum(data)` advances `data` when it is an iterator: a re-run of that line alone would
    find it consumed, so the line that binds it re-runs first. A list is not advanced."""
    script = SCRIPT.replace("[1, 2, 3]", "iter([1, 2, 3])")
    p, _ = first_plan(script, script.replace("sum(data)", "sum(data) + 1"))
    assert lines(p.run) == [2, 3, 4] and p.why[2] == "binds `data`"


def test_what_the_graph_cannot_follow_is_a_full_rebuild_with_the_reason() -> None:
    for code, why in [
        ("exec('q = 1')\n", "`exec()`"),
        ("g = globals()\n", "`globals()`"),
        ("from os.path import *\n", "star import"),
        ("def f():\n    global a\n    a = 2\n", "`global`"),
    ]:
        p, _ = first_plan(SCRIPT, SCRIPT + code)
        assert p.full and why in p.reason and "line 7" in p.reason, (code, p.reason)


def test_skipped_statements_run_and_an_unchanged_failure_halts() -> None:
    old = "a = 1\nb = a / 0\nc = 3\nd = c\n"
    p, _ = first_plan(old, old, fail={2}, skip={3, 4})
    assert lines(p.run) == [] and p.halted_at is not None and p.halted_at.start_line == 2
    p, _ = first_plan(old, old.replace("a / 0", "a / 1"), fail={2}, skip={3, 4})
    assert lines(p.run) == [2, 3, 4]


def test_padded_text_keeps_line_numbers() -> None:
    chunks, _ = statements("a = 1\nif a:\n    b = 2\nc = 3\n")
    assert padded("a = 1\nif a:\n    b = 2\nc = 3\n", [chunks[1]]) == "\nif a:\n    b = 2\n\n"


def test_a_statement_edited_back_to_its_text_is_the_one_that_ran() -> None:
    ledger = Ledger()
    ran(ledger, "a = 1\nb = a\n")
    chunks, _ = statements("a = 1\nb = a\n")
    assert plan(ledger.records, chunks).nothing


def test_after_a_fix_only_the_statements_below_that_depend_on_it_run() -> None:
    ledger = Ledger()
    old = "a = 1\nb = a / 0\nc = 3\nd = b + c\ne = a\n"
    ran(ledger, old, fail={2})
    since = ledger.seq
    new = old.replace("a / 0", "a / 1")
    ran(ledger, "\nb = a / 1\n")  # the fix's stream ran the replaced statement
    chunks, _ = statements(new)
    p = plan(ledger.records, chunks, fresh_since=since)
    assert lines(p.run) == [4]  # d reads b; a, the fix itself, c and e stay
    assert p.forget == ["d"]
