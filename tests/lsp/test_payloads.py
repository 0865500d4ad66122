"""The custom LSP payloads are defined once (server/eager_lsp/lsp/payloads.py), and both clients
agree with those definitions: the VS Code extension's `methods.ts` (method names, and every
interface's fields) and the Neovim plugin (method names in its code, the fields its handlers
read from annotated params, and its generated `protocol.lua`). docs/protocol.md's payload
section is generated from the same definitions.

Each check collects every disagreement and fails with the list; the `*_catches_*` tests rename
one name on one side and make sure the check notices."""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any

import pytest

from eager_lsp.lsp import methods, payloads
from eager_lsp.lsp.payload_export import (
    DOC_PATH,
    LUA_PATH,
    doc_with_definitions,
    lua_annotations,
)
from eager_lsp.lsp.payloads import describe

ROOT = Path(__file__).resolve().parents[2]
TS_DIR = ROOT / "vscode-extension" / "src"
METHODS_TS = TS_DIR / "methods.ts"
LUA_DIR = ROOT / "nvim" / "lua" / "eager"

# TypeScript interface names that differ from the Python definition's name.
TS_ALIASES = {"LspPosition": "Position", "LspRange": "Range"}


# -- TypeScript ---------------------------------------------------------------------------------


def ts_consts(text: str) -> dict[str, dict[str, str]]:
    """`export const Name = { key: "value", ... } as const;` → {Name: {key: value}}."""
    out: dict[str, dict[str, str]] = {}
    for m in re.finditer(r"export const (\w+) = \{(.*?)\} as const;", text, re.S):
        out[m.group(1)] = dict(re.findall(r"(\w+):\s*\"([^\"]+)\"", m.group(2)))
    return out


def ts_interfaces(text: str) -> dict[str, set[str]]:
    """Every interface's fields, those of the interface it extends included."""
    raw: dict[str, tuple[str | None, set[str]]] = {}
    for m in re.finditer(
        r"^(?:export )?interface (\w+)(?: extends (\w+))? \{\n(.*?)^\}", text, re.S | re.M
    ):
        body = re.sub(r"/\*.*?\*/", "", m.group(3), flags=re.S)
        fields = set(re.findall(r"^\s+(\w+)\??:", body, re.M))
        raw[m.group(1)] = (m.group(2), fields)

    def resolve(name: str) -> set[str]:
        base, fields = raw[name]
        return fields | (resolve(base) if base in raw else set())

    return {name: resolve(name) for name in raw}


def ts_object_unions(text: str) -> dict[str, list[dict[str, str]]]:
    """`export type Name =\n  | { a: T; b?: U }\n  | {…};` → {Name: [{a: T, b: U}, …]}."""
    out: dict[str, list[dict[str, str]]] = {}
    for m in re.finditer(r"^export type (\w+) =\s*((?:\|\s*\{[^{}]*\}\s*)+);", text, re.M):
        out[m.group(1)] = [
            dict(re.findall(r"(\w+)\??:\s*([^;]+?)\s*(?:;|$)", member))
            for member in re.findall(r"\{([^{}]*)\}", m.group(2))
        ]
    return out


def ts_literal_aliases(text: str) -> dict[str, set[str]]:
    """`export type Name = "a" | "b";` → {Name: {a, b}}."""
    return {
        m.group(1): set(re.findall(r'"([^"]*)"', m.group(2)))
        for m in re.finditer(r'^export type (\w+) = ((?:"[^"]*"(?: \| )?)+);', text, re.M)
    }


def check_typescript(desc: dict[str, Any], text: str, other_sources: dict[str, str]) -> list[str]:
    problems: list[str] = []
    types = desc["types"]
    consts = ts_consts(text)
    tables = {
        "ServerCommands": set(desc["commands"]),
        "Notifications": set(desc["notifications"]),
        "Requests": set(desc["requests"]),
        "ClientNotifications": set(desc["clientNotifications"]),
    }
    for table, known in tables.items():
        if table not in consts:
            problems.append(f"methods.ts: no `export const {table}`")
            continue
        for key, name in consts[table].items():
            if name not in known:
                problems.append(f"methods.ts {table}.{key} = {name!r}: not defined in payloads.py")
    for table in ("Notifications", "Requests"):  # the client handles every one of these
        missing = tables[table] - set(consts.get(table, {}).values())
        problems += [f"methods.ts {table}: {name!r} is missing" for name in sorted(missing)]
    cap = re.search(r'STREAM_EDITS_CAPABILITY = "(\w+)"', text)
    if cap is None or cap.group(1) != desc["capabilities"]["experimental"]:
        problems.append("methods.ts STREAM_EDITS_CAPABILITY differs from methods.py")
    interfaces = ts_interfaces(text)
    for ts_name, fields in sorted(interfaces.items()):
        if ts_name == "StreamEditBase":  # a part of the stream-edit params, checked with them
            continue
        py_name = TS_ALIASES.get(ts_name, ts_name)
        if py_name not in types:
            problems.append(f"methods.ts interface {ts_name}: no such type in payloads.py")
            continue
        py_fields = set(types[py_name])
        for name in sorted(fields - py_fields):
            problems.append(f"methods.ts {ts_name}.{name}: not a field of payloads.{py_name}")
        for name in sorted(py_fields - fields):
            problems.append(f"methods.ts {ts_name}: lacks payloads.{py_name}.{name}")
    # Results written as a union of object literals (`export type R = | {…} | {…};`): the
    # union of their fields is the definition's, and string-literal aliases agree.
    literals = ts_literal_aliases(text)
    for ts_name, members in sorted(ts_object_unions(text).items()):
        if ts_name not in types:
            problems.append(f"methods.ts type {ts_name}: no such type in payloads.py")
            continue
        fields = {name for member in members for name in member}
        py_fields = set(types[ts_name])
        for name in sorted(fields - py_fields):
            problems.append(f"methods.ts {ts_name}.{name}: not a field of payloads.{ts_name}")
        for name in sorted(py_fields - fields):
            problems.append(f"methods.ts {ts_name}: lacks payloads.{ts_name}.{name}")
        for member in members:
            for name, ts_type in member.items():
                allowed = literals.get(ts_type)
                if allowed is None or name not in py_fields:
                    continue
                py_values = set(re.findall(r'"([^"]*)"', types[ts_name][name]["type"]))
                if allowed != py_values:
                    problems.append(
                        f"methods.ts {ts_name}.{name}: {ts_type} is {sorted(allowed)}, "
                        f"payloads.py says {sorted(py_values)}"
                    )
    # The params of every notification and request the extension handles are declared.
    for method in set(desc["notifications"]) | set(desc["requests"]):
        params = desc["notifications"].get(method) or desc["requests"][method]["params"]
        for name in [params] if isinstance(params, str) else params:
            if name not in interfaces:
                problems.append(f"methods.ts: no interface {name} (params of {method})")
    known_methods = tables["Notifications"] | tables["Requests"] | tables["ClientNotifications"]
    for path, source in sorted(other_sources.items()):
        for name in sorted(set(re.findall(r"[\"'`](eager/\w+)[\"'`]", source))):
            if name not in known_methods:
                problems.append(f"{path}: method {name!r} is not defined in payloads.py")
        # A command's result is typed by its interface in methods.ts (checked above), never
        # by an object literal written where the command is called.
        for m in re.finditer(r"\b(?:execute|onDocument|sendRequest)<([^()]*?\{[^()]*?)>\(", source):
            problems.append(
                f"{path}: a server result typed inline ({m.group(1).strip()}): "
                "use its interface from methods.ts"
            )
    return problems


# -- Lua ----------------------------------------------------------------------------------------


def _field_types(spec_type: str, types: dict[str, Any]) -> list[str]:
    """The payload types a field leads to (`ErrorInfo | null` → [ErrorInfo]; lists: none)."""
    return [t.strip() for t in spec_type.split(" | ") if t.strip() in types]


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def lua_reads(source: str) -> list[tuple[int, list[str], str, list[str]]]:
    """For each `---@param NAME eager.T1|eager.T2` followed by a function (its body), and each
    `---@type eager.T` followed by `local NAME` (the rest of its block): the fields read from
    NAME there, as (line, types, name, path of fields)."""
    lines = source.splitlines()
    out: list[tuple[int, list[str], str, list[str]]] = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*---@param (\w+) ((?:eager\.\w+\|?)+)", line)
        t = re.match(r"\s*---@type ((?:eager\.\w+\|?)+)", line)
        if m is not None:
            name, types = m.group(1), re.findall(r"eager\.(\w+)", m.group(2))
            j = i + 1
            while j < len(lines) and "function" not in lines[j]:
                j += 1
            if j == len(lines):
                continue
            k = j + 1
            while k < len(lines) and not (
                lines[k].strip().startswith("end") and _indent(lines[k]) <= _indent(lines[j])
            ):
                k += 1
        elif t is not None and i + 1 < len(lines):
            local = re.match(r"\s*local (\w+)", lines[i + 1])
            if local is None:
                continue
            name, types, j = local.group(1), re.findall(r"eager\.(\w+)", t.group(1)), i + 1
            k = j + 1
            while k < len(lines) and (
                not lines[k].strip() or _indent(lines[k]) >= _indent(lines[j])
            ):
                k += 1
        else:
            continue
        body = "\n".join(lines[j : k + 1])
        pattern = rf"\b{name}((?:\.[A-Za-z_]\w*|\[\"[A-Za-z_]\w*\"\])+)"
        for access in re.finditer(pattern, body):
            path = re.findall(r"\.([A-Za-z_]\w*)|\[\"([A-Za-z_]\w*)\"\]", access.group(1))
            out.append((j + 1, types, name, [a or b for a, b in path]))
    return out


def lua_returns(source: str) -> list[tuple[int, str, dict[str, str | None]]]:
    """For each function annotated `---@return eager.T`: each `return { … }` table it builds,
    as (line, T, {key: the string it is set to, or None}) for the table's top-level keys."""
    lines = source.splitlines()
    out: list[tuple[int, str, dict[str, str | None]]] = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*---@return (?:nil\|)?eager\.(\w+)", line)
        if m is None:
            continue
        j = i + 1
        while j < len(lines) and "function" not in lines[j]:
            j += 1
        k = j + 1
        while k < len(lines) and not (
            lines[k].strip().startswith("end") and _indent(lines[k]) <= _indent(lines[j])
        ):
            k += 1
        body = "\n".join(lines[j : k + 1])
        for ret in re.finditer(r"\breturn \{", body):
            depth, pos, fields = 1, ret.end(), {}
            start = pos
            while pos < len(body) and depth:
                depth += {"{": 1, "}": -1}.get(body[pos], 0)
                pos += 1
            table = body[start : pos - 1]
            flat = re.sub(r"\{[^{}]*\}", "{}", table)  # nested tables: their keys are not ours
            for key, value in re.findall(r"(\w+)\s*=\s*(\"[^\"]*\"|[^,\n]+)", flat):
                fields[key] = value[1:-1] if value.startswith('"') else None
            out.append((j + 1 + body[: ret.start()].count("\n"), m.group(1), fields))
    return out


def check_lua(desc: dict[str, Any], sources: dict[str, str]) -> list[str]:
    problems: list[str] = []
    types = desc["types"]
    methods_known = (
        set(desc["notifications"]) | set(desc["requests"]) | set(desc["clientNotifications"])
    )
    handled: set[str] = set()
    annotated = 0
    own = {  # the plugin's own classes (its state), not protocol payloads
        name
        for path, source in sources.items()
        if not path.endswith("protocol.lua")
        for name in re.findall(r"---@class eager\.(\w+)", source)
    }
    for path, source in sorted(sources.items()):
        if path.endswith("protocol.lua"):
            continue
        for name in sorted(set(re.findall(r"\"(eager/\w+)\"", source))):
            if name not in methods_known:
                problems.append(f"{path}: method {name!r} is not defined in payloads.py")
        handled |= set(re.findall(r"M\.handlers\[\"(eager/\w+)\"\]", source))
        for cmd in re.findall(r"(?:exec\(|command = )\"(eager\.\w+)\"", source):
            if cmd not in desc["commands"]:
                problems.append(f"{path}: command {cmd!r} is not defined in payloads.py")
        for line, tnames, var, fields in lua_reads(source):
            if all(t in own for t in tnames):
                continue
            annotated += 1
            for t in tnames:
                if t not in types and t not in own:
                    problems.append(f"{path}:{line}: eager.{t} is not a type in payloads.py")
            current = [t for t in tnames if t in types]
            for i, field in enumerate(fields):
                if field.startswith("_") or not current:
                    break  # the plugin's own bookkeeping (p._mark), or a list/scalar
                specs = [types[t][field] for t in current if field in types[t]]
                if not specs:
                    where = "|".join(current)
                    problems.append(
                        f"{path}:{line}: {var}.{'.'.join(fields[: i + 1])}: "
                        f"{field!r} is not a field of {where}"
                    )
                    break
                current = [n for spec in specs for n in _field_types(spec["type"], types)]
    for path, source in sorted(sources.items()):
        for line, tname, fields in lua_returns(source):
            if tname not in types:
                problems.append(f"{path}:{line}: eager.{tname} is not a type in payloads.py")
                continue
            for field, value in fields.items():
                if field not in types[tname]:
                    problems.append(f"{path}:{line}: {field!r} is not a field of {tname}")
                    continue
                allowed = set(re.findall(r'"([^"]*)"', types[tname][field]["type"]))
                if value is not None and allowed and value not in allowed:
                    problems.append(
                        f"{path}:{line}: {tname}.{field} = {value!r} is not one of "
                        f"{sorted(allowed)}"
                    )
    for method in sorted((set(desc["notifications"]) | set(desc["requests"])) - handled):
        problems.append(f"nvim/lua/eager: no handler for {method}")
    if annotated == 0:
        problems.append("nvim/lua/eager: no `---@param p eager.<Type>` annotations found")
    return problems


# -- helpers ------------------------------------------------------------------------------------


def _sources(directory: Path, pattern: str) -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in sorted(directory.glob(pattern))
    }


def _report(problems: list[str]) -> str:
    return "the clients disagree with server/eager_lsp/lsp/payloads.py:\n  " + "\n  ".join(problems)


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        actual.splitlines(), expected.splitlines(), f"{name} (on disk)", f"{name} (generated)"
    )
    return (
        f"{name} is out of date; run `python -m eager_lsp.lsp.payload_export --write`:\n"
        + "\n".join(lines)
    )


def _renamed(desc: dict[str, Any], type_name: str, old: str, new: str) -> dict[str, Any]:
    changed = copy.deepcopy(desc)
    fields = changed["types"][type_name]
    changed["types"][type_name] = {(new if k == old else k): v for k, v in fields.items()}
    return changed


# -- the checks ---------------------------------------------------------------------------------


def test_the_vscode_extension_agrees_with_the_definitions() -> None:
    problems = check_typescript(
        describe(), METHODS_TS.read_text(encoding="utf-8"), _sources(TS_DIR, "*.ts")
    )
    assert not problems, _report(problems)


def test_the_neovim_plugin_agrees_with_the_definitions() -> None:
    problems = check_lua(describe(), _sources(LUA_DIR, "*.lua"))
    assert not problems, _report(problems)


def test_the_generated_lua_annotations_are_up_to_date() -> None:
    expected = lua_annotations()
    actual = LUA_PATH.read_text(encoding="utf-8")
    assert actual == expected, _diff(expected, actual, "nvim/lua/eager/protocol.lua")


def test_the_protocol_doc_has_the_current_definitions() -> None:
    actual = DOC_PATH.read_text(encoding="utf-8")
    expected = doc_with_definitions(actual)
    assert actual == expected, _diff(expected, actual, "docs/protocol.md")


def test_every_method_name_is_defined_once() -> None:
    desc = describe()
    assert set(desc["commands"]) == set(methods.COMMANDS)
    every = [
        *desc["commands"],
        *desc["notifications"],
        *desc["requests"],
        *desc["clientNotifications"],
    ]
    assert len(every) == len(set(every))


# -- the checks notice a change on either side ---------------------------------------------------


def test_the_typescript_check_catches_a_renamed_field_or_method() -> None:
    text = METHODS_TS.read_text(encoding="utf-8")
    sources = _sources(TS_DIR, "*.ts")
    renamed_ts = text.replace("  chunksDone?: number;", "  chunksDoneCount?: number;")
    assert renamed_ts != text
    problems = check_typescript(describe(), renamed_ts, sources)
    assert any("StatusParams.chunksDoneCount" in p for p in problems), problems
    assert any("lacks payloads.StatusParams.chunksDone" in p for p in problems), problems
    renamed_method = text.replace('stale: "eager/stale"', 'stale: "eager/staleLines"')
    problems = check_typescript(describe(), renamed_method, sources)
    assert any("eager/staleLines" in p for p in problems), problems
    # ...and a rename on the Python side.
    problems = check_typescript(_renamed(describe(), "StaleParams", "fromLine", "first"), text, {})
    assert any("StaleParams.fromLine" in p for p in problems), problems


def test_the_typescript_check_catches_a_result_typed_inline() -> None:
    sources = _sources(TS_DIR, "*.ts")
    commands = str((TS_DIR / "commands.ts").relative_to(ROOT))
    inline = sources[commands].replace(
        "onDocument<InterruptResult>(", "onDocument<{ interrupted: boolean }>("
    )
    assert inline != sources[commands]
    text = METHODS_TS.read_text(encoding="utf-8")
    problems = check_typescript(describe(), text, {**sources, commands: inline})
    assert any("typed inline ({ interrupted: boolean })" in p for p in problems), problems
    # ...and an interface in methods.ts that drifts from payloads.py is caught as any other.
    drifted = text.replace("  stateLost: boolean;", "  lost: boolean;")
    assert drifted != text
    problems = check_typescript(describe(), drifted, sources)
    assert any("lacks payloads.InterruptResult.stateLost" in p for p in problems), problems


def test_the_lua_check_catches_a_renamed_field_or_method() -> None:
    sources = _sources(LUA_DIR, "*.lua")
    key = "nvim/lua/eager/handlers.lua"
    changed = dict(sources)
    changed[key] = sources[key].replace("tonumber(p.fromLine)", "tonumber(p.fromLines)")
    assert changed[key] != sources[key]
    problems = check_lua(describe(), changed)
    assert any("p.fromLines" in p for p in problems), problems
    changed[key] = sources[key].replace('M.handlers["eager/stale"]', 'M.handlers["eager/stales"]')
    problems = check_lua(describe(), changed)
    assert any("eager/stales" in p for p in problems), problems
    assert any("no handler for eager/stale" in p for p in problems), problems
    problems = check_lua(_renamed(describe(), "StaleParams", "fromLine", "first"), sources)
    assert any("'fromLine' is not a field of StaleParams" in p for p in problems), problems


# -- the server side builds from the definitions ------------------------------------------------


def test_payloads_are_sent_without_unset_optional_fields() -> None:
    stale = payloads.StaleParams(uri="file:///a.py", fromLine=3)
    assert payloads.notify_params(methods.STALE, stale) == {"uri": "file:///a.py", "fromLine": 3}
    status = payloads.status_params("file:///a.py", "idle", {"message": "", "chunksDone": 2})
    assert payloads.to_wire(status) == {
        "uri": "file:///a.py",
        "state": "idle",
        "chunksDone": 2,
        "message": "",
    }


def test_a_misspelt_or_mismatched_payload_is_refused() -> None:
    with pytest.raises(TypeError):
        payloads.status_params("file:///a.py", "idle", {"chunkDone": 2})
    with pytest.raises(TypeError):
        payloads.notify_params(methods.STATUS, payloads.StaleParams(uri="u", fromLine=0))


def test_the_lua_check_catches_a_wrong_stream_edit_answer() -> None:
    sources = _sources(LUA_DIR, "*.lua")
    key = "nvim/lua/eager/stream.lua"
    assert any(t == "StreamEditResult" for _, t, _ in lua_returns(sources[key]))
    changed = dict(sources)
    changed[key] = sources[key].replace('reason = "conflict"', 'reason = "conflicted"')
    assert changed[key] != sources[key]
    problems = check_lua(describe(), changed)
    assert any("StreamEditResult.reason = 'conflicted'" in p for p in problems), problems
    changed[key] = sources[key].replace("    version = version(st.buf),", "    ver = 1,")
    assert changed[key] != sources[key]
    problems = check_lua(describe(), changed)
    assert any("'ver' is not a field of StreamEditResult" in p for p in problems), problems


def test_the_typescript_check_catches_a_wrong_stream_edit_answer() -> None:
    text = METHODS_TS.read_text(encoding="utf-8")
    assert "StreamEditResult" in ts_object_unions(text)
    changed = text.replace('"edited" | "closed" | "conflict";', '"edited" | "closed";')
    assert changed != text
    problems = check_typescript(describe(), changed, {})
    assert any("StreamEditResult.reason" in p for p in problems), problems
    changed = text.replace("{ ok: true; version: number;", "{ ok: true; ver: number;")
    changed = changed.replace("; version?: number; range?: LspRange }", "; range?: LspRange }")
    assert changed.count("version") == text.count("version") - 2
    problems = check_typescript(describe(), changed, {})
    assert any("StreamEditResult.ver" in p for p in problems), problems
    assert any("lacks payloads.StreamEditResult.version" in p for p in problems), problems


# -- the server reads the clients' answers with the definitions ---------------------------------


def test_a_stream_edit_answer_is_read_into_its_type() -> None:
    answer = payloads.from_wire(
        payloads.StreamEditResult,
        {
            "ok": True,
            "version": 7,
            "range": {"start": {"line": 2, "character": 0}, "end": {"line": 4, "character": 1}},
            "fromANewerClient": 1,
        },
    )
    assert answer.ok is True and answer.version == 7
    assert answer.range.end == payloads.Position(line=4, character=1)
    assert answer.reason is payloads.OMIT
    refused = payloads.from_wire(payloads.StreamEditResult, {"ok": False, "reason": "edited"})
    assert refused.reason == "edited" and refused.range is payloads.OMIT


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "StreamEditResult: expected an object, got a list"),
        ({}, "StreamEditResult.ok is missing"),
        ({"ok": "yes"}, "StreamEditResult.ok: expected boolean, got a string"),
        ({"ok": False, "reason": "gone"}, 'StreamEditResult.reason: expected "edited"'),
        (
            {"ok": True, "version": 1, "range": {"start": {"line": "1"}}},
            "StreamEditResult.range.start.line: expected integer, got a string",
        ),
        ({"ok": True, "version": True}, "StreamEditResult.version: expected integer"),
    ],
)
def test_a_malformed_stream_edit_answer_names_the_field(answer: Any, message: str) -> None:
    with pytest.raises(payloads.PayloadError) as err:
        payloads.from_wire(payloads.StreamEditResult, answer)
    assert str(err.value).startswith(message), str(err.value)
