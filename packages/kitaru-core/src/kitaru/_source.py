"""Recording where a flow lives and re-importing it in another process.

A flow defined in an importable module is re-imported by module name. A flow defined in a
script that ran as ``__main__`` is re-loaded from the script's file under the module name
``__kitaru_main__``, so its ``if __name__ == "__main__":`` block does not run again, with the
script's folder first on ``sys.path`` as it was when the script ran.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kitaru.backend import SourceRef
from kitaru.errors import KitaruRuntimeError, KitaruUsageError

MAIN_ALIAS = "__kitaru_main__"

#: Set (to what is importing) while a worker re-imports a script or a flow target is loaded,
#: so that a script that starts executions at import time fails with a clear message instead
#: of starting them again in every worker (or blocking ``kitaru run`` in its own flow).
reimporting = threading.local()


@contextlib.contextmanager
def importing(reason: str) -> Iterator[None]:
    """Mark module imports in this thread as done by Kitaru (``reason`` says by what)."""
    previous = getattr(reimporting, "active", None)
    reimporting.active = reason
    try:
        yield
    finally:
        reimporting.active = previous


class ImportTimeRunError(KitaruUsageError):
    """A flow was started while its script was being re-imported by a worker."""


def source_of(func: Any) -> SourceRef:
    module_name = func.__module__
    qualname = func.__qualname__
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if module_name in ("__main__", MAIN_ALIAS):
        path = str(Path(file).resolve()) if file else None
        return SourceRef(
            module="__main__",
            qualname=qualname,
            file=path,
            sys_path=str(Path(path).parent) if path else os.getcwd(),
        )
    return SourceRef(
        module=module_name,
        qualname=qualname,
        file=str(Path(file).resolve()) if file else None,
        sys_path=_import_root(module_name, file),
    )


def _import_root(module_name: str, file: str | None) -> str:
    """The folder to put on ``sys.path`` so that ``module_name`` imports again: the one its
    top-level package sits in (not the current folder, which differs for a replay or retry
    started elsewhere). The current folder when the module has no file."""
    if not file:
        return os.getcwd()
    path = Path(file).resolve()
    root = path.parent
    for _ in range(module_name.count(".") + (path.stem == "__init__")):
        root = root.parent
    return str(root)


def load_module_from_file(path: str, module_name: str = MAIN_ALIAS) -> Any:
    """Import a ``.py`` file as ``module_name`` (its folder first on ``sys.path``)."""
    file = Path(path)
    if not file.is_file():
        raise KitaruUsageError(f"Flow file '{path}' does not exist.")
    if file.suffix != ".py":
        raise KitaruUsageError(f"Flow file '{path}' must end in .py.")
    folder = str(file.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    existing = sys.modules.get(module_name)
    if existing is not None and getattr(existing, "__file__", None) == str(file.resolve()):
        return existing
    spec = importlib.util.spec_from_file_location(module_name, file.resolve())
    if spec is None or spec.loader is None:
        raise KitaruUsageError(f"Cannot load '{path}' as Python.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def load_source(ref: SourceRef) -> Any:
    """Return the object ``ref`` names, importing its module if needed."""
    if ref.sys_path and ref.sys_path not in sys.path:
        sys.path.insert(0, ref.sys_path)
    try:
        module = _module_of(ref)
        obj: Any = module
        for part in ref.qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        where = ref.file or ref.module
        raise KitaruRuntimeError(
            f"Cannot re-import flow '{ref.qualname}' from {where}: {exc}. The flow must stay "
            "importable at module level for resume, retry and replay."
        ) from exc
    return obj


def _module_of(ref: SourceRef) -> Any:
    if ref.module != "__main__":
        return importlib.import_module(ref.module)
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main is not None and ref.file and main_file and str(Path(main_file).resolve()) == ref.file:
        return main
    if not ref.file:
        raise KitaruRuntimeError(
            f"Flow '{ref.qualname}' was defined interactively (no file), so another process "
            "cannot re-import it. Define flows in a module or script."
        )
    with importing("a worker re-imported its script to continue an execution"):
        return load_module_from_file(ref.file)
