"""Every entry point checks its arguments when it is called, with a ``KitaruUsageError`` that
names the argument: ``kc.require_approval`` refuses what ``kitaru.wait`` would refuse (before
any model call), ``kc.query`` / ``kc.query_sync`` / ``kc.ClaudeSDKClient`` refuse options,
names, prompts and transports of the wrong kind, ``kc.KitaruSessionStore`` a bad namespace;
in a flow body a missing CLI or missing credentials fail the body as a usage error before the
agent run's checkpoint starts, and a recorded run is reused without that check."""

from __future__ import annotations

from typing import Any

import kitaru_claude_agent_sdk as kc
import pytest
from claude_agent_sdk import ClaudeAgentOptions
from kitaru import FlowHandle, KitaruClient, checkpoint, flow
from kitaru.errors import FailureOrigin, KitaruUsageError
from kitaru.runtime import Runtime
from kitaru_claude_agent_sdk.testing import ScriptedClaude, Text, ToolUse


@pytest.mark.parametrize(
    ("tools", "kwargs", "match"),
    [
        (["Bash"], {"timeout": -1}, r"kc\.require_approval\(timeout=\.\.\.\) .*>= 0"),
        (["Bash"], {"timeout": float("nan")}, r"kc\.require_approval\(timeout="),
        (["Bash"], {"question": 5}, r"kc\.require_approval\(question=\.\.\.\) must be a string"),
        ("Bash", {}, r"kc\.require_approval\(tools=\.\.\.\) must be a non-empty list"),
        ([], {}, r"kc\.require_approval\(tools=\.\.\.\)"),
        ([1], {}, r"kc\.require_approval\(tools=\.\.\.\)"),
        (["Bash", " "], {}, r"kc\.require_approval\(tools=\.\.\.\)"),
        (None, {}, r"kc\.require_approval\(tools=\.\.\.\)"),
    ],
)
def test_require_approval_refuses_bad_arguments_at_once(
    tools: Any, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(KitaruUsageError, match=match):
        kc.require_approval(tools, **kwargs)


def test_require_approval_accepts_wait_arguments() -> None:
    matcher = kc.require_approval(("Bash", "Read", "Bash"), question="Run it?", timeout=0)
    assert (matcher.tools, matcher.question, matcher.wait_timeout) == (
        ("Bash", "Read"),
        "Run it?",
        0,
    )


SCRIPT = ScriptedClaude(steps=[Text(text="ok")])

BAD_ARGS = [
    (
        {"options": {"model": "x"}},
        r"\(options=\.\.\.\) must be a claude_agent_sdk\.ClaudeAgentOptions",
    ),
    ({"name": 5}, r"\(name=\.\.\.\) must be a string"),
    ({"name": "!!!"}, r"\(name='!!!'\) has no letters, digits or '_'"),
    ({"name": ""}, r"\(name=''\) has no letters"),
    ({"transport": "x"}, r"\(transport=\.\.\.\) must be a claude_agent_sdk\.Transport"),
    ({"resume_prompt": None}, r"\(resume_prompt=\.\.\.\) must be a non-empty string"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_ARGS)
def test_query_sync_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    args = {"transport": SCRIPT.transport, **kwargs}
    with pytest.raises(KitaruUsageError, match=r"kc\.query_sync" + match):
        kc.query_sync("hi", **args)
    assert SCRIPT.model_calls == 0


@pytest.mark.parametrize(("kwargs", "match"), BAD_ARGS)
def test_query_refuses_bad_arguments_when_called(kwargs: dict[str, Any], match: str) -> None:
    args = {"transport": SCRIPT.transport, **kwargs}
    with pytest.raises(KitaruUsageError, match=r"kc\.query" + match):
        kc.query("hi", **args)  # no `async for` needed to see the error


@pytest.mark.parametrize(("kwargs", "match"), BAD_ARGS)
def test_client_refuses_bad_arguments_when_constructed(kwargs: dict[str, Any], match: str) -> None:
    args = {"transport": SCRIPT.transport, **kwargs}
    with pytest.raises(KitaruUsageError, match=r"kc\.ClaudeSDKClient" + match):
        kc.ClaudeSDKClient(**args)


def test_client_refuses_positional_options_of_the_wrong_kind() -> None:
    with pytest.raises(KitaruUsageError, match=r"kc\.ClaudeSDKClient\(options=\.\.\.\).*got int"):
        kc.ClaudeSDKClient(1)  # type: ignore[arg-type]


def test_a_prompt_that_is_not_a_string_or_a_stream_is_refused() -> None:
    # The SDK would wait forever for a prompt stream that never comes.
    with pytest.raises(KitaruUsageError, match=r"kc\.query_sync\(prompt\) must be a string or"):
        kc.query_sync(123, transport=SCRIPT.transport)
    with pytest.raises(KitaruUsageError, match=r"kc\.query\(prompt\) must be a string or"):
        kc.query(["hi"], transport=SCRIPT.transport)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"namespace": 5}, r"kc\.KitaruSessionStore\(namespace=\.\.\.\) must be a non-empty"),
        ({"namespace": ""}, r"kc\.KitaruSessionStore\(namespace=\.\.\.\)"),
        ({"backend": "memory://"}, r"kc\.KitaruSessionStore\(backend=\.\.\.\) must be a kitaru"),
    ],
)
def test_session_store_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(KitaruUsageError, match=match):
        kc.KitaruSessionStore(**kwargs)


# -- in a flow -------------------------------------------------------------------------------

CLI_PATH: list[str | None] = [None]


@flow
def ask() -> str:
    options = ClaudeAgentOptions(cli_path=CLI_PATH[0])
    return str(kc.query_sync("hi", options=options, name="asker")[-1].result)


@pytest.mark.parametrize(
    ("cli_path", "match"),
    [(None, "No credentials for Claude"), ("/nonexistent/claude", "CLI was not found")],
)
def test_missing_setup_fails_the_flow_body_before_the_agent_run(
    memory_runtime: Runtime, cli_path: str | None, match: str
) -> None:
    CLI_PATH[0] = cli_path
    handle = ask.run()
    with pytest.raises(Exception, match=match):
        handle.wait(timeout=30)
    execution = KitaruClient().executions.get(handle.exec_id)
    assert execution.checkpoints == ()  # no failed asker_agent_run_1 was recorded
    assert execution.failure is not None
    assert execution.failure.origin is FailureOrigin.USAGE  # "fix the setup, then retry"
    assert "KitaruUsageError" in execution.failure.message


@flow
def bad_prompt() -> str:
    return str(kc.query_sync(42, transport=SCRIPT.transport)[-1].result)  # type: ignore[arg-type]


def test_a_bad_prompt_in_a_flow_records_no_agent_run(memory_runtime: Runtime) -> None:
    handle = bad_prompt.run()
    with pytest.raises(Exception, match=r"kc\.query_sync\(prompt\) must be a string inside"):
        handle.wait(timeout=30)
    assert KitaruClient().executions.get(handle.exec_id).checkpoints == ()


TRANSPORT: list[Any] = [None]
FAIL_PUBLISH = [True]


@checkpoint
def publish(text: str) -> str:
    if FAIL_PUBLISH[0]:
        raise RuntimeError("publishing is down")
    return f"PUBLISHED: {text}"


@flow
def review() -> str:
    return publish(kc.query_sync("go", transport=TRANSPORT[0], name="rev")[-1].result)


def test_a_recorded_agent_run_is_reused_without_the_setup_check(memory_runtime: Runtime) -> None:
    claude = ScriptedClaude(steps=[ToolUse(name="Read", input={"file_path": "a"}), Text(text="ok")])
    TRANSPORT[0], FAIL_PUBLISH[0] = claude.transport, True
    handle = review.run()
    with pytest.raises(Exception, match="publishing is down"):
        handle.wait(timeout=30)
    # No CLI transport and no credentials now: the completed run needs neither.
    TRANSPORT[0], FAIL_PUBLISH[0] = None, False
    KitaruClient().executions.retry(handle.exec_id)
    assert FlowHandle(handle.exec_id).wait(timeout=30) == "PUBLISHED: ok"
    assert claude.model_calls == 2
