"""Fixtures for the MCP server tests: an isolated config directory per test, the in-process
journal (``memory://``: flows run on threads of the test process) for the in-process tests,
flow files in a temporary folder, and an ``mcp.Client`` helper.

Only the plugins these tests need load (``KITARU_LOAD_PLUGINS=sql,mcp``), so a sibling
package that is half-installed in a development venv cannot break them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kitaru import _config
from kitaru._runtime import reset_default_runtime
from kitaru.plugins import reset_plugin_manager

ENV_VARS = (
    "KITARU_STORE_URL",
    "KITARU_ARTIFACT_STORE",
    "KITARU_STACK",
    "KITARU_CACHE",
    "KITARU_RETRIES",
    "KITARU_IMAGE",
    "KITARU_DISABLE_PLUGIN_AUTOLOAD",
    "KITARU_TRACE_PLUGINS",
    "KITARU_LEASE_SECONDS",
)
PLUGINS = "sql,mcp"

FLOWS = '''
import pathlib

import kitaru
from kitaru import checkpoint, flow

HERE = pathlib.Path(__file__).resolve().parent


class Opaque:
    """A value with no JSON form (stored pickled)."""

    def __repr__(self) -> str:
        return "Opaque()"


@checkpoint
def double(x: int) -> int:
    print(f"doubling {x}")
    return x * 2


@checkpoint
def add(a: int, b: int) -> int:
    return a + b


@checkpoint
def flaky(x: int) -> int:
    if (HERE / "fail.flag").exists():
        raise ValueError("flaky failed on purpose")
    return x + 1


@flow
def approval(x: int) -> int:
    doubled = double(x)
    extra = kitaru.wait(schema=int, name="extra", question="How much to add?", timeout=1)
    return add(doubled, extra)


@flow
def simple(x: int) -> int:
    return double(x)


@flow
def fan(x: int) -> list[int]:
    return [f.result() for f in double.map([x, x + 1])]


@flow
def fragile(x: int) -> int:
    return flaky(double(x))


@checkpoint
def keep() -> str:
    kitaru.save("opaque", Opaque())
    kitaru.save("numbers", {"a": [1, 2]})
    return "kept"


@flow
def keeper() -> str:
    return keep()


not_a_flow = 42
'''


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _join_flow_threads(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("kitaru-flow-"):
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh config directory and in-process journal; the cwd is the test's tmp folder."""
    config = tmp_path / "kitaru-config"
    monkeypatch.setenv("KITARU_CONFIG_PATH", str(config))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITARU_LOAD_PLUGINS", PLUGINS)
    monkeypatch.setenv("KITARU_STORE_URL", "memory://")
    monkeypatch.setenv("KITARU_NO_PROMPT", "1")
    monkeypatch.chdir(tmp_path)
    reset_default_runtime()
    reset_plugin_manager()
    _config.set_configured_layer(_config.ExecutionSettings())
    yield config
    _join_flow_threads()
    reset_default_runtime()
    reset_plugin_manager()
    _config.set_configured_layer(_config.ExecutionSettings())


@pytest.fixture
def flows_file(tmp_path: Path) -> Path:
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    return path


Call = Callable[..., Awaitable[Any]]


class ToolFailed(AssertionError):
    pass


@pytest.fixture
async def mcp_client() -> AsyncIterator[Any]:
    from kitaru_mcp.server import build_server
    from mcp import Client

    async with Client(build_server()) as client:
        yield client


def unpack(result: Any) -> Any:
    """The data of a successful tool result, after checking what every client relies on:
    exactly one text block, holding the same document as the structured content (or, for
    a text tool such as the logs, the text itself). A list document ``{"items", "count"}``
    is checked (``count`` matches) and its items returned."""
    assert len(result.content) == 1, f"expected one content block, got {result.content!r}"
    (block,) = result.content
    assert block.type == "text"
    data = result.structured_content
    assert isinstance(data, dict), data
    if set(data) == {"result"} and isinstance(data["result"], str):
        assert block.text == data["result"]
        return data["result"]
    assert json.loads(block.text) == data
    if set(data) == {"items", "count"}:
        assert data["count"] == len(data["items"])
        return data["items"]
    return data


@pytest.fixture
def call(mcp_client: Any) -> Call:
    """``await call(tool, **args)``: the result's data (see :func:`unpack`); a tool error
    raises :class:`ToolFailed` with the error text."""

    async def invoke(tool: str, **arguments: Any) -> Any:
        result = await mcp_client.call_tool(tool, arguments)
        if result.is_error:
            raise ToolFailed("".join(getattr(c, "text", "") for c in result.content))
        return unpack(result)

    return invoke


@pytest.fixture
def call_error(mcp_client: Any) -> Callable[..., Awaitable[str]]:
    """``await call_error(tool, **args)``: the error text of a call that must fail."""

    async def invoke(tool: str, **arguments: Any) -> str:
        result = await mcp_client.call_tool(tool, arguments)
        text = "".join(getattr(c, "text", "") for c in result.content)
        assert result.is_error, f"{tool} did not fail: {text[:500]}"
        return text

    return invoke


Poll = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def poll(call: Call) -> Poll:
    """``await poll(exec_id, status)``: poll ``kitaru_executions_get`` until the execution has
    ``status`` (an assertion error after ``timeout`` seconds)."""
    import anyio

    async def wait_for(exec_id: str, status: str, *, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            execution: dict[str, Any] = await call("kitaru_executions_get", exec_id=exec_id)
            if execution["status"] == status:
                return execution
            finished = execution["status"] in ("completed", "failed", "cancelled")
            if finished or time.monotonic() > deadline:
                raise AssertionError(
                    f"execution {exec_id} is {execution['status']}, not {status}: {execution}"
                )
            await anyio.sleep(0.02)

    return wait_for
