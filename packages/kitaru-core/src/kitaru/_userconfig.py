"""The user config file ``<config dir>/kitaru.json``: active stack, stacks, model aliases and
the log store. Each writer changes only its own section, atomically, with mode 0600; a corrupt
file is reported with its path on read, and a writer recovers it (keeping a backup) without
losing the other sections it can still read."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kitaru._config import config_dir
from kitaru.errors import KitaruUsageError

FILE_NAME = "kitaru.json"
VERSION = 1
_lock = threading.Lock()


def path() -> Path:
    return config_dir() / FILE_NAME


def _load_raw(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text()
    except FileNotFoundError:
        return {"version": VERSION}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"The Kitaru config file {file} is corrupt ({exc.msg} at line {exc.lineno}). Fix "
            "it, or delete it; commands that write settings recover it automatically."
        ) from exc
    if not isinstance(data, dict):
        raise KitaruUsageError(f"The Kitaru config file {file} must hold a JSON object.")
    return data


def read() -> dict[str, Any]:
    """The whole file (``{"version": 1}`` when it does not exist)."""
    return _load_raw(path())


def section(name: str, default: Any = None) -> Any:
    return read().get(name, default)


def update(name: str, change: Callable[[Any], Any]) -> Any:
    """Replace section ``name`` with ``change(current value)``; other sections are kept.

    A corrupt file is moved aside to ``kitaru.json.corrupt-<time>`` and rewritten.
    """
    file = path()
    with _lock:
        try:
            data = _load_raw(file)
        except KitaruUsageError:
            backup = file.with_name(f"{FILE_NAME}.corrupt-{int(time.time())}")
            os.replace(file, backup)
            data = {"version": VERSION}
        new_value = change(data.get(name))
        if new_value is None:
            data.pop(name, None)
        else:
            data[name] = new_value
        data["version"] = VERSION
        _write(file, data)
        return new_value


def _write(file: Path, data: dict[str, Any]) -> None:
    import tempfile  # only writers need it (keeps ``import kitaru`` fast)

    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".kitaru-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
