"""Execution settings precedence, frozen into the execution's spec, and flow-round journaling."""

from __future__ import annotations

from pathlib import Path

import kitaru
import pytest
from kitaru import KitaruClient, checkpoint, flow
from kitaru.errors import KitaruUsageError

from . import flows_basic as fb


def _spec(handle: kitaru.FlowHandle) -> dict:  # type: ignore[type-arg]
    handle.wait(timeout=10)
    return dict(KitaruClient().executions.get(handle.exec_id).frozen_execution_spec)


def test_precedence_chain(runtime: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kitaru]\ncache = false\nretries = 4\nimage = "python:3.11"\n'
    )
    monkeypatch.chdir(tmp_path)
    resolved = _spec(fb.arithmetic.run(1))["resolved_execution"]
    assert (resolved["cache"], resolved["retries"]) == (False, 4)
    assert resolved["image"] == {"base_image": "python:3.11"}

    monkeypatch.setenv("KITARU_RETRIES", "5")
    monkeypatch.setenv("KITARU_CACHE", "yes")
    resolved = _spec(fb.arithmetic.run(1))["resolved_execution"]
    assert (resolved["cache"], resolved["retries"]) == (True, 5)

    kitaru.configure(cache=False, retries=1, image={"environment": {"OPENAI_API_KEY": "sk-1"}})

    @flow(cache=True, retries=2)
    def decorated(x: int) -> int:
        return fb.add(x, 0)

    spec = _spec(decorated.run(1, retries=3))
    assert spec["resolved_execution"]["cache"] is True
    assert spec["resolved_execution"]["retries"] == 3
    assert spec["resolved_execution"]["stack"] == "default"
    assert spec["resolved_execution"]["image"]["environment"] == {"OPENAI_API_KEY": "***"}
    assert spec["resolved_execution"]["image"]["base_image"] == "python:3.11"
    assert spec["flow_defaults"] == {"cache": True, "retries": 2}


def test_bad_settings_are_named(
    runtime: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KITARU_CACHE", "maybe")
    with pytest.raises(KitaruUsageError, match="KITARU_CACHE must be a boolean"):
        fb.arithmetic.run(1)
    monkeypatch.delenv("KITARU_CACHE")
    monkeypatch.setenv("KITARU_RUNNER", "x")
    with pytest.raises(KitaruUsageError, match="KITARU_RUNNER is no longer supported"):
        fb.arithmetic.run(1)
    monkeypatch.delenv("KITARU_RUNNER")
    (tmp_path / "pyproject.toml").write_text("[tool.kitaru]\nretry = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KitaruUsageError, match="unknown \\[tool.kitaru\\] keys: retry"):
        fb.arithmetic.run(1)
    with pytest.raises(KitaruUsageError, match="retries must be >= 0"):
        kitaru.configure(retries=-1)
    with pytest.raises(KitaruUsageError, match="Invalid image settings"):
        kitaru.configure(image={"nope": 1})
    assert KitaruClient().executions.list() == []


def test_flow_rounds_are_journaled(runtime: object) -> None:
    state = {"n": 0}

    @checkpoint
    def once() -> int:
        return 1

    @flow(retries=2)
    def flaky() -> int:
        once()
        state["n"] += 1
        if state["n"] < 3:
            raise RuntimeError(f"round {state['n']} failed")
        return state["n"]

    handle = flaky.run()
    assert handle.wait(timeout=30) == 3
    rounds = KitaruClient().executions.get(handle.exec_id).attempts
    assert [r.status.value for r in rounds] == ["failed", "failed"]
    assert [r.failure.message for r in rounds if r.failure] == [
        "RuntimeError: round 1 failed",
        "RuntimeError: round 2 failed",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('retries = "two"', "[tool.kitaru] retries must be an integer >= 0, got 'two'."),
        ("retries = -1", "[tool.kitaru] retries must be an integer >= 0, got -1."),
        ('cache = "no"', "[tool.kitaru] cache must be true or false, got 'no'."),
        ('stack = ""', "[tool.kitaru] stack must be a non-empty string, got ''."),
        ("image = 3", "[tool.kitaru] image: image must be a string, a mapping"),
        (
            'stack = "nosuch"',
            "[tool.kitaru] stack: Unknown stack 'nosuch'. Available stacks: default.",
        ),
    ],
)
def test_bad_pyproject_values_name_the_file_and_key(
    memory_runtime: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    message: str,
) -> None:
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(f"[tool.kitaru]\n{line}\n")
    monkeypatch.chdir(project / "sub")
    with pytest.raises(KitaruUsageError) as info:
        fb.arithmetic.run(1)
    assert str(info.value).startswith(f"{project / 'pyproject.toml'}: {message}")
    assert KitaruClient().executions.list() == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KITARU_RETRIES", "-1", "KITARU_RETRIES must be an integer >= 0, got '-1'."),
        ("KITARU_RETRIES", "two", "KITARU_RETRIES must be an integer >= 0, got 'two'."),
        ("KITARU_STACK", "nosuch", "KITARU_STACK: Unknown stack 'nosuch'."),
        ("KITARU_IMAGE", '{"nope": 1}', "KITARU_IMAGE: Invalid image settings"),
        ("KITARU_IMAGE", "{bad", "KITARU_IMAGE is not valid JSON"),
    ],
)
def test_bad_environment_values_name_the_variable(
    memory_runtime: object, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(KitaruUsageError) as info:
        fb.arithmetic.run(1)
    assert str(info.value).startswith(message)
    assert KitaruClient().executions.list() == []


def test_configure_rejects_an_unknown_stack_at_once(memory_runtime: object) -> None:
    with pytest.raises(
        KitaruUsageError,
        match=r"kitaru.configure\(stack='nosuch'\): Unknown stack 'nosuch'\. "
        "Available stacks: default",
    ):
        kitaru.configure(stack="nosuch")
    assert kitaru.configure().stack is None
    kitaru.create_stack("team", activate=False)
    assert kitaru.configure(stack="team").stack == "team"
    kitaru.delete_stack("team")
    with pytest.raises(KitaruUsageError, match=r"kitaru.configure\(stack=\.\.\.\): Unknown stack"):
        fb.arithmetic.run(1)
