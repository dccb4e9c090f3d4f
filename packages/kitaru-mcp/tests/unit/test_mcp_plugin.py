"""The package as a Kitaru plugin: its entry point, the ``kitaru.mcp`` shim, the
``kitaru_register_mcp_tools`` hook, and the generated tool table in ``docs/mcp.md``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kitaru.errors import KitaruPluginError, KitaruStateError
from kitaru.plugins import build_plugin_manager, hookimpl, list_plugins
from mcp.server.mcpserver import Context

ROOT = Path(__file__).resolve().parents[4]
DOC = ROOT / "docs" / "mcp.md"


def test_package_is_listed_as_a_plugin() -> None:
    plugins = {p.name: p for p in list_plugins()}
    assert plugins["mcp"].distribution == "kitaru-mcp"
    assert plugins["mcp"].version == "0.1.0"
    assert "kitaru_register_mcp_tools" in plugins["mcp"].hooks


def test_tools_are_importable_from_kitaru_mcp_server() -> None:
    import kitaru_mcp.server
    from kitaru.mcp.server import kitaru_executions_list, kitaru_status

    assert kitaru_status()["connection"] == "local database"
    assert kitaru_executions_list() == []
    import kitaru.mcp.server as shim

    for name in kitaru_mcp.server.__all__:
        assert getattr(shim, name) is getattr(kitaru_mcp.server, name)
    from kitaru_mcp.plugin import BUILTIN_TOOLS

    assert {name for name, *_ in BUILTIN_TOOLS} <= set(kitaru_mcp.server.__all__)


def test_two_tools_keep_the_specification_names() -> None:
    """SPEC §5 names two tools get_execution_logs and manage_stack (no kitaru_ prefix)."""
    from kitaru_mcp.plugin import BUILTIN_TOOLS

    registered = {name for name, *_ in BUILTIN_TOOLS}
    assert {"get_execution_logs", "manage_stack"} <= registered
    assert all(n.startswith("kitaru_") for n in registered - {"get_execution_logs", "manage_stack"})


def test_plain_functions_raise_kitaru_errors() -> None:
    from kitaru.mcp.server import kitaru_executions_get

    with pytest.raises(KitaruStateError, match="was not found"):
        kitaru_executions_get("00000000-0000-4000-8000-000000000000")


def test_importing_the_plugin_module_is_cheap() -> None:
    """Core loads the entry point in every Kitaru process: it must not import the MCP SDK."""
    code = (
        "import sys\n"
        "import kitaru_mcp.plugin, kitaru_mcp.hookspecs\n"
        "heavy = sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


class _Extra:
    """A third-party plugin: one tool that works, one that fails."""

    @hookimpl(optionalhook=True)
    def kitaru_register_mcp_tools(self, register: Any) -> None:
        def echo(text: str) -> dict[str, str]:
            """Echo the text back.

            More detail for the LLM.
            """
            return {"echo": text}

        def refuse() -> None:
            raise KitaruStateError("refused on purpose")

        async def context_kind(prefix: str, ctx: Context) -> str:
            """Name the type of the injected request context."""
            return prefix + type(ctx).__name__

        register(echo, name="extra_echo", read_only=True)
        register(
            refuse,
            name="extra_refuse",
            description="Always fails.",
            destructive=True,
            idempotent=True,
        )
        register(context_kind)


def _plugin_manager(*plugins: Any) -> Any:
    pm = build_plugin_manager(autoload=False)
    for plugin in plugins:
        pm.register(plugin)
    return pm


@pytest.mark.anyio
async def test_hook_kitaru_register_mcp_tools() -> None:
    from kitaru_mcp.server import build_server
    from mcp import Client

    pm = _plugin_manager(_Extra())
    server = build_server(plugin_manager=pm)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"extra_echo", "extra_refuse", "context_kind", "kitaru_status"} <= set(tools)
        assert set(tools["context_kind"].input_schema["properties"]) == {"prefix"}
        result = await client.call_tool("context_kind", {"prefix": "got "})
        assert result.content[0].text == "got Context"
        assert tools["extra_echo"].description == "Echo the text back.\n\nMore detail for the LLM."
        hints = {
            name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
            for name, a in ((n, tools[n].annotations) for n in tools)
        }
        assert hints["extra_echo"] == (True, False, True)
        assert hints["extra_refuse"] == (False, True, True)
        assert hints["context_kind"] == (False, False, False)  # the defaults, all sent
        result = await client.call_tool("extra_echo", {"text": "hi"})
        assert result.structured_content == {"echo": "hi"} and not result.is_error
        result = await client.call_tool("extra_refuse", {})
        assert result.is_error
        assert result.content[0].text.endswith("KitaruStateError: refused on purpose")
    # Built again from the same manager: the spec is added once, tools again.
    assert len(await build_server(plugin_manager=pm).list_tools()) == len(tools)
    # Without plugins only the built-in tools are served.
    plain = {t.name for t in await build_server(load_plugins=False).list_tools()}
    assert plain == set(tools) - {"extra_echo", "extra_refuse", "context_kind"}


def test_duplicate_and_invalid_tools_are_plugin_errors() -> None:
    from kitaru_mcp.server import build_server

    class Clash:
        @hookimpl(optionalhook=True)
        def kitaru_register_mcp_tools(self, register: Any) -> None:
            register(lambda: None, name="kitaru_status")

    with pytest.raises(
        KitaruPluginError, match="'kitaru_status' is registered twice: by 'kitaru_mcp' and by"
    ):
        build_server(plugin_manager=_plugin_manager(Clash()))

    class NotCallable:
        @hookimpl(optionalhook=True)
        def kitaru_register_mcp_tools(self, register: Any) -> None:
            register(42)

    with pytest.raises(KitaruPluginError, match="not callable"):
        build_server(plugin_manager=_plugin_manager(NotCallable()))

    class Nameless:
        @hookimpl(optionalhook=True)
        def kitaru_register_mcp_tools(self, register: Any) -> None:
            register(lambda: None)

    with pytest.raises(KitaruPluginError, match="no name"):
        build_server(plugin_manager=_plugin_manager(Nameless()))


def test_server_attribute_is_built_on_first_use() -> None:
    import kitaru_mcp.server as module

    assert module.get_server() is module.server
    assert module.server.name == "kitaru"


def test_doc_tool_table_matches_the_server() -> None:
    from kitaru_mcp.docs import render_table, replace_table, tool_rows

    document = DOC.read_text(encoding="utf-8")
    assert replace_table(document, render_table()) == document, (
        "docs/mcp.md is stale: run `python -m kitaru_mcp.docs docs/mcp.md`"
    )
    rows = tool_rows()
    assert len(rows) == 17
    for name, _params, text in rows:
        assert f"| `{name}` |" in document and text in document


def test_docs_script_checks_and_rewrites(tmp_path: Path) -> None:
    from kitaru_mcp.docs import BEGIN, END, main

    stale = tmp_path / "mcp.md"
    stale.write_text(f"# Tools\n\n{BEGIN}\n| old |\n{END}\n\nAfter.\n")
    assert main([str(stale), "--check"]) == 1
    assert main([str(stale)]) == 0
    assert main([str(stale), "--check"]) == 0
    text = stale.read_text()
    assert "| old |" not in text and "`kitaru_executions_run`" in text
    assert text.endswith("\n\nAfter.\n")
    missing = tmp_path / "none.md"
    missing.write_text("no table\n")
    with pytest.raises(ValueError, match="no generated tool table"):
        main([str(missing)])
