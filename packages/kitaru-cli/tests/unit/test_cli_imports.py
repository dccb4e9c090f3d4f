"""Meta-tests on what the CLI imports (STYLE rule 19, and the cost of starting ``kitaru``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kitaru_cli

SRC = Path(kitaru_cli.__file__).resolve().parent
TESTS = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an ``import`` statement in ``path`` names (absolute imports only)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from kitaru import _config` imports a private module too
            found.extend(
                (node.lineno, f"{node.module}.{alias.name}")
                for alias in node.names
                if alias.name.startswith("_")
            )
    return found


def _private_kitaru_imports(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        for lineno, module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] == "kitaru" and any(p.startswith("_") for p in parts[1:]):
                bad.append(f"{path.relative_to(root.parent)}:{lineno}: {module}")
    return bad


def test_cli_imports_no_private_core_module() -> None:
    """kitaru_cli uses only core's public modules (no ``kitaru._*``)."""
    assert _private_kitaru_imports(SRC) == []


def test_cli_tests_import_no_private_core_module() -> None:
    assert _private_kitaru_imports(TESTS) == []


def test_version_and_command_help_do_not_import_core() -> None:
    """``kitaru --version`` and a built-in command's ``--help`` import neither Kitaru core nor
    a journal driver. (The root ``--help`` loads plugins, which may add commands.)"""
    code = (
        "import sys; from kitaru_cli.app import main\n"
        "for argv in (['--version'], ['executions', '--help'], ['executions', 'list', '-h'],"
        " ['run', '--help']):\n"
        "    main(argv)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('kitaru', 'sqlalchemy', 'kitaru_backend_sql'))\n"
        "print('LOADED:' + ','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "LOADED:"
