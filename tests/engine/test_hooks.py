"""Every core hookspec, exercised through a real plugin registered on the plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kitaru import KitaruClient, hookimpl
from kitaru._runtime import Runtime, use_runtime
from kitaru.artifacts import LocalArtifactStore
from kitaru.errors import KitaruPluginError, KitaruUsageError
from kitaru.plugins import build_plugin_manager, collect, list_plugins
from kitaru.serialization import Serializer
from kitaru.testing import MemoryBackend

from . import flows_basic as fb


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def kitaru_execution_started(self, execution: Any) -> None:
        self.events.append(("started", execution.state.value))

    @hookimpl
    def kitaru_execution_finished(self, execution: Any) -> None:
        self.events.append(("finished", execution.state.value))

    @hookimpl
    def kitaru_checkpoint_recorded(self, call: Any, artifact: Any) -> None:
        self.events.append(("checkpoint", call.invocation_id))

    @hookimpl
    def kitaru_wait_created(self, wait: Any) -> None:
        self.events.append(("wait_created", wait.name))

    @hookimpl
    def kitaru_wait_resolved(self, wait: Any) -> None:
        self.events.append(("wait_resolved", wait.value))


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Recorder]:
    pm = build_plugin_manager(autoload=False)
    recorder = Recorder()
    pm.register(recorder, name="recorder")
    runtime = Runtime(
        backend=MemoryBackend(),
        artifact_store=LocalArtifactStore(tmp_path),
        plugin_manager=pm,
        lease_seconds=5,
    )
    with use_runtime(runtime):
        yield recorder
    pm.unregister(recorder)


def _run_with_wait(recorder: Recorder) -> None:
    import time

    handle = fb.with_wait.run(1, timeout=20)
    while handle.status.value != "waiting":
        time.sleep(0.01)
    KitaruClient().executions.input(handle.exec_id, wait="extra", value=2)
    assert handle.wait(timeout=10) == 8


def test_hook_kitaru_execution_started(recorded: Recorder) -> None:
    _run_with_wait(recorded)
    assert ("started", "running") in recorded.events


def test_hook_kitaru_execution_finished(recorded: Recorder) -> None:
    _run_with_wait(recorded)
    assert recorded.events[-1] == ("finished", "completed")


def test_hook_kitaru_checkpoint_recorded(recorded: Recorder) -> None:
    _run_with_wait(recorded)
    assert [e for e in recorded.events if e[0] == "checkpoint"] == [
        ("checkpoint", "add"),
        ("checkpoint", "double"),
    ]


def test_hook_kitaru_wait_created(recorded: Recorder) -> None:
    _run_with_wait(recorded)
    assert ("wait_created", "extra") in recorded.events


def test_hook_kitaru_wait_resolved(recorded: Recorder) -> None:
    _run_with_wait(recorded)
    assert ("wait_resolved", 2) in recorded.events


class Contributions:
    @hookimpl
    def kitaru_register_backends(self, register: Any) -> None:
        register("fake", lambda url: MemoryBackend())

    @hookimpl
    def kitaru_register_artifact_stores(self, register: Any) -> None:
        register("mem", lambda uri: LocalArtifactStore("/tmp/kitaru-test-mem"))

    @hookimpl
    def kitaru_register_stack_types(self, register: Any) -> None:
        register("remote", lambda runtime: None)

    @hookimpl
    def kitaru_register_llm_providers(self, register: Any) -> None:
        register("echo", lambda **kwargs: "echo")

    @hookimpl
    def kitaru_register_adapters(self, register: Any) -> None:
        register("my_harness", "json")


class Shouty(Serializer):
    name = "shouty"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value.isupper()

    def dump(self, value: Any, fp: Any) -> str | None:
        fp.write(value.lower().encode())
        return None

    def load(self, fp: Any, type_ref: str | None) -> Any:
        return fp.read().decode().upper()


@pytest.fixture
def contributing() -> Any:
    pm = build_plugin_manager(autoload=False)
    pm.register(Contributions(), name="contrib")
    return pm


def test_hook_kitaru_register_backends(contributing: Any) -> None:
    backends = collect("kitaru_register_backends", pm=contributing, what="backend")
    assert {"memory", "fake"} <= set(backends)
    runtime = Runtime.from_urls("fake://x", "/tmp/kitaru-test-art", plugin_manager=contributing)
    assert isinstance(runtime.backend, MemoryBackend)
    with pytest.raises(KitaruUsageError, match="No installed backend serves 'nope://'"):
        Runtime.from_urls("nope://x", "/tmp/a", plugin_manager=contributing)


def test_hook_kitaru_register_artifact_stores(contributing: Any) -> None:
    stores = collect("kitaru_register_artifact_stores", pm=contributing, what="artifact store")
    assert {"file", "mem"} <= set(stores)


def test_hook_kitaru_register_stack_types(contributing: Any) -> None:
    types = collect("kitaru_register_stack_types", pm=contributing, what="stack type")
    assert {"local", "remote"} <= set(types)


def test_hook_kitaru_register_llm_providers(contributing: Any) -> None:
    providers = collect("kitaru_register_llm_providers", pm=contributing, what="LLM provider")
    assert providers["echo"]() == "echo"


def test_hook_kitaru_register_adapters(contributing: Any) -> None:
    assert collect("kitaru_register_adapters", pm=contributing, what="adapter") == {
        "my_harness": "json"
    }


def test_hook_kitaru_register_serializers(tmp_path: Path) -> None:
    class Plugin:
        @hookimpl
        def kitaru_register_serializers(self, register: Any) -> None:
            register(Shouty(), priority=200)

    pm = build_plugin_manager(autoload=False)
    pm.register(Plugin(), name="shouty")
    runtime = Runtime(
        backend=MemoryBackend(), artifact_store=LocalArtifactStore(tmp_path), plugin_manager=pm
    )
    payload = runtime.encode("LOUD")
    assert (payload.serializer, payload.inline) == ("shouty", b"loud")
    assert runtime.decode(payload) == "LOUD"
    assert runtime.encode("quiet").serializer == "json"


def test_duplicate_registration_names_both_plugins(contributing: Any) -> None:
    class Again:
        @hookimpl
        def kitaru_register_backends(self, register: Any) -> None:
            register("fake", lambda url: MemoryBackend())

    contributing.register(Again(), name="again")
    with pytest.raises(KitaruPluginError, match="'fake' is registered twice: by '.*' and by"):
        collect("kitaru_register_backends", pm=contributing, what="backend")


def test_list_plugins_shows_builtin_and_entry_points() -> None:
    infos = {p.name: p for p in list_plugins(build_plugin_manager())}
    assert infos["kitaru.builtin"].distribution == "kitaru-core"
    assert "kitaru_register_backends" in infos["kitaru.builtin"].hooks
    assert infos["sql"].distribution == "kitaru-backend-sql"
    assert infos["sql"].version == "0.1.0"


def test_autoload_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITARU_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert [p.name for p in list_plugins(build_plugin_manager())] == ["kitaru.builtin"]
    monkeypatch.delenv("KITARU_DISABLE_PLUGIN_AUTOLOAD")
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "")
    assert [p.name for p in list_plugins(build_plugin_manager())] == ["kitaru.builtin"]
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", "sql")
    assert "sql" in [p.name for p in list_plugins(build_plugin_manager())]


def test_hook_kitaru_add_hookspecs() -> None:
    import pluggy

    spec = pluggy.HookspecMarker("kitaru")

    class HostSpecs:
        @spec
        def kitaru_register_widgets(self, register: Any) -> None:
            """A host package's own hook."""

    class Host:
        @hookimpl
        def kitaru_add_hookspecs(self, pluginmanager: Any) -> None:
            pluginmanager.add_hookspecs(HostSpecs)

    class WidgetPlugin:
        @hookimpl
        def kitaru_register_widgets(self, register: Any) -> None:
            register("w", 1)

    pm = build_plugin_manager(autoload=False)
    pm.register(Host(), name="host")
    pm.register(WidgetPlugin(), name="widgets")
    pm.check_pending()  # no "unknown hook" although the spec came from a plugin
    assert collect("kitaru_register_widgets", pm=pm, what="widget") == {"w": 1}
