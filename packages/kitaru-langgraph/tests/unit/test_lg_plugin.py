"""The distribution registers itself through its ``kitaru`` entry point, and loading the plugin
does not import LangGraph."""

from __future__ import annotations

import subprocess
import sys

from kitaru.plugins import list_plugins


def test_plugin_is_listed() -> None:
    plugins = {p.name: p.distribution for p in list_plugins()}
    assert plugins["langgraph"] == "kitaru-langgraph"


def test_loading_the_plugin_does_not_import_langgraph() -> None:
    code = (
        "import sys, kitaru_langgraph, kitaru_langgraph.plugin; print('langgraph' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
