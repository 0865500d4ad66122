"""`eager-lsp watch FILE`, as a user runs it: a real process and a real worker; the test
writes the file the way an editor or an agent saves it and reads what the command prints."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """\
import time
time.sleep(0.3)
data = [3, 1, 2]
total = sum(data)
label = "sum"
print(label, total)
biggest = max(data)
"""


class Watch:
    def __init__(self, path: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eager_lsp", "watch", str(path), "--interval", "0.05", *extra],
            cwd=path.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, pred: Any, timeout: float = 60.0) -> list[str]:
        """Lines up to and including the first one `pred` accepts."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out; saw {seen}") from None
            seen.append(line)
            if pred(line):
                return seen

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def save(path: Path, text: str) -> None:
    """Write the way editors do: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_watch_prints_what_reran_and_why(tmp_path: Path) -> None:
    path = tmp_path / "job.py"
    path.write_text(SCRIPT, encoding="utf-8")
    w = Watch(path)
    try:
        first = w.until(lambda line: line.startswith("ran "))
        assert first[0].startswith("watching ")
        assert "ran 7 of 7 statements" in first[-1]
        assert any(line.startswith("L5") and "label = 'sum'" in line for line in first)
        save(path, SCRIPT.replace('"sum"', '"total"'))
        second = w.until(lambda line: line.startswith("re-ran "))
        ran = [line.split()[0] for line in second if line.startswith("L")]
        assert ran == ["L5", "L6"], second
        assert any("reads `label`" in line for line in second)
        assert any("out| total 6" in line for line in second)
        assert "re-ran 2 of 7 statements" in second[-1]
        # the estimate is what the first run took: at least the 0.3 s sleep, more on a busy machine
        estimate = re.search(r"a full rebuild would take ≈([\d.]+) s", second[-1])
        assert estimate is not None and float(estimate.group(1)) >= 0.3, second[-1]
    finally:
        assert w.stop() in (0, 130)


def test_a_save_while_a_statement_runs_stops_it_and_runs_the_new_text(tmp_path: Path) -> None:
    """A runaway loop: watch awaited each round before looking at the file again, so no save
    could fix it (a newcomer helper). The save now interrupts the loop and runs the new
    text in the same interpreter (`a` kept)."""
    path = tmp_path / "loop.py"
    path.write_text("a = 1\nwhile True:\n    pass\n", encoding="utf-8")
    w = Watch(path)
    try:
        w.until(lambda line: line.startswith("L1") and "a = 1" in line)
        time.sleep(0.5)  # the loop is running
        save(path, "a = 1\nb = a + 1\n")
        seen = w.until(lambda line: line.startswith("re-ran "))
        assert any("changed while it ran: stopping that run" in line for line in seen), seen
        assert any(line.startswith("L2-3") and "KeyboardInterrupt" in line for line in seen)
        assert any(line.startswith("L2") and "b = 2" in line for line in seen), seen
    finally:
        assert w.stop() in (0, 130)


def test_ctrl_c_while_a_round_is_being_stopped_ends_the_watch(tmp_path: Path) -> None:
    """A loop that ignores SIGINT takes the whole interrupt grace to stop; a Ctrl-C in that
    time was swallowed with the round's own cancellation and the watch hung (a reviewing
    helper)."""
    path = tmp_path / "stubborn.py"
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
    path.write_text(loop, encoding="utf-8")
    w = Watch(path)
    try:
        w.until(lambda line: line.startswith("L2"))
        time.sleep(0.3)  # the loop is running
        save(path, "x = 1\n")
        w.until(lambda line: "changed while it ran" in line)
    finally:
        assert w.stop() in (0, 130)  # one Ctrl-C, within its 30 s


def test_watch_into_a_reader_that_leaves_ends(tmp_path: Path) -> None:
    """`watch f.py | head -2`: the round's BrokenPipeError was held in its task until the next
    save, and the watch polled on for good (a reviewing helper). It ends with 141 now."""
    path = tmp_path / "many.py"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(200)), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "eager_lsp", "watch", str(path), "--interval", "0.05"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    try:
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert code == 141 and "Traceback" not in err, err


def test_watch_json_one_object_per_statement_and_deleted_names_go(tmp_path: Path) -> None:
    path = tmp_path / "job.py"
    path.write_text("a = 2\nb = a * 10\nc = 7\n", encoding="utf-8")
    w = Watch(path, "--json")
    try:
        first = [json.loads(line) for line in w.until(lambda line: '"round"' in line)]
        assert [o["start_line"] for o in first if o["event"] == "statement"] == [1, 2, 3]
        probe = "try:\n    print(b)\nexcept NameError:\n    print('no b')\n"
        save(path, "a = 3\nb = a * 10\nc = 7\n" + probe)
        objs = [json.loads(line) for line in w.until(lambda line: '"round"' in line)]
        stmts = [o for o in objs if o["event"] == "statement"]
        assert [(o["start_line"], o["why"]) for o in stmts] == [
            (1, "changed"),
            (2, "reads `a`"),
            (4, "new"),
        ]
        assert stmts[2]["stdout"] == "30\n"
        assert stmts[1]["values"] == {"b": "30"} and stmts[1]["ok"] is True
        assert objs[-1]["ran"] == 3 and objs[-1]["total"] == 4 and not objs[-1]["full"]
        # b's statement deleted: b leaves the namespace, its reader re-runs
        save(path, "a = 3\nc = 7\n" + probe)
        objs = [json.loads(line) for line in w.until(lambda line: '"round"' in line)]
        stmts = [o for o in objs if o["event"] == "statement"]
        assert objs[-1]["forgot"] == ["b"]
        assert [(o["start_line"], o["why"]) for o in stmts] == [(3, "reads `b`")]
        assert stmts[-1]["stdout"] == "no b\n"
        # exec hides what it binds: a full rebuild, and the status says why
        save(path, "a = 3\nexec('c = 8')\n")
        objs = [json.loads(line) for line in w.until(lambda line: '"round"' in line)]
        assert objs[-1]["full"] and "`exec()`" in objs[-1]["status"]
    finally:
        assert w.stop() in (0, 130)


def test_watch_waits_out_an_unreadable_save(tmp_path: Path) -> None:
    path = tmp_path / "job.py"
    path.write_text("a = 1\n", encoding="utf-8")
    w = Watch(path)
    try:
        w.until(lambda line: line.startswith("ran "))
        path.write_bytes(b"a = '\xff'\n")
        w.until(lambda line: "not valid UTF-8" in line)
        save(path, "a = 5\n")
        lines = w.until(lambda line: line.startswith("re-ran "))
        assert any("a = 5" in line for line in lines)
    finally:
        assert w.stop() in (0, 130)


def test_watch_notices_a_replace_that_keeps_size_and_mtime(tmp_path: Path) -> None:
    """A tool that restores the modification time (rsync -t, a checkout) and keeps the size:
    watch polled mtime and size only, and ran nothing."""
    path = tmp_path / "job.py"
    path.write_text("a = 1\n", encoding="utf-8")
    w = Watch(path)
    try:
        w.until(lambda line: line.startswith("ran "))
        before = os.stat(path)
        save(path, "a = 7\n")  # the same size
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        lines = w.until(lambda line: line.startswith("re-ran "))
        assert any("a = 7" in line for line in lines), lines
    finally:
        assert w.stop() in (0, 130)


def test_an_error_without_a_message_is_named_as_everywhere_else() -> None:
    """`raise ValueError()`: "ValueError at line 2", not "ValueError: at line 2" (the error
    text is ErrorInfo.text, as on every other edge)."""
    import io

    from eager_lsp.cli.watch import WatchPrinter
    from eager_lsp.core.types import Chunk, ChunkResult, ErrorInfo

    chunk = Chunk(1, 2, 2, "raise ValueError()\n", 0, 0.0, "simple")
    result = ChunkResult(chunk, ok=False, error=ErrorInfo("ValueError", "", 2))
    for as_json in (False, True):
        out = io.StringIO()
        WatchPrinter(out, as_json=as_json).statement(result)
        text = out.getvalue()
        assert "ValueError: " not in text, text
        assert (
            ("ValueError at line 2" in text) if not as_json else ('"error": "ValueError"' in text)
        )


def test_watch_prints_a_running_statements_output_while_it_runs(tmp_path: Path) -> None:
    """The first tick is printed (under "running…") while the loop still runs: the line that
    ends the round has not come yet, and no tick is printed twice."""
    path = tmp_path / "loop.py"
    loop = (
        "import time\nfor i in range(4):\n    print('tick', i, flush=True)\n    time.sleep(0.6)\n"
    )
    path.write_text(loop, encoding="utf-8")
    w = Watch(path)
    try:
        early = w.until(lambda line: "out| tick 0" in line)
        assert any(line.startswith("L2-4") and line.endswith("running…") for line in early)
        rest = w.until(lambda line: line.startswith("ran "))
        assert not any("tick 0" in line for line in rest), rest
        assert sum("out| tick 3" in line for line in rest) == 1, rest  # live or after: once
    finally:
        assert w.stop() in (0, 130)
