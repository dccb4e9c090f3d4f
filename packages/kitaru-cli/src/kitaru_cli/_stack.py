"""``kitaru stack``: list, show, create, use and delete the stacks flows run on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kitaru_cli._output import OutputOption, Session, session, usage_error

if TYPE_CHECKING:
    from kitaru import StackInfo

__all__ = ["app"]

app = typer.Typer(
    name="stack",
    help="Manage stacks (where flows run): list, current, show, use, create, delete.",
)

NameOrId = Annotated[str, typer.Argument(help="Stack name or id.")]


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def stack_item(stack: StackInfo) -> dict[str, Any]:
    return {
        "id": stack.id,
        "name": stack.name,
        "is_active": stack.is_active,
        "type": stack.type,
        "is_managed": stack.is_managed,
        "labels": dict(stack.labels),
    }


def _labels_text(stack: StackInfo) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(stack.labels.items())) or "-"


def _rows(stack: StackInfo) -> list[tuple[str, str]]:
    return [
        ("Name", stack.name),
        ("ID", stack.id),
        ("Type", stack.type),
        ("Active", "yes" if stack.is_active else "no"),
        ("Managed", "yes" if stack.is_managed else "no"),
        ("Labels", _labels_text(stack)),
    ]


@app.command("list")
def list_command(output: OutputOption = "text") -> None:
    """List every stack; the active one is marked."""
    with session("stack.list", output) as out:
        import kitaru

        stacks = kitaru.list_stacks()
        if out.json:
            out.emit_items([stack_item(s) for s in stacks])
            return
        out.table(
            ("Active", "Name", "Type", "ID"),
            [("*" if s.is_active else "", s.name, s.type, s.id) for s in stacks],
        )


@app.command("current")
def current_command(output: OutputOption = "text") -> None:
    """Show the active stack."""
    with session("stack.current", output) as out:
        import kitaru

        stack = kitaru.current_stack()
        if out.json:
            out.emit_item(stack_item(stack))
        else:
            out.snapshot("Active stack", _rows(stack))


def _find(name_or_id: str) -> StackInfo:
    """The stack ``name_or_id`` names: an exact id beats a name."""
    import kitaru

    key = name_or_id.strip()
    if not key:
        raise usage_error("Give a stack name or id.")
    stacks = kitaru.list_stacks()
    for match in ([s for s in stacks if s.id == key], [s for s in stacks if s.name == key]):
        if match:
            return match[0]
    raise usage_error(
        f"Unknown stack '{key}'. Available stacks: {', '.join(s.name for s in stacks)}."
    )


def _components(stack: StackInfo) -> list[dict[str, Any]]:
    """What a local stack is made of, as the roles the original's stacks had."""
    from kitaru.log_store import get_log_store
    from kitaru.runtime import artifact_store_uri, store_url

    from kitaru_cli._mask import mask_url

    journal = store_url()
    artifacts = artifact_store_uri()
    log_store = get_log_store()
    log_details = "runtime logs stay in the journal"
    if log_store.endpoint is not None:
        log_details += f"; also exported over OTLP/HTTP to {log_store.logs_url}"
    return [
        {
            "role": "orchestrator",
            "name": stack.name,
            "backend": stack.type,
            "details": "in-process threads; continuations in detached worker processes"
            if stack.type == "local"
            else f"provided by the '{stack.type}' stack type",
        },
        {
            "role": "journal",
            "name": "journal",
            "backend": _scheme(journal, "sqlite"),
            "details": mask_url(journal),
        },
        {
            "role": "artifact_store",
            "name": "artifact store",
            "backend": _scheme(artifacts, "file"),
            "details": artifacts,
        },
        {
            "role": "log_store",
            "name": "log store",
            "backend": log_store.backend,
            "details": log_details,
        },
    ]


def _scheme(url: str, default: str) -> str:
    scheme = url.partition("://")[0].split("+")[0].lower() if "://" in url else ""
    return scheme if len(scheme) > 1 else default  # a Windows drive letter is a path


@app.command("show")
def show_command(name_or_id: NameOrId, output: OutputOption = "text") -> None:
    """Show one stack and what it is made of (an exact id beats a name)."""
    with session("stack.show", output) as out:
        stack = _find(name_or_id)
        components = _components(stack)
        if out.json:
            out.emit_item({**stack_item(stack), "components": components})
            return
        rows = _rows(stack)
        rows.extend(
            (c["role"].replace("_", " ").capitalize(), f"{c['backend']} ({c['details']})")
            for c in components
        )
        out.snapshot(f"Stack: {stack.name}", rows)


def _switched(out: Session, previous: str, current: str) -> None:
    if previous != current:
        out.line(f"Active stack: {previous} → {current}")


@app.command("use")
def use_command(name_or_id: NameOrId, output: OutputOption = "text") -> None:
    """Make a stack the active one (persisted in the user config file)."""
    with session("stack.use", output) as out:
        import kitaru

        previous = kitaru.current_stack().name
        stack = kitaru.use_stack(name_or_id)
        if out.json:
            out.emit_item({**stack_item(stack), "previous_active_stack": previous})
            return
        if previous == stack.name:
            out.line(f"Active stack: {stack.name} (unchanged)")
        else:
            _switched(out, previous, stack.name)


def _parse_labels(labels: list[str] | None) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for text in labels or []:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise usage_error(f"`--label` must look like KEY=VALUE, got '{text}'.")
        if key in parsed:
            raise usage_error(f"`--label` '{key}' is given more than once.")
        parsed[key] = value.strip()
    return parsed


def _active_name_or_default() -> str:
    """The active stack's name; ``default`` when the config file is corrupt (creating a stack
    rewrites it, as every writer does)."""
    import kitaru
    from kitaru.errors import KitaruUsageError

    try:
        return kitaru.current_stack().name
    except KitaruUsageError:
        return "default"


@app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Name of the new stack.", show_default=False)],
    stack_type: Annotated[
        str,
        typer.Option("--type", help="Stack type (installed by plugins; core ships 'local')."),
    ] = "local",
    no_activate: Annotated[
        bool, typer.Option("--no-activate", help="Create it without making it active.")
    ] = False,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="A label KEY=VALUE (repeat for more).", metavar="KEY=VALUE"),
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Create a stack (and make it the active one unless --no-activate)."""
    with session("stack.create", output) as out:
        if not name.strip():
            raise usage_error("A stack name is required: kitaru stack create NAME.")
        labels = _parse_labels(label)
        kind = stack_type.strip().lower()
        if not kind:
            raise usage_error("`--type` must not be empty.")
        import kitaru

        previous = _active_name_or_default()
        stack = kitaru.create_stack(
            name.strip(), type=kind, activate=not no_activate, labels=labels or None
        )
        if out.json:
            out.emit_item(
                {**stack_item(stack), "previous_active_stack": previous, "stack_type": stack.type}
            )
            return
        out.line(f"Created stack: {stack.name} ({stack.type})")
        out.line(f"  ID: {stack.id}")
        out.line(f"  Labels: {_labels_text(stack)}")
        if stack.is_active:
            _switched(out, previous, stack.name)


@app.command("delete")
def delete_command(
    name_or_id: NameOrId,
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive", help="Also delete the stack's components (local stacks own none)."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Delete the active stack ('default' becomes active)."),
    ] = False,
    output: OutputOption = "text",
) -> None:
    """Delete a stack. The built-in 'default' stack cannot be deleted."""
    with session("stack.delete", output) as out:
        import kitaru

        stack = _find(name_or_id)
        if stack.is_active and not force and stack.name != "default":
            from kitaru.errors import KitaruStateError

            raise KitaruStateError(
                f"Stack '{stack.name}' is active. Use another stack first "
                "(`kitaru stack use default`), or pass --force (the 'default' stack becomes "
                "active)."
            )
        kitaru.delete_stack(stack.id, recursive=recursive, force=force)
        active = kitaru.current_stack().name
        if out.json:
            out.emit_item(
                {
                    "deleted_stack": stack.name,
                    "components_deleted": [],
                    "new_active_stack": active,
                    "recursive": recursive,
                }
            )
            return
        out.line(f"Deleted stack: {stack.name}")
        if stack.is_active:
            _switched(out, stack.name, active)
