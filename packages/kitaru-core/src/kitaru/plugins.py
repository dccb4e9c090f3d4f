"""The plugin manager: discovery through the ``kitaru`` entry-point group, on first use.

Switches (read when the manager is built, never at import):

* ``KITARU_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (core's built-ins still load).
* ``KITARU_LOAD_PLUGINS=a,b``: load only the named entry points (empty value: none).
* ``KITARU_TRACE_PLUGINS=1``: print every hook call to stderr.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy

from kitaru import hookspecs
from kitaru.errors import KitaruPluginError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "build_plugin_manager",
    "collect",
    "get_plugin_manager",
    "hookimpl",
    "list_plugins",
    "reset_plugin_manager",
]

ENTRY_POINT_GROUP = "kitaru"
hookimpl = pluggy.HookimplMarker("kitaru")

_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class PluginInfo:
    """One registered plugin as shown by ``kitaru plugins``."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def build_plugin_manager(*, autoload: bool | None = None) -> pluggy.PluginManager:
    """Build a fresh manager with core's built-ins and (unless disabled) entry points."""
    from kitaru import _builtin

    pm = pluggy.PluginManager("kitaru")
    pm.add_hookspecs(hookspecs)
    pm.hook.kitaru_add_hookspecs.call_historic(kwargs={"pluginmanager": pm})
    pm.register(_builtin, name="kitaru.builtin")
    if autoload is None:
        autoload = not _env_flag("KITARU_DISABLE_PLUGIN_AUTOLOAD")
    if autoload:
        only = os.environ.get("KITARU_LOAD_PLUGINS")
        wanted = None if only is None else {n.strip() for n in only.split(",") if n.strip()}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if wanted is not None and ep.name not in wanted:
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must name itself
                raise KitaruPluginError(
                    f"Plugin '{ep.name}' ({ep.value}) from "
                    f"{ep.dist.name if ep.dist else 'unknown distribution'} failed to load: "
                    f"{type(exc).__name__}: {exc}. Set KITARU_DISABLE_PLUGIN_AUTOLOAD=1 to "
                    "start without plugins."
                ) from exc
            pm.register(plugin, name=ep.name)
            if ep.dist is not None:
                _DIST_INFO[ep.name] = (ep.dist.name, ep.dist.version)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise KitaruPluginError(str(exc)) from exc
    if _env_flag("KITARU_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


_DIST_INFO: dict[str, tuple[str, str]] = {}


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, built and cached on first use."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = build_plugin_manager()
    return _manager


def reset_plugin_manager(pm: pluggy.PluginManager | None = None) -> None:
    """Drop the cached manager (or install ``pm``); for tests and long-lived hosts."""
    global _manager
    with _lock:
        _manager = pm


def collect(
    hook_name: str,
    *,
    pm: pluggy.PluginManager | None = None,
    what: str,
    validate: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Call a ``kitaru_register_*`` hook and return ``{name: contribution}``.

    Duplicate names raise :class:`KitaruPluginError` naming both plugins.
    """
    pm = pm or get_plugin_manager()
    found: dict[str, Any] = {}
    owners: dict[str, str] = {}
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        owner = impl.plugin_name

        def register(name: str, contribution: Any, _owner: str = owner) -> None:
            if not isinstance(name, str) or not name:
                raise KitaruPluginError(f"Plugin '{_owner}' registered a {what} with no name.")
            if name in found:
                raise KitaruPluginError(
                    f"{what.capitalize()} '{name}' is registered twice: by '{owners[name]}' "
                    f"and by '{_owner}'."
                )
            if validate is not None:
                validate(name, contribution)
            found[name] = contribution
            owners[name] = _owner

        impl.function(register=register)
    return found


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    pm = pm or get_plugin_manager()
    core_version = _version("kitaru-core")
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(h.name for h in (pm.get_hookcallers(plugin) or [])))
        builtin = name == "kitaru.builtin"
        dist, version = (
            ("kitaru-core", core_version) if builtin else _DIST_INFO.get(name, (None, None))
        )
        out.append(
            PluginInfo(name=name, distribution=dist, version=version, hooks=hooks, builtin=builtin)
        )
    return sorted(out, key=lambda p: (not p.builtin, p.name))


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
