"""Stacks, the user config file and connect()."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import kitaru
import pytest
from kitaru import KitaruClient
from kitaru.errors import (
    KitaruFeatureNotAvailableError,
    KitaruStateError,
    KitaruUsageError,
)

from ..engine import flows_basic as fb


def test_default_stack_and_create_use_delete(isolated_config: Path, memory_runtime: object) -> None:
    (only,) = kitaru.list_stacks()
    assert (only.name, only.is_active, only.type) == ("default", True, "local")
    created = kitaru.create_stack("research", labels={"team": "a"})
    assert created.is_active and created.labels == {"team": "a", "kitaru.managed": "true"}
    assert kitaru.current_stack().name == "research"
    assert [s.name for s in kitaru.list_stacks() if s.is_active] == ["research"]
    file = isolated_config / "kitaru.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    handle = fb.arithmetic.run(1)
    handle.wait(timeout=10)
    assert KitaruClient().executions.get(handle.exec_id).stack_name == "research"
    other = fb.arithmetic.run(1, stack="default")  # bound for this run only
    other.wait(timeout=10)
    assert KitaruClient().executions.get(other.exec_id).stack_name == "default"
    assert kitaru.current_stack().name == "research"
    with pytest.raises(KitaruStateError, match="is active"):
        kitaru.delete_stack("research")
    kitaru.delete_stack("research", force=True)
    assert kitaru.current_stack().name == "default"
    with pytest.raises(KitaruStateError, match="cannot be deleted"):
        kitaru.delete_stack("default", force=True)


def test_stack_input_errors_change_nothing(isolated_config: Path, memory_runtime: object) -> None:
    kitaru.create_stack("keep", activate=False)
    before = (isolated_config / "kitaru.json").read_text()
    with pytest.raises(
        KitaruUsageError,
        match="Stack type 'kubernetes' is not installed. Installed stack types: local",
    ):
        kitaru.create_stack("k8s", type="kubernetes")
    with pytest.raises(KitaruStateError, match="already exists"):
        kitaru.create_stack("keep")
    with pytest.raises(KitaruUsageError, match="Invalid stack name"):
        kitaru.create_stack("bad name!")
    with pytest.raises(
        KitaruUsageError, match="Unknown stack 'nope'. Available stacks: default, keep"
    ):
        kitaru.use_stack("nope")
    with pytest.raises(KitaruUsageError, match="Unknown stack"):
        fb.arithmetic.run(1, stack="nope")
    assert (isolated_config / "kitaru.json").read_text() == before


def test_corrupt_config_is_reported_and_recovered(
    isolated_config: Path, memory_runtime: object
) -> None:
    isolated_config.mkdir(parents=True, exist_ok=True)
    file = isolated_config / "kitaru.json"
    file.write_text("{not json")
    with pytest.raises(KitaruUsageError, match=str(file)):
        kitaru.list_stacks()
    kitaru.create_stack("fresh")
    assert json.loads(file.read_text())["active_stack"] == "fresh"
    assert list(isolated_config.glob("kitaru.json.corrupt-*"))


def test_connect(isolated_config: Path, tmp_path: Path) -> None:
    with pytest.raises(KitaruFeatureNotAvailableError, match="not available yet"):
        kitaru.connect("https://kitaru.example.com")
    with pytest.raises(KitaruUsageError, match="No installed backend serves 'nope://'"):
        kitaru.connect("nope://x")
    with pytest.raises(KitaruUsageError, match=r"is not a URL.*'sqlite:////tmp/x/kitaru\.db'"):
        kitaru.connect("/tmp/x/kitaru.db")
    assert not (isolated_config / "kitaru.json").exists()
    url = f"sqlite:///{tmp_path / 'team.db'}"
    kitaru.connect(url)
    handle = fb.arithmetic.run(2)
    handle.wait(timeout=10)
    assert KitaruClient().runtime.store_url == url
    assert (tmp_path / "team.db").exists()


def test_input_for_an_execution_whose_stack_was_deleted_changes_nothing(
    isolated_config: Path, memory_runtime: object
) -> None:
    import time

    client = KitaruClient()
    kitaru.create_stack("temp", activate=False)
    handle = fb.with_wait.run(5, timeout=0.1, stack="temp")
    deadline = time.monotonic() + 10
    while client.executions.get(handle.exec_id).status.value != "waiting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    while memory_runtime.backend.get_execution(handle.exec_id).lease is not None:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline  # the listening window lapses: it is suspended
        time.sleep(0.02)
    kitaru.delete_stack("temp")
    with pytest.raises(KitaruUsageError, match="runs on stack 'temp', which cannot be used"):
        client.executions.input(handle.exec_id, wait="extra", value=4)
    after = client.executions.get(handle.exec_id)
    assert after.status.value == "waiting"
    assert after.pending_wait is not None and after.pending_wait.name == "extra"
    kitaru.create_stack("temp", activate=False)  # what the error says to do
    client.executions.input(handle.exec_id, wait="extra", value=4)
    assert handle.wait(timeout=30) == 20


def test_later_features_say_they_are_not_available(memory_runtime: object) -> None:
    import kitaru.memory

    with pytest.raises(KitaruFeatureNotAvailableError, match="memory"):
        kitaru.memory.set("k", 1)
    with pytest.raises(KitaruFeatureNotAvailableError, match="memory"):
        KitaruClient().memories  # noqa: B018
    with pytest.raises(KitaruFeatureNotAvailableError, match="Deployments"):
        KitaruClient().deployments  # noqa: B018
    with pytest.raises(KitaruFeatureNotAvailableError, match="Deployments"):
        fb.arithmetic.deploy()
    with pytest.raises(KitaruFeatureNotAvailableError, match="Deployments"):
        fb.arithmetic.invoke(x=1)
