"""``kitaru log-store``: where runtime logs go besides the journal (set, show, reset)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._output import OutputOption, Session, session, usage_error

if TYPE_CHECKING:
    from kitaru.log_store import LogStoreConfig

__all__ = ["app", "describe", "rows"]

app = typer.Typer(
    name="log-store",
    help="Export runtime logs over OTLP as well as to the journal: set, show, reset.",
)

ENV_NAMES = "KITARU_LOG_STORE_BACKEND/ENDPOINT/API_KEY"


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def _warning(config: LogStoreConfig) -> str | None:
    from kitaru.log_store import persisted_log_store

    if config.source != "environment":
        return None
    try:
        saved = persisted_log_store()
    except Exception:
        return None
    if saved.is_default or (saved.backend, saved.endpoint) == (config.backend, config.endpoint):
        return None
    return (
        f"{ENV_NAMES} override the log store saved in the user config file "
        f"({saved.backend} at {saved.endpoint})."
    )


def describe(config: LogStoreConfig) -> dict[str, Any]:
    """The JSON item: backend, endpoint, api_key_configured, source, active stack, warning
    (``None`` fields omitted; the API key itself never appears)."""
    import kitaru

    item = config.describe()
    if config.logs_url is not None:
        item["export_url"] = config.logs_url
    try:
        item["active_stack_name"] = kitaru.current_stack().name
        item["active_stack_backend"] = "journal"  # every stack keeps runtime logs in the journal
    except Exception:  # a corrupt config file is reported by the commands that need it
        pass
    item["warning"] = _warning(config)
    return {k: v for k, v in item.items() if v is not None}


def rows(config: LogStoreConfig) -> list[tuple[str, str]]:
    out = [("Backend", config.backend)]
    if config.endpoint is not None:
        out.append(("Endpoint", config.endpoint))
        out.append(("Export URL", config.logs_url or ""))
        out.append(("API key", "***" if config.api_key_configured else "not set"))
    out.append(("Source", config.source))
    return out


def _show(out: Session, config: LogStoreConfig, title: str = "Log store") -> None:
    item = describe(config)
    if out.json:
        out.emit_item(item)
        return
    lines = rows(config)
    if "active_stack_name" in item:
        lines.append(("Active stack", f"{item['active_stack_name']} (keeps logs in the journal)"))
    out.snapshot(title, lines)
    if config.is_default:
        out.line("Runtime logs are kept in the journal only.")
    else:
        out.line(f"Runtime logs are kept in the journal and also exported to {config.logs_url}.")
    if "warning" in item:
        out.note(f"Warning: {item['warning']}")


@app.command("set")
def set_command(
    backend: Annotated[
        str, typer.Argument(help="A name for the OTLP destination: otlp, datadog, ...")
    ],
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="OTLP/HTTP base URL (logs go to <URL>/v1/logs)."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="Sent as 'Authorization: Bearer <key>'; never shown."),
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Also export runtime logs over OTLP/HTTP to ENDPOINT (saved in the user config file)."""
    with session("log-store.set", output) as out:
        from kitaru.log_store import environment_overrides, get_log_store, set_log_store

        if endpoint is None:
            raise usage_error("`--endpoint` is required: the OTLP/HTTP URL to export logs to.")
        saved = set_log_store(backend, endpoint=endpoint, api_key=api_key)
        if environment_overrides():
            out.note(f"Warning: {ENV_NAMES} are set and take precedence over this setting.")
            with contextlib.suppress(Exception):  # an invalid variable: show what was saved
                saved = get_log_store()
        _show(out, saved)


@app.command("show")
def show_command(output: OutputOption = "text") -> None:
    """Show the effective log store and where its setting comes from."""
    with session("log-store.show", output) as out:
        from kitaru.log_store import get_log_store

        _show(out, get_log_store())


@app.command("reset")
def reset_command(output: OutputOption = "text") -> None:
    """Go back to the default: runtime logs are kept in the journal only."""
    with session("log-store.reset", output) as out:
        from kitaru.log_store import environment_overrides, get_log_store, reset_log_store

        reset_log_store()
        if environment_overrides():
            out.note(f"Warning: {ENV_NAMES} are set and still decide the log store.")
        _show(out, get_log_store())
