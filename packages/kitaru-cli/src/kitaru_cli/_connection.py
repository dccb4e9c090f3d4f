"""``kitaru init``, ``kitaru login`` and ``kitaru logout``: the project marker and which journal
this user's Kitaru uses. None of them needs a server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from kitaru_cli._mask import mask_url
from kitaru_cli._output import OutputOption, Session, session, usage_error

__all__ = ["init_command", "login_command", "logout_command"]

MARKER = ".kitaru"


def init_command(
    path: Annotated[
        str | None, typer.Argument(help="Project folder (default: the current folder).")
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Mark a folder as a Kitaru project (creates PATH/.kitaru)."""
    with session("init", output) as out:
        folder = Path(path if path is not None else ".").expanduser()
        if not folder.is_dir():
            raise usage_error(f"'{path if path is not None else folder}' is not a directory.")
        folder = folder.resolve()
        marker = folder / MARKER
        if marker.exists():
            raise usage_error(f"{folder} is already a Kitaru project ({marker} exists).")
        marker.mkdir()
        if out.json:
            out.emit_item({"path": str(folder), "repository_directory": str(marker)})
            return
        out.line(f"Initialized Kitaru project: {folder}")
        out.line(f"  Project directory: {marker}")


def _connection(url: str) -> str:
    return "local database" if url.lower().startswith(("sqlite", "memory")) else "database server"


def _env_warning(out: Session) -> None:
    override = os.environ.get("KITARU_STORE_URL", "").strip()
    if override:
        out.note(
            f"Warning: KITARU_STORE_URL is set ({mask_url(override)}) and takes precedence "
            "over the saved connection."
        )


def _item(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def login_command(
    url: Annotated[
        str | None,
        typer.Argument(
            help="Journal URL (sqlite:///path/kitaru.db, postgresql+psycopg://...). Without "
            "it: go back to the embedded default journal."
        ),
    ] = None,
    output: OutputOption = "text",
) -> None:
    """Use a journal from now on (saved in the user config file), or the embedded default."""
    with session("login", output) as out:
        from kitaru.runtime import disconnect, store_url

        if url is None:
            previous = disconnect()
            current = store_url()
            if out.json:
                out.emit_item(
                    _item(
                        action="reset" if previous else "unchanged",
                        connection=_connection(current),
                        store_url=mask_url(current),
                        previous_store_url=mask_url(previous) if previous else None,
                    )
                )
            else:
                if previous:
                    out.line(f"Forgot the saved journal: {mask_url(previous)}")
                out.line(f"Using the embedded default journal: {mask_url(current)}")
            _env_warning(out)
            return
        if not url.strip():
            raise usage_error("Give a journal URL such as sqlite:///path/kitaru.db.")
        import kitaru

        from kitaru_cli._reading import refuse_missing_journal_folder

        # As for KITARU_STORE_URL: a folder that does not exist is almost always a typo, and
        # connecting would create it with an empty journal in it (and save the URL).
        refuse_missing_journal_folder(url.strip(), source="given to kitaru login")
        kitaru.connect(url.strip())
        if out.json:
            out.emit_item(
                _item(
                    action="connected",
                    connection=_connection(url.strip()),
                    store_url=mask_url(url.strip()),
                )
            )
        else:
            out.line(f"Connected to journal: {mask_url(url.strip())}")
        _env_warning(out)


def logout_command(output: OutputOption = "text") -> None:
    """Forget the saved journal: use the embedded default journal again (idempotent)."""
    with session("logout", output) as out:
        from kitaru.runtime import disconnect, store_url

        previous = disconnect()
        current = store_url()
        if out.json:
            out.emit_item(
                _item(
                    logged_out=previous is not None,
                    previous_store_url=mask_url(previous) if previous else None,
                    connection=_connection(current),
                    store_url=mask_url(current),
                )
            )
        else:
            if previous:
                out.line(f"Logged out of {mask_url(previous)}")
            else:
                out.line("No saved journal to log out of.")
            out.line(f"Using the embedded default journal: {mask_url(current)}")
        _env_warning(out)
