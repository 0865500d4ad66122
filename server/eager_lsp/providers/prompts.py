"""Chat messages for generating and repairing code that runs while it is being written.

The system prompt asks for exactly what the eager runner can use: bare Python (no fences or
prose), written as top-level statements that can run one by one as they arrive, printing
results instead of leaving them in a final expression of a long function.

The worked example is sent only when the file is empty: with text in the file, small models
pasted the example into the user's file before answering, and the file's own code already
shows them the style. Repair prompts carry no example at all, only the user's task and the
runtime facts (app/repair.py builds them).
"""

from __future__ import annotations

from typing import Any

MAX_BEFORE = 6000  # characters of the document before the insertion point
MAX_AFTER = 2000  # characters after it
MAX_TRACEBACK = 4000

CURSOR = "<<<INSERT HERE>>>"

SYSTEM_GENERATE = """\
You write Python that is executed statement by statement while you are still writing it.
Rules:
- Reply with plain Python source only. No Markdown, no ``` fences, no explanations before \
or after the code. Comments are fine.
- Your text is inserted into the user's file at the marked insertion point; continue from \
there and do not repeat code that is already in the file.
- Write top-level statements that can run as soon as each one is complete: imports first, \
then small steps, each doing real work. Do not wrap the program in a main() function; \
define a function only when it is reused, right before its first use.
- No `if __name__ == "__main__":` guard: code under it would only run at the very end.
- Show results with print(); keep output short.
- Do not wait for input, start servers, or loop forever."""

# One worked exchange in the wanted style: small models copy an example far more reliably
# than they follow rules (without it the bundled 0.5B model wraps everything in main()).
EXAMPLE_TASK = "Task: Print the mean of some numbers and the even ones among them."
EXAMPLE_ANSWER = """import statistics
data = [3, 1, 4, 1, 5, 9, 2, 6]
print("mean:", statistics.mean(data))
evens = [x for x in data if x % 2 == 0]
print("evens:", evens)
"""

# Small local models follow the user turn more than the system prompt: repeat the key rule.
STYLE_REMINDER = (
    "Write flat top-level statements that each run on their own, with no main() function "
    "and no `if __name__` guard."
)

SYSTEM_REPAIR = """\
You write Python that is executed statement by statement while you are still writing it.
A statement you wrote raised an exception. The statements before it already ran and their \
effects (variables, imports, files) are kept.
Reply with plain Python source only (no Markdown fences, no explanations) that replaces the \
failing statement and everything after it: a corrected version of the failing statement, \
then the rest of the solution. Do not repeat the statements that already ran."""


def _tail(text: str, limit: int) -> str:
    """The last `limit` characters, cut at a line start so the model sees whole lines."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    nl = cut.find("\n")
    return cut[nl + 1 :] if 0 <= nl < len(cut) - 1 else cut


def _head(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    nl = cut.rfind("\n")
    return cut[: nl + 1] if nl > 0 else cut


def document_context(before: str, after: str, path: str | None = None) -> str:
    """The file around the insertion point, bounded, with the point marked."""
    b = _tail(before, MAX_BEFORE)
    a = _head(after, MAX_AFTER)
    name = path or "untitled.py"
    parts = [f"File {name}"]
    if len(b) < len(before):
        parts.append(f"(first {len(before) - len(b)} characters omitted)")
    body = f"{b}{CURSOR}{a}"
    trailer = f"\n(last {len(after) - len(a)} characters omitted)" if len(a) < len(after) else ""
    return " ".join(parts) + ":\n" + body + trailer


def generation_messages(
    prompt: str, before: str, after: str, path: str | None = None
) -> list[dict[str, Any]]:
    """Messages asking the model to continue the document at the insertion point.

    The task comes last: everything before it is the same from one request to the next (or,
    with a document, grows only where the document did), so the local model's prompt cache
    holds it and a warm generation evaluates little more than the task itself (with the
    reminder after the task, about 35 fixed tokens were evaluated again every time: most of a
    second on two cores with the default model; docs/benchmarks.md, "Time to first token")."""
    if before.strip() or after.strip():
        user = (
            f"{document_context(before, after, path)}\n\n"
            f"Write the Python to insert at {CURSOR}. {STYLE_REMINDER}\n\n"
            f"Task: {prompt.strip()}"
        )
    else:
        user = f"The file is empty; write the whole program. {STYLE_REMINDER}\n\nTask: {prompt.strip()}"
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_GENERATE}]
    if not (before.strip() or after.strip()):
        messages += [
            {"role": "user", "content": f"{STYLE_REMINDER}\n\n{EXAMPLE_TASK}"},
            {"role": "assistant", "content": EXAMPLE_ANSWER},
        ]
    messages.append({"role": "user", "content": user})
    return messages


def repair_messages(
    task: str, code_ran: str, failing_statement: str, traceback: str, before: str = ""
) -> list[dict[str, Any]]:
    """Messages asking for a rewrite from the failing statement onwards."""
    tb = traceback if len(traceback) <= MAX_TRACEBACK else "…\n" + traceback[-MAX_TRACEBACK:]
    sections = [f"Task: {task.strip()}"]
    if before.strip():
        sections.append("The file before the generated code:\n" + _tail(before, MAX_BEFORE))
    sections.append(
        "Generated code that already ran successfully:\n"
        + (_tail(code_ran, MAX_BEFORE) if code_ran.strip() else "(nothing)")
    )
    sections.append("The statement that failed:\n" + failing_statement.rstrip("\n"))
    sections.append("Its traceback:\n" + tb.rstrip("\n"))
    sections.append(
        "Write the corrected failing statement and the rest of the solution, as plain Python only."
    )
    return [
        {"role": "system", "content": SYSTEM_REPAIR},
        {"role": "user", "content": "\n\n".join(sections)},
    ]


SYSTEM_REPAIR_FACTS = """\
You fix Python that is executed statement by statement while it is being written.
One statement raised an exception. Every statement before it already ran: its variables, \
functions and imports exist now, with the values shown. They must not be written again.
Reply with plain Python source only (no Markdown fences, no explanations): first a corrected \
replacement for the failing statement (it must differ from it and avoid the error, using the \
runtime values shown), then the rest of the solution to the task."""

# When the code after the failing statement stays (the user's own, or edited since it was
# generated), only the statement is replaced: the rest would be written twice.
SYSTEM_REPAIR_FACTS_ONLY = SYSTEM_REPAIR_FACTS.replace(
    "then the rest of the solution to the task.",
    "and nothing else: the code after it stays as it is.",
)


def repair_messages_with_facts(
    *,
    task: str,
    before: str,
    code_ran: str,
    failing: str,
    traceback: str,
    facts: str,
    earlier: str,
    rejected: bool = False,
    after: str = "",
) -> list[dict[str, Any]]:
    """A repair request with the runtime facts (LDB-style): what ran and what it produced, the
    failing statement, its error and the current values of the names it reads. With `after`
    (code below the failing statement that stays) only the statement is asked for."""
    tb = traceback if len(traceback) <= MAX_TRACEBACK else "…\n" + traceback[-MAX_TRACEBACK:]
    sections = [f"Task: {task.strip()}"]
    if before.strip():
        sections.append("The file before the generated code:\n" + _tail(before, MAX_BEFORE))
    sections.append(
        "Code that already ran (do not repeat it):\n"
        + (_tail(code_ran, MAX_BEFORE).rstrip("\n") if code_ran.strip() else "(nothing)")
    )
    if earlier.strip():
        sections.append("What that code produced:\n" + earlier.rstrip("\n"))
    sections.append("The statement that failed:\n" + failing.rstrip("\n"))
    sections.append("Its error:\n" + tb.rstrip("\n"))
    if facts.strip():
        sections.append("Values of the names it reads, right now:\n" + facts.rstrip("\n"))
    if rejected:
        sections.append(
            "Your previous answer began with this same failing statement, unchanged; it would "
            "raise the same error again, so it was not run. Change it."
        )
    if after.strip():
        sections.append(
            "The code after it, which stays as it is (do not write it):\n"
            + _head(after, MAX_AFTER).rstrip("\n")
        )
        sections.append(
            "Write only the corrected replacement for the failing statement, as plain Python."
        )
    else:
        sections.append(
            "Write only the corrected replacement for the failing statement and the rest of "
            "the solution after it, as plain Python."
        )
    system = SYSTEM_REPAIR_FACTS_ONLY if after.strip() else SYSTEM_REPAIR_FACTS
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "\n\n".join(sections)},
    ]
