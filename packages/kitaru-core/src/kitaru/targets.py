"""Finding flows by name: ``"<module_or_file.py>:<flow>"`` targets, used by ``kitaru run``,
the MCP server and the workers that continue executions."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from kitaru._flow import Flow
from kitaru._source import importing, load_module_from_file, load_source
from kitaru.errors import KitaruUsageError

__all__ = [
    "TARGET_FORMAT",
    "Flow",
    "coerce_flow_inputs",
    "load_flow_target",
    "load_module_from_file",
    "load_source",
]

TARGET_FORMAT = "Flow target must use `<module_or_file>:<flow_name>` format"


def load_flow_target(target: str) -> Flow[..., Any]:
    """The ``@flow`` that ``target`` names: ``path/to/file.py:name`` or ``package.module:name``.

    A ``.py`` file is imported from its path (its folder first on ``sys.path``, its
    ``if __name__ == "__main__":`` block not run); a module name is imported with the working
    directory on ``sys.path``, as ``python -m`` would. Every problem is a
    :class:`~kitaru.errors.KitaruUsageError` that names it.
    """
    if not isinstance(target, str):
        raise KitaruUsageError(f"{TARGET_FORMAT}, got {target!r}.")
    module_part, sep, attr = target.strip().rpartition(":")
    module_part, attr = module_part.strip(), attr.strip()
    if not sep or not module_part or not attr or not all(p.isidentifier() for p in attr.split(".")):
        raise KitaruUsageError(f"{TARGET_FORMAT}, got '{target}'.")
    with importing(f"Kitaru imported '{module_part}' to find the flow '{attr}'"):
        module = _import(module_part)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise KitaruUsageError(f"'{module_part}' has no attribute '{attr}'.")
        obj = getattr(obj, part)
    if not isinstance(obj, Flow):
        raise KitaruUsageError(
            f"'{attr}' in '{module_part}' is not a @flow (it is {type(obj).__name__})."
        )
    return obj


def _import(module_part: str) -> Any:
    if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
        return load_module_from_file(module_part)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_part)
    except ModuleNotFoundError as exc:
        if exc.name and module_part.startswith(exc.name):
            raise KitaruUsageError(f"Cannot import module '{module_part}': {exc}.") from exc
        raise


def coerce_flow_inputs(
    flow: Flow[..., Any], inputs: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Flow inputs given as JSON (``kitaru run --args``, the MCP run tool) checked and
    converted against the flow's parameter annotations, as pydantic's lax mode does (``"4"``
    for an ``int`` becomes ``4``, an object for a pydantic model becomes the model).

    Unannotated parameters, ``Any`` and annotations pydantic cannot handle are passed as
    given. Unknown or missing parameters (``partial``: only unknown ones, for the inputs a
    replay replaces) and values that do not fit raise :class:`~kitaru.errors.KitaruUsageError`
    naming every problem (nothing is started).
    """
    import inspect
    import typing

    import pydantic

    if not isinstance(inputs, Mapping):
        raise KitaruUsageError(f"Flow inputs must be a JSON object, got {inputs!r}.")
    signature = inspect.signature(flow.func)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    unknown = [key for key in inputs if key not in signature.parameters and not takes_any]
    if unknown:
        raise KitaruUsageError(
            f"Flow '{flow.name}' has no parameter "
            + ", ".join(f"'{key}'" for key in unknown)
            + ". Parameters: "
            + ", ".join(signature.parameters)
            + "."
        )
    try:
        (signature.bind_partial if partial else signature.bind)(**inputs)
    except TypeError as exc:
        raise KitaruUsageError(f"Invalid arguments for flow '{flow.name}': {exc}.") from exc
    try:
        hints = typing.get_type_hints(flow.func)
    except Exception:  # an annotation that cannot be resolved here: pass inputs as given
        hints = {}
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in inputs.items():
        annotation = hints.get(name)
        if annotation is None or annotation is Any:
            out[name] = value
            continue
        try:
            adapter: Any = pydantic.TypeAdapter(annotation)
        except Exception:  # a type pydantic cannot describe: the flow gets the value as is
            out[name] = value
            continue
        try:
            out[name] = adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = "".join(f"[{p!r}]" for p in error["loc"])
            problems.append(f"{name}{where}: {error['msg']} (got {json.dumps(value)})")
    if problems:
        raise KitaruUsageError(
            f"Invalid inputs for flow '{flow.name}': " + "; ".join(problems) + "."
        )
    return out
