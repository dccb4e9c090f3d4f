"""The system tools: where Kitaru keeps its data, which plugins are loaded, and stacks."""

from __future__ import annotations

import importlib.metadata
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from kitaru.errors import KitaruFeatureNotAvailableError, KitaruUsageError
from pydantic import Field

from kitaru_mcp import _core
from kitaru_mcp._shapes import drop_none

__all__ = [
    "kitaru_stacks_list",
    "manage_stack",
    "kitaru_status",
    "mask_url",
]


def mask_url(url: str | None) -> str | None:
    """``url`` with any password replaced by ``***`` (``postgresql://u:***@host/db``)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def kitaru_status() -> dict[str, Any]:
    """Show where Kitaru keeps its data: connection, journal URL, artifact store, config
    directory, active stack, versions and loaded plugins.

    store_url is the journal these tools read and write (a password in it is shown as
    ***): the kitaru CLI and Python programs configured the same way see the same
    executions.
    """
    from kitaru.plugins import list_plugins
    from kitaru.runtime import current_runtime

    runtime = current_runtime()
    active = _core.active_stack()
    status = {
        "sdk_version": _version("kitaru-core"),
        "mcp_server_version": _version("kitaru-mcp"),
        "connection": "local database",
        "store_url": mask_url(runtime.store_url),
        "artifact_store": runtime.artifact_uri,
        "config_dir": str(_core.config_dir()),
        "active_stack": active.name,
        "active_stack_type": active.type,
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "builtin": p.builtin,
            }
            for p in list_plugins(runtime.plugin_manager)
        ],
    }
    result: dict[str, Any] = drop_none(status)
    return result


def kitaru_stacks_list() -> list[dict[str, Any]]:
    """List the stacks executions can run on, marking the active one.

    Returns {"items": [...], "count": N}, each item {id, name, is_active, is_managed}.
    Executions run on the active stack unless kitaru_executions_run names another.
    """
    return [
        {"id": s.id, "name": s.name, "is_active": s.is_active, "is_managed": s.is_managed}
        for s in _core.list_stacks()
    ]


_REMOTE_ONLY = (
    " Kept for compatibility with remote stack types; this server supports none, so any "
    "value is rejected."
)


def manage_stack(
    action: Annotated[
        Literal["create", "delete"],
        Field(description="'create' a new stack or 'delete' an existing one."),
    ],
    name: Annotated[
        str,
        Field(
            description="create: the new stack's name (letters, digits, '_', '-', '.'; "
            "starting with a letter or digit). delete: the stack's name or id.",
            min_length=1,
        ),
    ],
    activate: Annotated[
        bool, Field(description="create: make the new stack the active one (default true).")
    ] = True,
    recursive: Annotated[
        bool,
        Field(
            description="delete: also delete the stack's components (local stacks have none, "
            "so this changes nothing)."
        ),
    ] = False,
    force: Annotated[
        bool,
        Field(
            description="delete: allow deleting the active stack ('default' becomes active). "
            "The built-in 'default' stack can never be deleted."
        ),
    ] = False,
    stack_type: Annotated[
        Literal["local", "kubernetes", "vertex", "sagemaker", "azureml"],
        Field(
            description="create: the stack type. Only installed types work: 'local' unless a "
            "plugin adds more (others are rejected, naming the installed types)."
        ),
    ] = "local",
    artifact_store: Annotated[
        str | None,
        Field(description=f"create: artifact store URI (s3://, gs://, az://...).{_REMOTE_ONLY}"),
    ] = None,
    container_registry: Annotated[
        str | None, Field(description=f"create: container registry URI.{_REMOTE_ONLY}")
    ] = None,
    cluster: Annotated[
        str | None, Field(description=f"create: Kubernetes cluster.{_REMOTE_ONLY}")
    ] = None,
    region: Annotated[str | None, Field(description=f"create: cloud region.{_REMOTE_ONLY}")] = None,
    subscription_id: Annotated[
        str | None, Field(description=f"create: Azure ML subscription id.{_REMOTE_ONLY}")
    ] = None,
    resource_group: Annotated[
        str | None, Field(description=f"create: Azure ML resource group.{_REMOTE_ONLY}")
    ] = None,
    workspace: Annotated[
        str | None, Field(description=f"create: Azure ML workspace.{_REMOTE_ONLY}")
    ] = None,
    execution_role: Annotated[
        str | None, Field(description=f"create: SageMaker execution role.{_REMOTE_ONLY}")
    ] = None,
    namespace: Annotated[
        str | None, Field(description=f"create: Kubernetes namespace.{_REMOTE_ONLY}")
    ] = None,
    credentials: Annotated[
        str | None, Field(description=f"create: credentials reference.{_REMOTE_ONLY}")
    ] = None,
    extra: Annotated[
        dict[str, Any] | None,
        Field(description=f"create: extra TARGET.FIELD settings.{_REMOTE_ONLY}"),
    ] = None,
    async_mode: Annotated[
        bool,
        Field(
            description="create: return before remote resources are ready. Rejected for "
            "'local' stacks."
        ),
    ] = False,
    verify: Annotated[
        bool,
        Field(
            description="create: check that the stack works (a local stack needs no check; "
            "accepted for compatibility)."
        ),
    ] = True,
) -> dict[str, Any]:
    """Create or delete a stack (a named place to run flows; see kitaru_stacks_list).

    create returns {id, name, is_active, previous_active_stack, components_created,
    stack_type}; delete returns {deleted_stack, components_deleted, new_active_stack,
    recursive}. Options that do not apply to the action or stack type are rejected, and
    nothing changes.
    """
    management = _core.stack_management()
    if management is None:
        raise KitaruFeatureNotAvailableError(
            f"Stack management is not available yet: cannot {action} stack '{name}'. The "
            "only stack is 'default' (type local)."
        )
    create, delete = management
    given = {
        "artifact_store": artifact_store,
        "container_registry": container_registry,
        "cluster": cluster,
        "region": region,
        "subscription_id": subscription_id,
        "resource_group": resource_group,
        "workspace": workspace,
        "execution_role": execution_role,
        "namespace": namespace,
        "credentials": credentials,
        "extra": extra,
    }
    type_options = [k for k, v in given.items() if v is not None]
    if action == "create":
        wrong = [k for k, v in (("recursive", recursive), ("force", force)) if v]
        if wrong:
            raise KitaruUsageError(f"{', '.join(wrong)} only apply to action 'delete'.")
        if type_options:
            raise KitaruUsageError(
                f"{', '.join(type_options)} do not apply to stack type '{stack_type}' here: "
                "stack types that take them are not installed."
            )
        if async_mode and stack_type == "local":
            raise KitaruUsageError("async_mode does not apply to local stacks.")
        previous = _core.active_stack().name
        info = create(name, type=stack_type, activate=activate)
        return {
            "id": str(info.id),
            "name": info.name,
            "is_active": bool(info.is_active),
            "previous_active_stack": previous,
            "components_created": [],
            "stack_type": str(getattr(info, "type", stack_type)),
        }
    wrong = type_options + [
        k
        for k, bad in (
            ("activate", not activate),
            ("stack_type", stack_type != "local"),
            ("async_mode", async_mode),
            ("verify", not verify),
        )
        if bad
    ]
    if wrong:
        raise KitaruUsageError(f"{', '.join(wrong)} only apply to action 'create'.")
    key = name.strip()
    found = next((s for s in _core.list_stacks() if key in (s.id, s.name)), None)
    delete(key, recursive=recursive, force=force)
    return {
        "deleted_stack": found.name if found else key,
        "components_deleted": [],
        "new_active_stack": _core.active_stack().name,
        "recursive": recursive,
    }
