"""Where a flow's module is recorded to be re-imported from (retry, replay, continuation)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from kitaru._source import load_source, source_of


@pytest.mark.parametrize("module", ["pkg_srcref.agents.flows", "pkg_srcref"])
def test_import_root_is_the_folder_of_the_top_level_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    package = tmp_path / "proj" / "pkg_srcref"
    (package / "agents").mkdir(parents=True)
    code = textwrap.dedent(
        """
        def report():
            return "ok"
        """
    )
    (package / "__init__.py").write_text(code if module == "pkg_srcref" else "")
    (package / "agents" / "__init__.py").write_text("")
    (package / "agents" / "flows.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path / "proj"))
    monkeypatch.chdir(tmp_path)  # started from another folder than the project's
    try:
        imported = __import__(module, fromlist=["report"])
        ref = source_of(imported.report)
        assert ref.module == module
        assert ref.sys_path == str((tmp_path / "proj").resolve())
        # Another process (here: this one, with the package forgotten) imports it again.
        for name in [n for n in sys.modules if n.split(".")[0] == "pkg_srcref"]:
            del sys.modules[name]
        sys.path.remove(str(tmp_path / "proj"))
        assert load_source(ref)() == "ok"
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "pkg_srcref"]:
            del sys.modules[name]
