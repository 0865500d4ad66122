"""(A review of the withdraw, lsp/execution.py `withdraw_edited`: each case seen failing
before its fix.) execution.backend = "kernel": the kernel runs every statement of the batch it was sent
(documented). Does the user get told the truth?"""

from __future__ import annotations

from pathlib import Path

import pytest

from eager_lsp.lsp import methods

from .conftest import Editor

pytest.importorskip("ipykernel")

KERNEL = {"execution": {"backend": "kernel", "kernel": {"name": "python3"}}}

SCRIPT = """\
import os, time
for i in range(1):
    open({mark!r}, "w").close()
    while not os.path.exists({go!r}):
        time.sleep(0.02)
open({side!r}, "w").write("ran")
print("after")
"""


@pytest.mark.settings(KERNEL)
async def test_a_kernel_run_does_not_say_what_it_ran_did_not_run(
    editor: Editor, tmp_path: Path
) -> None:
    go, side, mark = tmp_path / "go", tmp_path / "side", tmp_path / "mark"
    uri = editor.open("k.py", SCRIPT.format(go=str(go), side=str(side), mark=str(mark)), tmp_path)
    await editor.command(methods.RUN_DOCUMENT, uri=uri)
    await editor.wait_for(mark.exists, "the loop to run")
    editor.replace(uri, (5, 0), (6, 0), "")  # the user deletes the write
    await editor.hint_labels(uri)
    go.touch()
    summary = await editor.summary(uri)
    said = [m for m in editor.messages() if "before it ran" in m]
    results = editor.notes_for(methods.CHUNK_RESULT, uri)
    print("SUMMARY", summary)
    print("SAID", said, "SIDE", side.exists())
    print(
        "RESULTS", [(r["chunk"]["startLine"], r.get("skipped"), r.get("stdout")) for r in results]
    )
    labels = await editor.hint_labels(uri)
    print("LABELS", labels)
    if said:
        assert not side.exists(), "told 'it and what follows did not run', but the write ran"
        assert not any(r.get("stdout") == "after\n" for r in results), "and what follows ran"
