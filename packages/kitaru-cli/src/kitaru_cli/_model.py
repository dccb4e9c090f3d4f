"""``kitaru model``: model aliases for ``kitaru.llm()`` (kept in the user config file)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._output import OutputOption, session, usage_error

if TYPE_CHECKING:
    from kitaru.model_aliases import ModelAlias

__all__ = ["app"]

app = typer.Typer(name="model", help="Manage model aliases for kitaru.llm(): register, list.")


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def alias_item(alias: ModelAlias) -> dict[str, Any]:
    """``{alias, model, secret, is_default}`` (``secret`` omitted when there is none)."""
    item: dict[str, Any] = {"alias": alias.alias, "model": alias.model}
    if alias.secret is not None:
        item["secret"] = alias.secret
    item["is_default"] = alias.is_default
    return item


def alias_line(alias: ModelAlias) -> str:
    secret = f" (secret={alias.secret})" if alias.secret else ""
    default = " [default]" if alias.is_default else ""
    return f"{alias.alias}: {alias.model}{secret}{default}"


@app.command("register")
def register_command(
    alias: Annotated[str, typer.Argument(help="Alias name (lower-case letters, digits, _ -).")],
    model: Annotated[
        str | None, typer.Option("--model", help="The model, as provider/model.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="A secret (kitaru secrets set) holding the credentials."),
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Register (or update) a model alias. The first alias becomes the default."""
    with session("model.register", output) as out:
        if model is None:
            raise usage_error("`--model` is required: the model as provider/model.")
        secret_name = None
        if secret is not None:
            if not secret.strip():
                raise usage_error("`--secret` must name a secret.")
            secret_name = _existing_secret(secret.strip())
        from kitaru.model_aliases import register_alias

        registered = register_alias(alias, model, secret=secret_name)
        if out.json:
            out.emit_item(alias_item(registered))
            return
        out.line(f"Registered model alias: {alias_line(registered)}")


def _existing_secret(name: str) -> str:
    from kitaru.secrets import get_secret, list_secrets

    try:
        record = get_secret(name)
    except LookupError:
        known = ", ".join(s.name for s in list_secrets()) or "none"
        raise usage_error(
            f"Secret '{name}' does not exist (existing secrets: {known}). Create it first: "
            f"kitaru secrets set {name} --KEY=value."
        ) from None
    return record.name


@app.command("list")
def list_command(output: OutputOption = "text") -> None:
    """List model aliases (including ones passed in KITARU_MODEL_REGISTRY)."""
    with session("model.list", output) as out:
        from kitaru.errors import KitaruUsageError
        from kitaru.model_aliases import list_aliases
        from kitaru.runtime import read_user_config

        try:
            read_user_config()
        except KitaruUsageError as exc:  # aliases passed in the environment still work
            out.note(f"Warning: {exc} Its aliases are not listed.")
        aliases = list_aliases()
        if out.json:
            out.emit_items([alias_item(a) for a in aliases])
            return
        if not aliases:
            out.line(
                "No model aliases registered. Add one: kitaru model register ALIAS "
                "--model provider/model"
            )
            return
        for alias in aliases:
            out.line(alias_line(alias))
