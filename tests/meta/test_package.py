"""Meta-tests: the installed kitaru is ours, the public surface is what we say, records are
keyword-only, importing has no side effects, core imports no other kitaru package."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import kitaru
import kitaru.backend
import kitaru.client
import kitaru.errors

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "packages" / "kitaru-core" / "src" / "kitaru"


def test_imported_kitaru_is_this_checkout() -> None:
    assert Path(kitaru.__file__).resolve().is_relative_to(CORE)
    dist = importlib.metadata.distribution("kitaru")
    assert dist.metadata["Summary"].startswith("Durable execution for Python AI agents")
    for name in ("kitaru-core", "kitaru-backend-sql", "kitaru-cli", "kitaru-testing", "kitaru-mcp"):
        assert importlib.metadata.version(name) == "0.1.0"


def test_public_surface() -> None:
    assert sorted(kitaru.__all__) == kitaru.__all__
    for module in (kitaru, kitaru.errors, kitaru.backend, kitaru.client):
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
    expected = {
        "checkpoint",
        "flow",
        "wait",
        "log",
        "save",
        "load",
        "configure",
        "KitaruClient",
        "FlowHandle",
        "KitaruConfig",
        "ImageSettings",
        "FailureOrigin",
        "hookimpl",
        "KitaruError",
        "KitaruUsageError",
        "KitaruWaitValidationError",
        "KitaruContextError",
        "KitaruStateError",
        "KitaruRuntimeError",
        "KitaruExecutionError",
        "KitaruUserCodeError",
        "KitaruDivergenceError",
        "KitaruBackendError",
        "KitaruLogRetrievalError",
        "KitaruFeatureNotAvailableError",
        "StackInfo",
        "connect",
        "create_stack",
        "current_stack",
        "delete_stack",
        "list_stacks",
        "use_stack",
        "llm",
    }
    assert set(kitaru.__all__) == expected


def test_records_and_models_are_frozen_keyword_only() -> None:
    for module in (kitaru.backend, kitaru.client):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and dataclasses.is_dataclass(obj):
                params = obj.__dataclass_params__  # type: ignore[attr-defined]
                assert params.frozen, name
                assert all(f.kw_only for f in dataclasses.fields(obj)), name


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import sys, threading, os\n"
        "before = set(sys.modules)\n"
        "import kitaru, kitaru.client, kitaru.backend\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert not any(m.startswith(('sqlalchemy', 'kitaru_backend_sql', 'typer')) "
        "for m in sys.modules), 'heavy import'\n"
        "assert not os.path.exists(os.environ['KITARU_CONFIG_PATH'])\n"
    )
    env = {"KITARU_CONFIG_PATH": str(tmp_path / "cfg"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


def test_core_imports_no_other_kitaru_package() -> None:
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("kitaru_"), f"{path.name} imports {name}"


def test_modules_stay_small() -> None:
    biggest = max(len(p.read_text().splitlines()) for p in (ROOT / "packages").rglob("*.py"))
    assert biggest <= 800, "split the module: keep each one concept, about 600 lines at most"


def test_every_hookspec_is_documented() -> None:
    hookspecs = importlib.import_module("kitaru.hookspecs")
    doc = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    for name in hookspecs.__all__:
        if name.startswith("kitaru_"):
            assert f"## `{name}(" in doc, f"docs/plugins/hooks.md lacks a heading for {name}"


def test_every_hookspec_has_a_test() -> None:
    hookspecs = importlib.import_module("kitaru.hookspecs")
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for name in hookspecs.__all__:
        if name.startswith("kitaru_"):
            assert f"def test_hook_{name}(" in tests, f"no test_hook_{name}"


def test_core_and_typing_tests_pass_mypy_strict() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--warn-unused-ignores",
            "--cache-dir",
            str(ROOT / ".venv" / ".mypy_cache"),
            str(CORE),
            str(ROOT / "packages" / "kitaru-core" / "typing_tests"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


LINTED = [ROOT / "packages", ROOT / "tests", ROOT / "examples", ROOT / "benchmarks"]


def test_ruff_lint_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", *map(str, LINTED)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_format_is_applied() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *map(str, LINTED)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, "run `ruff format` on:\n" + proc.stdout[-4000:]


def test_no_package_imports_another_packages_private_modules() -> None:
    """Plugins and hosts use core's public modules only (STYLE rule 19)."""
    offenders = []
    for package in (ROOT / "packages").iterdir():
        own = package.name.replace("-", "_")
        own = "kitaru" if own == "kitaru_core" else own
        for path in (package / "src").rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    top, _, rest = name.partition(".")
                    private = any(part.startswith("_") for part in rest.split(".") if part)
                    if top.startswith("kitaru") and top != own and private:
                        offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)
