"""The CLI's hookspec: plugins add commands through ``kitaru_register_commands``."""

from __future__ import annotations

import kitaru
import pytest
import typer
from kitaru.plugins import build_plugin_manager, reset_plugin_manager
from kitaru_cli import hookspecs, main
from kitaru_cli._plugins import add_hookspecs


class HelloPlugin:
    @kitaru.hookimpl
    def kitaru_register_commands(self, app: typer.Typer) -> None:
        @app.command("hello")
        def hello(name: str = "world") -> None:
            """Say hello."""
            typer.echo(f"hello {name}")


class BrokenPlugin:
    @kitaru.hookimpl
    def kitaru_register_commands(self, app: typer.Typer) -> None:
        raise RuntimeError("cannot add my commands")


def _install(*plugins: object) -> None:
    pm = build_plugin_manager(autoload=False)
    add_hookspecs(pm)
    for plugin in plugins:
        pm.register(plugin, name=type(plugin).__name__)
    reset_plugin_manager(pm)


def test_hook_kitaru_register_commands(capsys: pytest.CaptureFixture[str]) -> None:
    _install(HelloPlugin())
    assert main(["hello", "--name", "kitaru"]) == 0
    assert capsys.readouterr().out == "hello kitaru\n"
    assert main(["--help"]) == 0
    assert "hello" in capsys.readouterr().out


def test_add_hookspecs_is_idempotent() -> None:
    pm = build_plugin_manager(autoload=False)
    add_hookspecs(pm)
    add_hookspecs(pm)
    assert pm.hook.kitaru_register_commands.spec is not None
    assert "kitaru_register_commands" in hookspecs.__all__


def test_main_adds_the_hookspec_to_the_shared_manager() -> None:
    pm = build_plugin_manager(autoload=False)
    reset_plugin_manager(pm)
    assert main(["--help"]) == 0
    assert pm.hook.kitaru_register_commands.spec is not None


def test_broken_plugin_leaves_builtins_working(capsys: pytest.CaptureFixture[str]) -> None:
    _install(BrokenPlugin())
    assert main(["--help"]) == 0
    captured = capsys.readouterr()
    assert "Warning: plugin commands were not loaded: cannot add my commands" in captured.err
    assert "executions" in captured.out


def test_builtin_commands_and_version_skip_plugin_loading(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _install(BrokenPlugin())
    assert main(["--version"]) == 0
    assert main(["plugins", "-o", "json"]) == 0
    assert "Warning" not in capsys.readouterr().err


class EntryPointStylePlugin:
    # Loaded by core before the CLI adds its hookspecs, so it must be an optional hook until
    # core lets the CLI add specs first (see kitaru_cli.hookspecs).
    @kitaru.hookimpl(optionalhook=True)
    def kitaru_register_commands(self, app: typer.Typer) -> None:
        @app.command("ping")
        def ping() -> None:
            typer.echo("pong")


def test_plugin_registered_before_the_hookspec(capsys: pytest.CaptureFixture[str]) -> None:
    pm = build_plugin_manager(autoload=False)
    pm.register(EntryPointStylePlugin(), name="ping")
    pm.check_pending()  # what core does after loading entry points
    reset_plugin_manager(pm)
    assert main(["ping"]) == 0
    assert capsys.readouterr().out == "pong\n"


class GcProbePlugin:
    seen: list[bool] = []

    @kitaru.hookimpl
    def kitaru_register_commands(self, app: typer.Typer) -> None:
        @app.command("probe")
        def probe() -> None:
            import gc

            GcProbePlugin.seen.append(gc.isenabled())


def test_plugin_commands_run_with_the_garbage_collector_on(memory_runtime) -> None:
    """``main`` turns the cyclic GC off for built-in commands only (plugin commands may be
    servers) and restores it on the way out."""
    import gc

    _install(GcProbePlugin())
    assert main(["probe"]) == 0
    assert GcProbePlugin.seen == [True]
    assert main(["executions", "list", "-o", "json"]) == 0
    assert gc.isenabled()


class MemoryReaderPlugin:
    """Reads ``memory://`` journals with a backend of its own (and says which URLs)."""

    def __init__(self) -> None:
        from kitaru.testing import MemoryBackend

        self.backend = MemoryBackend()
        self.urls: list[str] = []

    @kitaru.hookimpl
    def kitaru_register_journal_readers(self, register: object) -> None:
        def open_reader(url: str) -> object:
            self.urls.append(url)
            return self.backend

        register("memory", open_reader)  # type: ignore[operator]


def test_hook_kitaru_register_journal_readers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitaru.backend import SourceRef
    from kitaru_testing import make_execution

    plugin = MemoryReaderPlugin()
    plugin.backend.create_execution(
        make_execution(exec_id="read-by-the-plugin", source=SourceRef(module="m", qualname="f"))
    )
    _install(plugin)
    monkeypatch.setenv("KITARU_STORE_URL", "memory://")
    assert main(["executions", "list", "-o", "json"]) == 0
    assert '"exec_id":"read-by-the-plugin"' in capsys.readouterr().out
    assert main(["executions", "get", "read-by-the-plugin"]) == 0
    assert "read-by-the-plugin" in capsys.readouterr().out
    assert plugin.urls == ["memory://", "memory://"]
    # Other commands never ask for a reader: `logs` reads the (empty) default memory journal.
    assert main(["executions", "logs", "read-by-the-plugin", "-o", "json"]) == 1
    assert "was not found" in capsys.readouterr().err
    assert plugin.urls == ["memory://", "memory://"]
