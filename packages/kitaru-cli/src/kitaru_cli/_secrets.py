"""``kitaru secrets``: named sets of ``KEY=value`` pairs kept in the journal (``llm()`` reads a
model alias's secret for credentials). Values are never printed unless ``--show-values``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._output import OutputOption, session, usage_error

if TYPE_CHECKING:
    from kitaru.secrets import SecretRecord

__all__ = ["app", "parse_assignments"]

app = typer.Typer(
    name="secrets",
    help="Manage secrets (KEY=value sets in the journal): set, show, list, delete.",
)

NameOrId = Annotated[str, typer.Argument(help="Secret name or id.")]
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def parse_assignments(args: list[str]) -> dict[str, str]:
    """``--KEY=value`` and ``--KEY value`` pairs, in order; every malformed one is an error."""
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or token == "--":
            raise usage_error(f"Unexpected argument '{token}': give secret values as --KEY=value.")
        key, sep, value = token[2:].partition("=")
        if not sep:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise usage_error(
                    f"Missing value for secret key '{key}': use --{key}=value or --{key} value."
                )
            value = args[i + 1]
            i += 1
        if not _KEY.match(key):
            raise usage_error(
                f"Invalid secret key '{key}': keys look like environment variables "
                "([A-Za-z_][A-Za-z0-9_]*)."
            )
        if value == "":
            raise usage_error(f"Secret key '{key}' needs a non-empty value.")
        if key in values:
            raise usage_error(f"Secret key '{key}' is given more than once.")
        values[key] = value
        i += 1
    if not values:
        raise usage_error("Give at least one secret value: --KEY=value (or --KEY value).")
    return values


def summary(secret: SecretRecord) -> dict[str, Any]:
    """The summary shape: id, name, keys (sorted), has_missing_values, timestamps."""
    return {
        "id": secret.secret_id,
        "name": secret.name,
        "keys": sorted(secret.values),
        "has_missing_values": any(v in (None, "") for v in secret.values.values()),
        "created_at": secret.created_at.isoformat(),
        "updated_at": secret.updated_at.isoformat(),
    }


@app.command(
    "set",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def set_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Secret name.")],
    output: OutputOption = "text",
) -> None:
    """Create or update a secret: kitaru secrets set NAME --KEY=value [--KEY value] ...

    Keys look like environment variables (OPENAI_API_KEY). Setting an existing secret
    replaces all its values.
    """
    with session("secrets.set", output) as out:
        values = parse_assignments(list(ctx.args))
        from kitaru.secrets import set_secret

        secret, created = set_secret(name, values)
        result = "created" if created else "updated"
        if out.json:
            out.emit_item({**summary(secret), "result": result})
            return
        out.line(f"{result.capitalize()} secret: {secret.name}")
        out.line(f"  ID: {secret.secret_id}")
        out.line(f"  Keys: {', '.join(sorted(secret.values))}")


@app.command("show")
def show_command(
    name_or_id: NameOrId,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Print the values too (they are secret).")
    ] = False,
    output: OutputOption = "text",
) -> None:
    """Show one secret's keys (values only with --show-values)."""
    with session("secrets.show", output) as out:
        from kitaru.secrets import get_secret

        secret = get_secret(name_or_id)
        keys = sorted(secret.values)
        if out.json:
            values = {k: (secret.values[k] if show_values else None) for k in keys}
            out.emit_item({**summary(secret), "values": values})
            return
        rows = [
            ("Name", secret.name),
            ("ID", secret.secret_id),
            ("Created", secret.created_at.isoformat(timespec="seconds")),
            ("Updated", secret.updated_at.isoformat(timespec="seconds")),
        ]
        rows.extend((k, secret.values[k] if show_values else "***") for k in keys)
        out.snapshot(f"Secret: {secret.name}", rows)
        if not show_values:
            out.note("Values are hidden; add --show-values to print them.")


@app.command("list")
def list_command(output: OutputOption = "text") -> None:
    """List secrets (names and keys, never values), sorted by name."""
    with session("secrets.list", output) as out:
        from kitaru.secrets import list_secrets

        secrets = sorted(list_secrets(), key=lambda s: s.name)
        if out.json:
            out.emit_items([summary(s) for s in secrets])
            return
        if not secrets:
            out.line("No secrets found.")
            return
        out.table(
            ("Name", "Keys", "ID"),
            [(s.name, ", ".join(sorted(s.values)), s.secret_id) for s in secrets],
        )


@app.command("delete")
def delete_command(name_or_id: NameOrId, output: OutputOption = "text") -> None:
    """Delete a secret (exact name or id)."""
    with session("secrets.delete", output) as out:
        from kitaru.secrets import delete_secret

        secret = delete_secret(name_or_id)
        if out.json:
            out.emit_item(summary(secret))
            return
        out.line(f"Deleted secret: {secret.name}")
