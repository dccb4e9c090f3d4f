"""Opening the journal, and the bodies of ``executions list`` and ``executions get``.

No Typer here: the Typer commands (:mod:`kitaru_cli._executions`) and the fast path of
``-o json`` (:mod:`kitaru_cli._fast`) share these functions, so they validate, read and fail
alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from kitaru_cli._render import usage_error

if TYPE_CHECKING:
    from kitaru import KitaruClient
    from kitaru.client import Execution, PendingWait
    from kitaru.runtime import Runtime

__all__ = [
    "check_journal_folder",
    "get_execution",
    "list_executions",
    "open_client",
    "parse_status",
    "refuse_missing_journal_folder",
    "resolve_id",
]


def open_client(*, read_only: bool = False) -> KitaruClient:
    """The client on the journal named by the environment (opened here, on first use).

    ``read_only``: for commands that only read. Unless a runtime is in scope
    (``kitaru.runtime.use_runtime``: an embedding program's or a test's), and if a plugin
    registered a journal reader for the journal's URL scheme
    (``kitaru_register_journal_readers``), the client reads through that reader; otherwise
    it is the usual client.
    """
    from kitaru import KitaruClient
    from kitaru.runtime import scoped_runtime

    if scoped_runtime() is None:
        check_journal_folder()
    if read_only and scoped_runtime() is None:
        runtime = _reader_runtime()
        if runtime is not None:
            from kitaru.runtime import use_runtime

            with use_runtime(runtime):
                return KitaruClient()
    return KitaruClient()


def check_journal_folder() -> None:
    """A usage error when the configured SQLite journal's folder does not exist.

    Such a path is almost always a typo (``KITARU_STORE_URL=sqlite:////tmp/kitaru/x.db``
    for ``.../kitaru-data/x.db``), and the SQL backend would otherwise create the folder and
    an empty journal in it, so ``executions list`` would read as empty and exit 0.
    """
    import os

    from kitaru.runtime import store_url

    source = (
        "KITARU_STORE_URL" if os.environ.get("KITARU_STORE_URL", "").strip() else "kitaru login"
    )
    refuse_missing_journal_folder(store_url(), source=f"from {source}")


def refuse_missing_journal_folder(url: str, *, source: str) -> None:
    """The usage error of :func:`check_journal_folder` for the journal ``url`` (``source``
    says where the URL came from), when its SQLite folder does not exist; else nothing."""
    from kitaru.runtime import missing_journal_folder

    folder = missing_journal_folder(url)
    if folder is None:
        return
    raise usage_error(
        f"The journal folder '{folder}' does not exist (journal {url}, {source}). Check "
        f"the path for a typo, or create the folder first (mkdir -p '{folder}') if a new "
        "journal should go there."
    )


def _scheme(url: str) -> str:
    # As core picks backends and artifact stores: the URL scheme without a "+driver" suffix.
    return urlparse(url).scheme.split("+", 1)[0].lower()


def _reader_runtime() -> Runtime | None:
    """A runtime on the journal's registered reader, or None to use the default runtime.

    Built as core builds the default one (same plugin manager, artifact store and settings),
    with the reader as its backend. None when no reader serves the journal's scheme or the
    artifact store's scheme is not installed: the default runtime then reports it as before.
    """
    from kitaru.plugins import collect, get_plugin_manager
    from kitaru.runtime import Runtime, artifact_store_uri, store_url

    from kitaru_cli._hooks import add_hookspecs

    url = store_url()
    pm = get_plugin_manager()
    add_hookspecs(pm)
    readers = collect("kitaru_register_journal_readers", pm=pm, what="journal reader")
    open_reader = readers.get(_scheme(url))
    if open_reader is None:
        return None
    artifact_uri = artifact_store_uri()
    store_scheme = _scheme(artifact_uri) or "file"
    if len(store_scheme) == 1:  # a Windows drive letter
        store_scheme = "file"
    stores = collect("kitaru_register_artifact_stores", pm=pm, what="artifact store")
    if store_scheme not in stores:
        return None
    return Runtime(
        backend=open_reader(url),
        artifact_store=stores[store_scheme](artifact_uri),
        plugin_manager=pm,
        store_url=url,
        artifact_uri=artifact_uri,
    )


def resolve_id(client: KitaruClient, exec_id: str) -> str:
    """The full id of the execution ``exec_id`` names (an id or a unique prefix >= 6)."""
    return client.executions.resolve_id(exec_id)


def parse_status(text: str) -> str:
    """The status ``--status`` names (case-insensitive); a usage error listing the valid ones."""
    from kitaru.client import ExecutionStatus

    value = text.strip().lower()
    valid = [s.value for s in ExecutionStatus]
    if value not in valid:
        raise usage_error(f"Unknown status '{text}'. Valid statuses: {', '.join(valid)}.")
    return value


def list_executions(
    *, status: str | None = None, flow: str | None = None, limit: int | None = None
) -> list[Execution]:
    """``executions list``: the options checked, then the executions, newest first."""
    if limit is not None and limit < 1:
        raise usage_error("`--limit` must be at least 1.")
    wanted = parse_status(status) if status is not None else None
    if flow is not None and not flow.strip():
        raise usage_error("`--flow` must be a non-empty flow name.")
    client = open_client(read_only=True)
    return client.executions.list(flow=flow, status=wanted, limit=limit)


def get_execution(exec_id: str) -> tuple[Execution, list[PendingWait]]:
    """``executions get``: one execution in full, by id or unique prefix, and all its pending
    waits with their schema and metadata (``Execution.pending_wait`` is only the first;
    asked for only when there is one)."""
    client = open_client(read_only=True)
    execution = client.executions.get(resolve_id(client, exec_id))
    if execution.pending_wait is None:
        return execution, []
    return execution, client.executions.pending_waits(execution.exec_id)
