"""Who may import whom around the application layer (imports inside functions count too):
- `app/` uses core and providers; it never imports the edges (`lsp/`, the terminal
  modules), so neither edge can make it depend on the other;
- the terminal subcommands (`cli/console.py`, `cli/generate.py`, `cli/watch.py`,
  `cli/interrupt.py`) and `cli/options.py` never import `cli/commands.py` or the `cli`
  package, which import them (the cli ↔ console ↔ generate cycle that was here)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "server" / "eager_lsp"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def offenders(path: Path, banned: tuple[str, ...]) -> list[str]:
    return sorted(
        m for m in imported_modules(path) if any(m == b or m.startswith(b + ".") for b in banned)
    )


def test_the_app_layer_imports_no_edge() -> None:
    banned = (
        "eager_lsp.lsp",
        "eager_lsp.cli",
    )
    found = {p.name: offenders(p, banned) for p in sorted((PKG / "app").glob("*.py"))}
    assert found and not any(found.values()), found


def test_the_terminal_commands_do_not_import_cli() -> None:
    for name in ("console.py", "generate.py", "watch.py", "options.py", "interrupt.py"):
        path = PKG / "cli" / name
        found = offenders(path, ("eager_lsp.cli.commands",))
        found += sorted(
            m for m in imported_modules(path) if m in {"eager_lsp.cli", "eager_lsp.cli.main"}
        )
        assert found == [], name
