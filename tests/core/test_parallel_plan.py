"""The parallel gate's admission rule (core/parallel.py): what waits for what, from source.

A plan names the statements to wait for directly; a statement also waits for everything those
waited for. `waits` is that closure, which is what orders execution.
"""

from __future__ import annotations

import ast
import random
import sys
from pathlib import Path

from eager_lsp.core.detector import BoundaryDetector
from eager_lsp.core.parallel import Plan, Planner, conflict


def plans(code: str) -> list[Plan]:
    """As a run plans: from the trees the detector parsed."""
    detector = BoundaryDetector(keep_trees=True)
    chunks = detector.feed(code) + detector.end()
    planner = Planner()
    return [planner.plan(c, detector.take_tree(c.index)) for c in chunks]


def plans_from_source(code: str) -> list[Plan]:
    detector = BoundaryDetector()
    chunks = detector.feed(code) + detector.end()
    planner = Planner()
    return [planner.plan(c) for c in chunks]


def after(code: str) -> list[tuple[int, ...]]:
    return [p.after for p in plans(code)]


def closure(ps: list[Plan]) -> list[tuple[int, ...]]:
    out: list[set[int]] = []
    for p in ps:
        seen = set(p.after)
        for j in p.after:
            seen |= out[j]
        out.append(seen)
    return [tuple(sorted(x)) for x in out]


def waits(code: str) -> list[tuple[int, ...]]:
    return closure(plans(code))


def test_independent_calls_wait_only_for_their_definitions() -> None:
    code = (
        "import time\n"
        "def call(i):\n    time.sleep(0.1)\n    return i * i\n"
        "a = call(1)\nb = call(2)\nc = call(3)\n"
        "total = a + b + c\n"
    )
    assert after(code) == [(), (0,), (0, 1), (0, 1), (0, 1), (2, 3, 4)]


def test_a_reader_waits_for_the_writer_and_a_writer_for_readers() -> None:
    code = "x = 1\ny = 2\nz = x + 1\nx = 5\nprint(y)\n"
    # z reads x (0); x = 5 rewrites x, read by z (2) and written by 0; print(y) reads y (1)
    assert after(code) == [(), (), (0,), (0, 2), (1,)]


def test_changing_an_object_counts_as_writing_its_name() -> None:
    code = "items = []\nitems.append(1)\nitems.append(2)\nn = len(items)\nd = {}\nd['k'] = 1\n"
    assert waits(code) == [(), (0,), (0, 1), (0, 1, 2), (), (4,)]
    assert after(code)[2] == (1,)  # the last writer is enough


def test_aliases_share_writes() -> None:
    code = "a = [1]\nb = a\na.append(2)\nprint(b)\n"
    # a.append changes the object b also names: print(b) waits for it
    assert 2 in after(code)[3]


def test_read_only_methods_do_not_write() -> None:
    code = "s = 'a,b'\nparts = s.split(',')\nup = s.upper()\n"
    assert after(code) == [(), (0,), (0,)]


def test_function_globals_and_parameter_changes_apply_at_the_call() -> None:
    code = (
        "count = 0\n"
        "def bump():\n    global count\n    count += 1\n"
        "bump()\n"
        "print(count)\n"
        "def add(lst, v):\n    lst.append(v)\n"
        "data = []\n"
        "add(data, 1)\n"
        "n = len(data)\n"
    )
    p = after(code)
    assert 2 in p[3]  # print(count) waits for bump()
    assert 5 in p[6] and 6 in p[7]  # add(data, 1) changes data; len(data) waits for it


def test_library_state_keeps_document_order_but_print_does_not() -> None:
    code = "import random\nrandom.seed(1)\nx = random.random()\nprint('a')\nprint('b')\ny = random.random()\n"
    p = waits(code)
    assert p[2] == (0, 1) and p[5] == (0, 1, 2)
    assert p[3] == () and p[4] == ()
    to_stderr = "import sys\nprint('a', file=sys.stderr)\nprint('b', file=sys.stderr)\n"
    assert waits(to_stderr)[2] == (0, 1)


def test_barriers() -> None:
    code = "a = 1\nb = 2\neval('a')\nc = 3\n"
    p = plans(code)
    assert p[2].exclusive and p[2].after == (0, 1)
    assert p[3].after == (2,)
    # a callable the run cannot see (defined by an earlier run) and matplotlib
    assert plans("x = 1\nunknown(2)\n")[1].exclusive
    plot = plans("import matplotlib.pyplot as plt\nx = 1\nplt.plot([x])\n")
    assert plot[2].exclusive and plot[2].after == (0, 1)


def test_time_sleep_and_numpy_run_side_by_side() -> None:
    code = "import time\nimport numpy as np\ntime.sleep(0.1)\na = np.arange(3)\ntime.sleep(0.2)\n"
    p = after(code)
    assert p[2] == (0,) and p[3] == (1,) and p[4] == (0,)


def test_augmented_assignment_changes_the_object_in_place() -> None:
    code = "a = [1]\nb = a\na += [2]\nprint(b)\n"
    assert 2 in after(code)[3]


def test_del_unbinds_the_name() -> None:
    code = "x = 1\ndel x\nprint(x)\n"
    assert waits(code) == [(), (0,), (0, 1)]


def test_the_plan_orders_every_pair_the_pairwise_rule_orders() -> None:
    """Waiting for last writers and readers since is enough: over the property test's random
    programs, every pair of statements that conflict (`conflict`, the rule stated pairwise)
    is ordered by the closure of the plans."""
    sys.path.insert(0, str(Path(__file__).parents[2]))
    from tests.core.test_parallel_property import random_program

    for seed in range(30):
        ps = plans(random_program(random.Random(seed)))
        ordered = closure(ps)
        for i, p in enumerate(ps):
            for j in range(i):
                if conflict(p.effects, ps[j].effects):
                    assert j in ordered[i], (seed, i, j)


def test_planning_the_detectors_tree_is_planning_the_source() -> None:
    """The planner reads the tree the detector parsed (and changes nothing in it): the same
    plans as parsing each chunk again, over the bench workloads and random programs."""
    sys.path.insert(0, str(Path(__file__).parents[2]))
    from tests.core.test_parallel_property import WORKLOADS, random_program

    programs = [p.read_text() for p in sorted(WORKLOADS.glob("*.py"))]
    programs += [random_program(random.Random(seed)) for seed in range(30)]
    for code in programs:
        detector = BoundaryDetector(keep_trees=True)
        chunks = detector.feed(code) + detector.end()
        trees = [detector.take_tree(c.index) for c in chunks]
        assert all(t is not None for t in trees)
        dumps = [ast.dump(t) for t in trees if t is not None]
        planner = Planner()
        with_trees = [planner.plan(c, t) for c, t in zip(chunks, trees, strict=True)]
        expected = plans_from_source(code)
        assert [(p.after, p.exclusive, p.speculative) for p in with_trees] == [
            (p.after, p.exclusive, p.speculative) for p in expected
        ]
        assert [ast.dump(t) for t in trees if t is not None] == dumps


def test_a_tree_is_kept_only_when_asked_and_taken_once() -> None:
    detector = BoundaryDetector(keep_trees=True)
    [chunk] = detector.feed("x = 1\ny")
    assert isinstance(detector.take_tree(chunk.index), ast.Module)
    assert detector.take_tree(chunk.index) is None
    plain = BoundaryDetector()
    [chunk] = plain.feed("x = 1\ny")
    assert plain.take_tree(chunk.index) is None


def test_planning_cost_does_not_grow_with_the_run() -> None:
    """Each plan looks at its own names, not at every earlier statement: the wait lists of a
    long run stay short."""
    code = "L = []\n" + "".join(
        f"v{i} = {i}\nL.append(v{i})\n" if i % 5 == 0 else f"v{i} = v{i - 1} + 1\n"
        for i in range(1, 1500)
    )
    ps = plans(code)
    assert max(len(p.after) for p in ps) <= 8  # 6 here, whatever the length


def test_ending_the_process_waits_for_everything_before() -> None:
    code = "import os\nimport time\ntime.sleep(0.1)\nx = 1\nos._exit(3)\n"
    p = plans(code)
    assert p[4].exclusive and waits(code)[4] == (0, 1, 2, 3)


def test_only_statements_that_just_bind_names_are_speculative() -> None:
    code = (
        "import time\n"  # an import: ordered
        "def api(n):\n    time.sleep(0.1)\n    return n\n"
        "a = api(1)\n"
        "print(a)\n"
        "items = []\n"
        "items.append(a)\n"  # changes an object
        "open('f.txt', 'w').write('x')\n"  # a file
        "count = 0\n"
        "def bump():\n    global count\n    count += 1\n"
        "b = bump()\n"  # a global written by the function
    )
    assert [p.speculative for p in plans(code)] == [
        False, True, True, True, True, False, False, True, True, False,
    ]  # fmt: skip


def test_nothing_runs_ahead_of_a_statement_that_may_not_end() -> None:
    code = (
        "n = 0\n"
        "while n < 10:\n    n += 1\n"
        "x = 1\n"
        "def spin():\n    while True:\n        pass\n"
        "y = spin()\n"
        "z = 2\n"
    )
    ps = plans(code)
    assert 1 in ps[2].after  # x waits for the loop
    assert ps[4].effects.loops and 4 in ps[5].after  # z waits for the call of spin()


def test_iterating_a_literal_advances_nothing_an_iterator_is_written() -> None:
    code = "data = [3, 1, 2]\nit = iter(data)\nm = max(data)\nn = next(it)\nk = sum(data)\n"
    ps = plans(code)
    assert "data" not in ps[2].effects.writes and ps[2].speculative
    assert "it" in ps[3].effects.writes and not ps[3].speculative
    assert "data" not in ps[4].effects.writes


def test_only_statements_that_may_wait_are_worth_a_thread() -> None:
    """`Plan.waits`: the statement may wait with the GIL released (core/run.py runs the
    others in order when nothing is on a thread). Calls through user functions count,
    transitively; a method of an object of unknown type may be a client's request."""
    code = (
        "import time\nimport math\nimport random\nimport numpy as np\nimport requests\n"
        "def api(n):\n    time.sleep(0.4)\n    return n\n"  # 5
        "def crunch(n):\n    out = []\n    for i in range(n):\n        out.append(math.sqrt(i))\n"
        "    return sum(out)\n"  # 6
        "def outer(n):\n    return api(n) + 1\n"  # 7
        "a = api(1)\n"  # 8
        "b = crunch(10)\n"  # 9
        "c = outer(2)\n"  # 10
        "d = [random.random() for _ in range(3)]\n"  # 11
        "e = np.arange(3).sum()\n"  # 12
        "r = requests.get('http://x')\n"  # 13
        "words = 'a b'.split()\n"  # 14
        "words.append('c')\n"  # 15
        "body = r.json()\n"  # 16
        "with open('f.txt') as fh:\n    text = fh.read()\n"  # 17
        "data = {'k': 1}\n"  # 18
        "v = data.get('k')\n"  # 19
        "total = a + b + c\n"  # 20
        "print(total, len(words))\n"  # 21
        "n = input()\n"  # 22
    )
    waits = [p.waits for p in plans(code)]
    assert [i for i, w in enumerate(waits) if w] == [8, 10, 12, 13, 16, 17, 22]
