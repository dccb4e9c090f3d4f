"""The real ``kitaru-mcp`` console script, driven by the MCP client over stdio, on a real
SQLite journal (``KITARU_CONFIG_PATH`` = a temporary folder). Executions run in detached
worker processes, exactly as for a user of Claude Desktop or Claude Code."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

KITARU_MCP = Path(sys.executable).with_name("kitaru-mcp")

FLOW = """
import kitaru
from kitaru import checkpoint, flow


@checkpoint
def double(x: int) -> int:
    print(f"doubling {x}")
    return x * 2


@checkpoint
def add(a: int, b: int) -> int:
    return a + b


@flow
def approval(x: int) -> int:
    doubled = double(x)
    extra = kitaru.wait(schema=int, name="extra", question="How much to add?", timeout=1)
    return add(doubled, extra)


print("imported at module level: must not reach the MCP protocol on stdout")
"""


class Session:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> Any:
        """The result's data; every result is one text block holding the same document as
        the structured content (the text itself for the logs tool); list documents
        ``{"items", "count"}`` give their items."""
        result = await self.client.call_tool(tool, arguments)
        text = "".join(getattr(c, "text", "") for c in result.content)
        assert not result.is_error, f"{tool}: {text}"
        assert len(result.content) == 1 and result.content[0].type == "text", result.content
        data = result.structured_content
        if set(data) == {"result"}:
            assert text == data["result"]
            return data["result"]
        assert json.loads(text) == data
        if set(data) == {"items", "count"}:
            assert data["count"] == len(data["items"])
            return data["items"]
        return data

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error
        return "".join(getattr(c, "text", "") for c in result.content)

    async def poll(self, exec_id: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
        import anyio

        deadline = time.monotonic() + timeout
        while True:
            execution: dict[str, Any] = await self.call("kitaru_executions_get", exec_id=exec_id)
            if execution["status"] == status:
                return execution
            finished = execution["status"] in ("completed", "failed", "cancelled")
            assert not finished and time.monotonic() < deadline, execution
            await anyio.sleep(0.1)


async def test_stdio_server_runs_a_flow_through_a_wait(tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    (tmp_path / "approval_flow.py").write_text(FLOW)
    config = tmp_path / "config"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KITARU_") and k != "PYTEST_CURRENT_TEST"
    }
    env.update(KITARU_CONFIG_PATH=str(config), KITARU_LOAD_PLUGINS="sql,mcp", KITARU_NO_PROMPT="1")
    params = StdioServerParameters(command=str(KITARU_MCP), args=[], env=env, cwd=tmp_path)
    with (tmp_path / "server.stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            mcp = Session(client)
            names = {t.name for t in (await client.list_tools()).tools}
            assert {
                "kitaru_executions_run",
                "kitaru_executions_input",
                "kitaru_executions_replay",
                "kitaru_status",
            } <= names

            # An empty list is one JSON document too, not a result with no content.
            empty = await client.call_tool("kitaru_executions_list", {})
            assert [c.text for c in empty.content] == ['{\n  "items": [],\n  "count": 0\n}']
            assert empty.structured_content == {"items": [], "count": 0}

            status = await mcp.call("kitaru_status")
            assert status["store_url"] == f"sqlite:///{config.resolve() / 'kitaru.db'}"

            started = await mcp.call(
                "kitaru_executions_run", target="approval_flow.py:approval", args={"x": 3}
            )
            exec_id = started["exec_id"]
            assert started["execution"]["exec_id"] == exec_id and started["warning"] is None

            waiting = await mcp.poll(exec_id, "waiting")
            assert waiting["pending_wait"]["name"] == "extra"
            text = await mcp.error(
                "kitaru_executions_input", exec_id=exec_id, wait="extra", value="four"
            )
            assert "KitaruWaitValidationError" in text
            await mcp.call("kitaru_executions_input", exec_id=exec_id[:8], wait="extra", value=4)
            done = await mcp.poll(exec_id, "completed")
            assert [(c["name"], c["status"]) for c in done["checkpoints"]] == [
                ("double", "completed"),
                ("add", "completed"),
            ]
            result = next(a for a in done["artifacts"] if a["name"] == "result")
            value = await mcp.call("kitaru_artifacts_get", artifact_id=result["artifact_id"])
            assert value["value"] == 10 and value["value_format"] == "json"
            logs = await mcp.call("get_execution_logs", exec_id=exec_id)
            assert "[double] doubling 3" in logs

            replay = await mcp.call("kitaru_executions_replay", exec_id=exec_id, from_="add")
            new = replay["execution"]
            assert new["exec_id"] != exec_id and new["original_exec_id"] == exec_id
            # The replay asks its wait again; stop it instead of answering.
            await mcp.poll(new["exec_id"], "waiting")
            await mcp.call("kitaru_executions_abort_wait", exec_id=new["exec_id"], wait="extra")
            await mcp.poll(new["exec_id"], "cancelled")
            listed = await mcp.call("kitaru_executions_list")
            assert [e["exec_id"] for e in listed] == [new["exec_id"], exec_id]
    assert "must not reach the MCP protocol" in (tmp_path / "server.stderr").read_text()


async def test_a_journal_in_a_missing_folder_stops_the_server_with_the_fix(
    tmp_path: Path,
) -> None:
    """A mistyped KITARU_STORE_URL folder: the server says so and exits, as the CLI does,
    instead of creating an empty journal there and serving it."""
    import subprocess

    missing = tmp_path / "no-such-folder" / "kitaru.db"
    env = {**os.environ, "KITARU_CONFIG_PATH": str(tmp_path / "cfg")}
    env["KITARU_STORE_URL"] = f"sqlite:///{missing}"
    proc = subprocess.run(
        [str(KITARU_MCP)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    assert f"the journal folder '{missing.parent}' does not exist" in proc.stderr
    assert "mkdir -p" in proc.stderr
    assert not missing.parent.exists()
