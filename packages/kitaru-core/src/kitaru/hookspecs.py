"""Every hook Kitaru core calls. One docstring per hook is its specification.

Naming grid: contributions are ``kitaru_register_<things>(register)``; notifications are past
tense ``kitaru_<thing>_<event>ed(...)``. Hooks receive keyword arguments only and an
implementation may accept any subset of them. Specs may gain parameters, never lose or rename
one. Implement them with :data:`kitaru.hookimpl` in a module named by an entry point in the
``kitaru`` group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from kitaru.backend import ArtifactRecord, CallRecord, ExecutionRecord, WaitRecord

hookspec = pluggy.HookspecMarker("kitaru")

__all__ = [
    "hookspec",
    "kitaru_add_hookspecs",
    "kitaru_checkpoint_recorded",
    "kitaru_execution_finished",
    "kitaru_execution_started",
    "kitaru_register_adapters",
    "kitaru_register_artifact_stores",
    "kitaru_register_backends",
    "kitaru_register_llm_providers",
    "kitaru_register_serializers",
    "kitaru_register_stack_types",
    "kitaru_wait_created",
    "kitaru_wait_resolved",
]


@hookspec(historic=True)
def kitaru_add_hookspecs(pluginmanager: Any) -> None:
    """Add the hookspecs of a host package (the CLI's ``kitaru_register_commands``, the MCP
    server's ``kitaru_register_mcp_tools``): call ``pluginmanager.add_hookspecs(module)``.

    Historic: called for every plugin as it is registered, before the manager checks that
    every implemented hook has a spec, so plugins of those hosts need no ``optionalhook``.
    """


@hookspec
def kitaru_register_backends(register: Any) -> None:
    """Contribute journal backends.

    Called once when the plugin manager first needs a backend. Call
    ``register(scheme, factory)`` for each URL scheme you serve, where ``factory(url: str) ->
    kitaru.backend.Backend``. The scheme is the part of the URL before ``://`` and before any
    ``+driver`` suffix (``postgresql+psycopg://`` registers as ``postgresql``). Registering a
    scheme twice raises :class:`kitaru.errors.KitaruPluginError` naming both plugins.
    Core registers ``memory``.
    """


@hookspec
def kitaru_register_artifact_stores(register: Any) -> None:
    """Contribute artifact stores.

    Call ``register(scheme, factory)`` where ``factory(uri: str) ->
    kitaru.artifacts.ArtifactStore``. A plain path counts as scheme ``file``. Core registers
    ``file``.
    """


@hookspec
def kitaru_register_stack_types(register: Any) -> None:
    """Contribute stack types (where flows run).

    Call ``register(name, runner_factory)`` where ``runner_factory(runtime) -> Runner``
    (see :mod:`kitaru.runners`). Core registers ``local``.
    """


@hookspec
def kitaru_register_serializers(register: Any) -> None:
    """Contribute value serializers.

    Call ``register(serializer, priority=0)`` with a :class:`kitaru.serialization.Serializer`.
    Serializers are tried by descending priority, then registration order; the first whose
    ``accepts(value)`` is true serializes the value, and its ``name`` is stored with it. Core
    registers JSON, pydantic, dataclass, attrs, bytes and (last, priority -100) pickle.
    """


@hookspec
def kitaru_register_llm_providers(register: Any) -> None:
    """Contribute LLM providers for ``kitaru.llm()``: ``register(name, call_function)``."""


@hookspec
def kitaru_register_adapters(register: Any) -> None:
    """Contribute harness adapters: ``register(name, module_name)``.

    ``kitaru.adapters.<name>`` then resolves to ``module_name``.
    """


@hookspec
def kitaru_execution_started(execution: ExecutionRecord) -> None:
    """Called in the runner after it took the lease of a segment of ``execution``."""


@hookspec
def kitaru_execution_finished(execution: ExecutionRecord) -> None:
    """Called in the runner after a segment ended (finished, suspended or failed)."""


@hookspec
def kitaru_checkpoint_recorded(call: CallRecord, artifact: ArtifactRecord | None) -> None:
    """Called after a checkpoint call was committed to the journal (completed or failed)."""


@hookspec
def kitaru_wait_created(wait: WaitRecord) -> None:
    """Called after a runner created (or re-found) a pending wait."""


@hookspec
def kitaru_wait_resolved(wait: WaitRecord) -> None:
    """Called after a wait was resolved or aborted through the client."""
