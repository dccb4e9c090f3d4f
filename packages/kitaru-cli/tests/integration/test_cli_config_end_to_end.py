"""End to end, with the real ``kitaru`` console script: stacks, secrets, model aliases, status,
login/logout, init, and runtime logs exported over OTLP from a detached worker."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SECRET = "sk-e2e-0123456789abcdef"
API_KEY = "otlp-key-e2e-987654321"

FLOWS = textwrap.dedent(
    """
    import kitaru


    @kitaru.checkpoint
    def greet(name: str) -> str:
        print(f"hello {name}")
        print("second line")
        return name.upper()


    @kitaru.flow
    def hello(name: str) -> str:
        return greet(name)
    """
)


class _Collector(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts.append(  # type: ignore[attr-defined]
            {"path": self.path, "authorization": self.headers.get("Authorization"), "body": body}
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def collector() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.posts = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _records(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for post in posts:
        for resource in post["body"]["resourceLogs"]:
            for scope in resource["scopeLogs"]:
                for record in scope["logRecords"]:
                    attrs = {
                        a["key"]: a["value"]["stringValue"]
                        for a in record["attributes"]
                        if "stringValue" in a["value"]
                    }
                    out.append(
                        {
                            "body": record["body"]["stringValue"],
                            "severity": record["severityText"],
                            "attrs": attrs,
                        }
                    )
    return out


def test_configuration_journey(
    kitaru_exe: Callable[..., Any], isolated_config: Path, tmp_path: Path
) -> None:
    def ok(*args: str) -> Any:
        result = kitaru_exe(*args)
        assert result.exit_code == 0, (args, result.stderr)
        return result

    created = ok("stack", "create", "research", "--label", "team=ml")
    assert created.stdout.splitlines()[-1] == "Active stack: default → research"
    assert ok("stack", "current", "-o", "json").json()["item"]["name"] == "research"

    assert ok("secrets", "set", "openai", f"--OPENAI_API_KEY={SECRET}").stdout.startswith(
        "Created secret: openai"
    )
    registered = ok(
        "model", "register", "smart", "--model", "openai/gpt-4o", "--secret", "openai", "-o", "json"
    ).json()["item"]
    assert registered == {
        "alias": "smart",
        "model": "openai/gpt-4o",
        "secret": "openai",
        "is_default": True,
    }
    assert ok("model", "list").stdout.strip() == "smart: openai/gpt-4o (secret=openai) [default]"
    shown = ok("secrets", "show", "openai")
    assert SECRET not in shown.stdout + shown.stderr

    status = ok("status", "-o", "json").json()["item"]
    assert (status["active_stack"], status["journal_status"], status["store_source"]) == (
        "research",
        "ok",
        "default",
    )
    assert status["plugins"][-1]["name"] == "sql"
    assert SECRET not in json.dumps(status)

    team = f"sqlite:///{tmp_path / 'team.db'}"
    ok("login", team)
    status = ok("status", "-o", "json").json()["item"]
    assert (status["store_url"], status["store_source"]) == (team, "kitaru login")
    missing = kitaru_exe("secrets", "show", "openai", "-o", "json")  # another journal
    assert missing.exit_code == 1 and missing.error()["type"] == "NotFoundError"
    assert ok("logout").stdout.splitlines()[0] == f"Logged out of {team}"
    assert ok("secrets", "show", "openai", "-o", "json").json()["item"]["keys"] == [
        "OPENAI_API_KEY"
    ]

    project = tmp_path / "project"
    project.mkdir()
    assert ok("init", str(project), "-o", "json").json()["item"]["repository_directory"] == str(
        project / ".kitaru"
    )
    assert kitaru_exe("init", str(project)).exit_code == 1


def test_runtime_logs_are_exported_over_otlp(
    kitaru_exe: Callable[..., Any], tmp_path: Path, collector: ThreadingHTTPServer
) -> None:
    (tmp_path / "flows.py").write_text(FLOWS)
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    configured = kitaru_exe(
        "log-store", "set", "otlp", "--endpoint", endpoint, "--api-key", API_KEY
    )
    assert configured.exit_code == 0, configured.stderr
    assert API_KEY not in configured.stdout + configured.stderr
    run = kitaru_exe("run", "flows.py:hello", "--args", '{"name": "ada"}', "--wait", "-o", "json")
    assert run.exit_code == 0, run.stderr
    exec_id = json.loads(run.stdout.splitlines()[-1])["item"]["exec_id"]
    posts: list[dict[str, Any]] = collector.posts  # type: ignore[attr-defined]
    deadline = time.monotonic() + 15
    while len(_records(posts)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    records = _records(posts)
    assert [r["body"] for r in records] == ["hello ada", "second line"]
    assert records[0]["attrs"] == {
        "kitaru.exec_id": exec_id,
        "kitaru.source": "step",
        "kitaru.checkpoint": "greet",
        "kitaru.stream": "stdout",
    }
    assert {p["path"] for p in posts} == {"/v1/logs"}
    assert {p["authorization"] for p in posts} == {f"Bearer {API_KEY}"}
    logs = kitaru_exe("executions", "logs", exec_id)
    assert "hello ada" in logs.stdout  # the journal keeps them too
    for args in (["status"], ["log-store", "show", "-o", "json"]):
        shown = kitaru_exe(*args)
        assert shown.exit_code == 0 and API_KEY not in shown.stdout + shown.stderr
