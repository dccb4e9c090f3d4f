"""Where Kitaru keeps its files, which journal and artifact store it uses, and how execution
settings are resolved (defaults < pyproject ``[tool.kitaru]`` < environment < ``configure()``
< ``@flow(...)`` < ``.run(...)``). Nothing here runs at import."""

from __future__ import annotations

import os
import sys
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError

DEFAULT_STACK = "default"
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def config_dir() -> Path:
    """``KITARU_CONFIG_PATH``, else the platform's user config folder for ``kitaru``."""
    explicit = os.environ.get("KITARU_CONFIG_PATH", "").strip()
    if explicit:
        return Path(explicit).expanduser().resolve()
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "kitaru"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "kitaru"
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "kitaru"


def store_url() -> str:
    """``KITARU_STORE_URL``, else the URL saved by ``connect()``, else the embedded SQLite
    journal ``<config>/kitaru.db``."""
    url = os.environ.get("KITARU_STORE_URL", "").strip()
    if url:
        return url
    from kitaru import _userconfig

    connection = _userconfig.section("connection") or {}
    stored = connection.get("store_url") if isinstance(connection, dict) else None
    if isinstance(stored, str) and stored:
        return stored
    return f"sqlite:///{config_dir() / 'kitaru.db'}"


def missing_journal_folder(url: str | None = None) -> Path | None:
    """The folder of the SQLite journal at ``url`` (default: :func:`store_url`) when that
    folder does not exist, else None. Such a path is almost always a typo, and the SQL backend
    would create the folder and an empty journal in it. Kitaru's own config folder (where the
    default journal lives) does not count: the first run creates it."""
    url = store_url() if url is None else url
    if not isinstance(url, str):
        raise KitaruUsageError(f"A journal URL must be a string, got {url!r}.")
    if not url.lower().startswith("sqlite") or ":///" not in url:
        return None
    raw = url.split(":///", 1)[1].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    folder = Path(raw).expanduser().absolute().parent
    if folder.exists() or folder == config_dir().absolute():
        return None
    return folder


def artifact_store_uri() -> str:
    """``KITARU_ARTIFACT_STORE`` (a path or URI), else ``<config>/artifacts``."""
    uri = os.environ.get("KITARU_ARTIFACT_STORE", "").strip()
    return uri or str(config_dir() / "artifacts")


def lease_seconds() -> float:
    raw = os.environ.get("KITARU_LEASE_SECONDS", "").strip()
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        raise KitaruUsageError(f"KITARU_LEASE_SECONDS must be a number, got {raw!r}.") from None
    if value < 1:
        raise KitaruUsageError("KITARU_LEASE_SECONDS must be at least 1.")
    return value


def parse_bool(raw: str, *, source: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise KitaruUsageError(
        f"{source} must be a boolean (1/true/yes/on or 0/false/no/off), got {raw!r}."
    )


def validate_retries(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise KitaruUsageError(f"{what} retries must be an integer >= 0, got {value!r}.")
    if value < 0:
        raise KitaruUsageError(f"{what} retries must be >= 0, got {value!r}.")
    return value


def validate_stack(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KitaruUsageError(f"Stack must be a non-empty string, got {value!r}.")
    return value.strip()


def validate_cache(value: Any) -> bool:
    if not isinstance(value, bool):
        raise KitaruUsageError(f"cache must be True or False, got {value!r}.")
    return value


@dataclass(frozen=True, kw_only=True)
class ExecutionSettings:
    """One layer of execution settings; ``None`` means "not set in this layer"."""

    stack: str | None = None
    cache: bool | None = None
    retries: int | None = None
    image: Mapping[str, Any] | None = None

    def over(self, lower: ExecutionSettings) -> ExecutionSettings:
        image: Mapping[str, Any] | None = lower.image
        if self.image is not None:
            merged = dict(lower.image or {})
            for key, value in self.image.items():
                if key == "environment" and isinstance(value, Mapping):
                    merged[key] = {**dict(merged.get(key) or {}), **value}
                else:
                    merged[key] = value
            image = merged
        return ExecutionSettings(
            stack=self.stack if self.stack is not None else lower.stack,
            cache=self.cache if self.cache is not None else lower.cache,
            retries=self.retries if self.retries is not None else lower.retries,
            image=image,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "cache": self.cache,
            "retries": self.retries,
            "image": dict(self.image) if self.image is not None else None,
        }


DEFAULTS = ExecutionSettings(stack=DEFAULT_STACK, cache=True, retries=0)

_configured_lock = threading.Lock()
_configured = ExecutionSettings()


def configured_layer() -> ExecutionSettings:
    return _configured


def set_configured_layer(layer: ExecutionSettings) -> None:
    global _configured
    with _configured_lock:
        _configured = layer


def _pyproject_source(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml``, walking up from ``start`` (default: the current
    working directory, not the flow's file)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _pyproject_table(candidate: Path) -> ExecutionSettings:
    """The ``[tool.kitaru]`` layer of ``candidate``; a bad value is reported with the file
    and key it came from."""
    try:
        data = tomllib.loads(candidate.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KitaruUsageError(f"Cannot read {candidate}: {exc}") from exc
    table = data.get("tool", {}).get("kitaru")
    if not isinstance(table, dict):
        return ExecutionSettings()
    where = f"{candidate}: [tool.kitaru]"
    if "runner" in table:
        raise KitaruUsageError(f"{where} 'runner' is no longer supported; use 'stack'.")
    unknown = set(table) - {"stack", "cache", "retries", "image"}
    if unknown:
        raise KitaruUsageError(
            f"{candidate}: unknown [tool.kitaru] keys: {', '.join(sorted(unknown))}. "
            "Allowed: stack, cache, retries, image."
        )
    stack, cache, retries = table.get("stack"), table.get("cache"), table.get("retries")
    if "stack" in table and (not isinstance(stack, str) or not stack.strip()):
        raise KitaruUsageError(f"{where} stack must be a non-empty string, got {stack!r}.")
    if "cache" in table and not isinstance(cache, bool):
        raise KitaruUsageError(f"{where} cache must be true or false, got {cache!r}.")
    if "retries" in table and (
        isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
    ):
        raise KitaruUsageError(f"{where} retries must be an integer >= 0, got {retries!r}.")
    image = None
    if "image" in table:
        try:
            image = _image_mapping(table["image"])
        except KitaruUsageError as exc:
            raise KitaruUsageError(f"{where} image: {exc}") from exc
    return ExecutionSettings(
        stack=stack.strip() if isinstance(stack, str) else None,
        cache=cache,
        retries=retries,
        image=image,
    )


def _env_layer() -> ExecutionSettings:
    if os.environ.get("KITARU_RUNNER"):
        raise KitaruUsageError("KITARU_RUNNER is no longer supported; use KITARU_STACK.")
    stack = os.environ.get("KITARU_STACK", "").strip() or None
    cache_raw = os.environ.get("KITARU_CACHE", "").strip()
    retries_raw = os.environ.get("KITARU_RETRIES", "").strip()
    retries = None
    if retries_raw:
        if not (retries_raw.isascii() and retries_raw.isdigit()):
            raise KitaruUsageError(f"KITARU_RETRIES must be an integer >= 0, got {retries_raw!r}.")
        retries = int(retries_raw)
    image_raw = os.environ.get("KITARU_IMAGE", "").strip()
    image = None
    if image_raw:
        import json

        raw: Any = image_raw
        if image_raw.startswith("{"):
            try:
                raw = json.loads(image_raw)
            except ValueError as exc:
                raise KitaruUsageError(f"KITARU_IMAGE is not valid JSON: {exc}") from exc
        try:
            image = _image_mapping(raw)
        except KitaruUsageError as exc:
            raise KitaruUsageError(f"KITARU_IMAGE: {exc}") from exc
    return ExecutionSettings(
        stack=stack,
        cache=parse_bool(cache_raw, source="KITARU_CACHE") if cache_raw else None,
        retries=retries,
        image=image,
    )


def _image_mapping(value: Any) -> dict[str, Any]:
    from kitaru._image import coerce_image

    return coerce_image(value)


def resolve_settings(*, decorator: ExecutionSettings, call: ExecutionSettings) -> ExecutionSettings:
    """Apply the precedence chain and return fully resolved settings. An unknown stack is
    reported with the setting that named it."""
    from kitaru._stacks import active_stack_name, validate_stack_name

    resolved = ExecutionSettings(stack=active_stack_name()).over(DEFAULTS)
    stack_source = ""
    pyproject = _pyproject_source()
    layers = (
        (
            _pyproject_table(pyproject) if pyproject else ExecutionSettings(),
            f"{pyproject}: [tool.kitaru] stack",
        ),
        (_env_layer(), "KITARU_STACK"),
        (configured_layer(), "kitaru.configure(stack=...)"),
        (decorator, "@flow(stack=...)"),
        (call, ""),
    )
    for layer, source in layers:
        if layer.stack is not None:
            stack_source = source
        resolved = layer.over(resolved)
    if resolved.stack is not None:
        try:
            validate_stack_name(resolved.stack)
        except KitaruUsageError as exc:
            raise KitaruUsageError(f"{stack_source}: {exc}" if stack_source else str(exc)) from None
    return resolved


@dataclass(frozen=True, kw_only=True)
class KitaruConfig:
    """The process-local override layer set by :func:`kitaru.configure`."""

    stack: str | None = None
    image: Mapping[str, Any] | None = None
    cache: bool | None = None
    retries: int | None = None
    project: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


_UNSET: Any = object()


def _known_stack(name: str) -> str:
    from kitaru._stacks import validate_stack_name

    try:
        return validate_stack_name(name)
    except KitaruUsageError as exc:
        raise KitaruUsageError(f"kitaru.configure(stack={name!r}): {exc}") from None


def configure(
    *,
    stack: Any = _UNSET,
    image: Any = _UNSET,
    cache: Any = _UNSET,
    retries: Any = _UNSET,
    project: Any = _UNSET,
) -> KitaruConfig:
    """Set process-local execution defaults. Omitted: unchanged; ``None``: cleared."""
    layer = configured_layer()
    changes: dict[str, Any] = {}
    if stack is not _UNSET:
        # Stacks live in the user config file, so an unknown name is reported here, not at
        # the first .run().
        changes["stack"] = None if stack is None else _known_stack(validate_stack(stack))
    if cache is not _UNSET:
        changes["cache"] = None if cache is None else validate_cache(cache)
    if retries is not _UNSET:
        changes["retries"] = None if retries is None else validate_retries(retries, what="Flow")
    if image is not _UNSET:
        changes["image"] = None if image is None else _image_mapping(image)
    if (
        project is not _UNSET
        and project is not None
        and (not isinstance(project, str) or not project.strip())
    ):
        raise KitaruUsageError("project must be a non-empty string.")
    new_layer = replace(layer, **changes)
    set_configured_layer(new_layer)
    return KitaruConfig(
        stack=new_layer.stack,
        image=new_layer.image,
        cache=new_layer.cache,
        retries=new_layer.retries,
        project=None if project is _UNSET else project,
    )
