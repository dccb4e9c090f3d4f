"""``kitaru status``: versions, where Kitaru keeps its data, the active stack, plugins, the log
store and the (masked) environment. Works without a server and without a journal: a part that
cannot be read is shown as an error line, never as a crash."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from kitaru_cli._mask import mask_env_value, mask_url
from kitaru_cli._output import OutputOption, session

__all__ = ["environment", "status_command"]

T = TypeVar("T")

#: Provider variables shown besides every ``KITARU_*`` one (plugins' providers are added).
PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENROUTER_API_KEY",
    "OLLAMA_HOST",
)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _provider_vars() -> set[str]:
    names = set(PROVIDER_VARS)
    try:
        from kitaru.plugins import collect

        providers = collect("kitaru_register_llm_providers", what="LLM provider")
        names.update(p.credential_env for p in providers.values() if p.credential_env)
    except Exception:  # plugins are reported in their own row
        pass
    return names


def environment() -> dict[str, str]:
    """``KITARU_*`` and provider variables, secrets masked (SPEC §7.2)."""
    wanted = _provider_vars()
    return {
        name: mask_env_value(name, value)
        for name, value in sorted(os.environ.items())
        if name.startswith("KITARU_") or name in wanted
    }


class _Report:
    """Collects status fields; a part that fails becomes an error entry."""

    def __init__(self) -> None:
        self.item: dict[str, Any] = {}
        self.errors: list[dict[str, str]] = []

    def attempt(self, part: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except Exception as exc:
            from kitaru_cli._render import message_of

            self.errors.append({"part": part, "message": message_of(exc)})
            return None


def _journal_source(report: _Report) -> str:
    if os.environ.get("KITARU_STORE_URL", "").strip():
        return "environment (KITARU_STORE_URL)"
    from kitaru.runtime import saved_store_url

    saved = report.attempt("journal", saved_store_url)
    return "kitaru login" if saved else "default"


def _sqlite_file_missing(url: str) -> bool:
    """True for a ``sqlite:///path`` journal whose file does not exist yet."""
    from pathlib import Path

    if not url.lower().startswith("sqlite") or ":///" not in url:
        return False
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return bool(path) and path != ":memory:" and not Path(path).exists()


JOURNAL_STATUS_TEXT = {
    "ok": "ok",
    "not_created": "not created yet (the first run creates it)",
}


def _journal_status(report: _Report, url: str) -> str:
    """``ok``, ``not_created`` (an embedded journal no run has created yet) or ``error``."""
    if _sqlite_file_missing(url):
        from kitaru.runtime import missing_journal_folder

        if missing_journal_folder(url) is None:
            return "not_created"
        from kitaru_cli._reading import check_journal_folder

        report.attempt("journal", check_journal_folder)  # names the folder and the fix
        return "error"

    def open_journal() -> str:
        from kitaru.runtime import current_runtime

        current_runtime().backend.list_executions(limit=1)
        return "ok"

    return report.attempt("journal", open_journal) or "error"


def _collect() -> _Report:
    from kitaru.runtime import artifact_store_uri, config_dir, store_url

    report = _Report()
    item = report.item
    item["sdk_version"] = _version("kitaru-core")
    item["cli_version"] = _version("kitaru-cli")
    item["config_dir"] = str(config_dir())
    from kitaru.runtime import read_user_config, user_config_path

    item["config_file"] = str(user_config_path())
    report.attempt("config_file", read_user_config)
    url = report.attempt("journal", store_url)
    if url is not None:
        item["connection"] = (
            "local database" if url.lower().startswith(("sqlite", "memory")) else "database server"
        )
        item["store_url"] = mask_url(url)
        item["store_source"] = _journal_source(report)
        item["journal_status"] = _journal_status(report, url)
    item["artifact_store"] = report.attempt("artifact_store", artifact_store_uri)

    import kitaru

    stack = report.attempt("active_stack", kitaru.current_stack)
    if stack is not None:
        item["active_stack"] = stack.name
        item["active_stack_type"] = stack.type

    from kitaru.plugins import list_plugins

    plugins = report.attempt("plugins", list_plugins)
    if plugins is not None:
        item["plugins"] = [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "builtin": p.builtin,
            }
            for p in plugins
        ]

    from kitaru.log_store import get_log_store

    log_store = report.attempt("log_store", get_log_store)
    if log_store is not None:
        item["log_store"] = {k: v for k, v in log_store.describe().items() if v is not None}
        if log_store.logs_url is not None:
            item["log_store"]["export_url"] = log_store.logs_url
    item["environment"] = environment()
    return report


def _text_rows(item: dict[str, Any], errors: list[dict[str, str]]) -> list[tuple[str, str]]:
    failed = {e["part"]: e["message"] for e in errors}
    config_error = failed.get("config_file")

    def error(part: str) -> str:
        if part not in failed:
            return "-"
        if part != "config_file" and failed[part] == config_error:
            return "unavailable (the config file is corrupt, see above)"
        return f"error: {failed[part]}"

    def value(key: str, part: str) -> str:
        if key in item and item[key] is not None:
            return str(item[key])
        return error(part)

    rows = [
        ("SDK version", value("sdk_version", "sdk_version")),
        ("CLI version", value("cli_version", "cli_version")),
        ("Config directory", value("config_dir", "config_dir")),
        ("Config file", error("config_file") if config_error else value("config_file", "")),
        ("Connection", value("connection", "journal")),
        ("Journal", value("store_url", "journal")),
        ("Journal source", value("store_source", "journal")),
    ]
    journal = item.get("journal_status")
    if journal == "error" or journal is None:
        rows.append(("Journal status", error("journal")))
    else:
        rows.append(("Journal status", JOURNAL_STATUS_TEXT.get(journal, journal)))
    rows.append(("Artifact store", value("artifact_store", "artifact_store")))
    if "active_stack" in item:
        rows.append(("Active stack", f"{item['active_stack']} ({item['active_stack_type']})"))
    else:
        rows.append(("Active stack", value("active_stack", "active_stack")))
    if "plugins" in item:
        rows.append(("Plugins", ", ".join(p["name"] for p in item["plugins"]) or "-"))
    else:
        rows.append(("Plugins", value("plugins", "plugins")))
    store = item.get("log_store")
    if store is not None:
        text = f"{store['backend']} ({store['source']})"
        if "export_url" in store:
            key = ", API key ***" if store["api_key_configured"] else ""
            text = f"{store['backend']} → {store['export_url']}{key} ({store['source']})"
        rows.append(("Log store", text))
    else:
        rows.append(("Log store", value("log_store", "log_store")))
    return rows


def status_command(output: OutputOption = "text") -> None:
    """Show versions, journal, artifact store, stack, plugins, log store and environment.

    Secrets in the environment are masked. Needs no server; opens the journal only to check
    that it can be opened (a missing embedded journal is not created).
    """
    with session("status", output) as out:
        report = _collect()
        item = {k: v for k, v in report.item.items() if v is not None}
        if report.errors:
            item["errors"] = report.errors
        if out.json:
            out.emit_item(item)
            return
        out.snapshot("Kitaru status", _text_rows(report.item, report.errors))
        env = item["environment"]
        out.snapshot(
            "Environment",
            list(env.items()) or [("(none)", "no KITARU_* or provider variables set")],
        )
