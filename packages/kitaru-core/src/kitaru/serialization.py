"""Value serializers and the registry that picks one per value.

A serializer turns a value into bytes written to a binary stream and back. The first
serializer (by priority, then registration order) whose :meth:`Serializer.accepts` is true
wins, and its ``name`` is stored with the value together with an optional ``type_ref`` (an
importable ``module:qualname``) so the value can be rebuilt. Built-ins: ``json`` for
JSON-native values, ``pydantic`` for models, ``dataclass``, ``attrs``, ``bytes`` and, last,
``pickle`` (recorded as such; only ever loaded from your own journal).
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import pickle
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import IO, Any, ClassVar

from kitaru.errors import KitaruPluginError, KitaruRuntimeError

__all__ = [
    "BytesSerializer",
    "DataclassSerializer",
    "JsonSerializer",
    "PickleSerializer",
    "PydanticSerializer",
    "Serializer",
    "SerializerRegistry",
    "import_type",
    "type_ref_of",
]

_CHUNK = 1 << 20


def type_ref_of(cls: type) -> str:
    """``module:qualname`` of a class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def import_type(ref: str) -> Any:
    """Import the object named by ``module:qualname``."""
    module_name, _, qualname = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise KitaruRuntimeError(
            f"Cannot rebuild a stored value: type '{ref}' is not importable here ({exc})."
        ) from exc
    return obj


class Serializer(ABC):
    """One way of turning values into bytes. Subclass, set ``name``, register with
    ``kitaru_register_serializers``."""

    name: ClassVar[str]

    @abstractmethod
    def accepts(self, value: Any) -> bool:
        """Whether this serializer can write ``value`` faithfully."""

    @abstractmethod
    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        """Write ``value`` to ``fp``; return a ``type_ref`` needed to load it, or None."""

    @abstractmethod
    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        """Read a value written by :meth:`dump`."""


def _is_json_native(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is a tree of None, bool, int, finite float, str, list and dict with
    str keys (exact list/dict/int/float types, so JSON gives back what was written). Leaves
    are checked inline in the loops: this runs on every journaled value."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is float:
        return math.isfinite(value)
    if depth > 200:
        return False
    if t is list:
        for item in value:
            k = type(item)
            if k is str or k is int or k is bool or item is None:
                continue
            if not _is_json_native(item, depth + 1):
                return False
        return True
    if t is dict:
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                return False
            k = type(item)
            if k is str or k is int or k is bool or item is None:
                continue
            if not _is_json_native(item, depth + 1):
                return False
        return True
    return isinstance(value, str)  # a str subclass (a StrEnum member) is written as its text


class JsonSerializer(Serializer):
    """JSON-native trees: None, bool, int, float (finite), str, list, dict with str keys."""

    name = "json"

    def accepts(self, value: Any) -> bool:
        return _is_json_native(value)

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        fp.write(self.dumps(value))
        return None

    @staticmethod
    def dumps(value: Any) -> bytes:
        """The compact UTF-8 JSON of an accepted value."""
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        return json.loads(fp.read())


class PydanticSerializer(Serializer):
    """pydantic ``BaseModel`` instances, rebuilt with ``model_validate_json``."""

    name = "pydantic"

    def accepts(self, value: Any) -> bool:
        import pydantic

        return isinstance(value, pydantic.BaseModel) and "<locals>" not in type(value).__qualname__

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        fp.write(value.model_dump_json().encode())
        return type_ref_of(type(value))

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        assert type_ref is not None
        return import_type(type_ref).model_validate_json(fp.read())


class DataclassSerializer(Serializer):
    """Dataclass instances (nested ones too), through pydantic's ``TypeAdapter``."""

    name = "dataclass"

    def accepts(self, value: Any) -> bool:
        if not (dataclasses.is_dataclass(value) and not isinstance(value, type)):
            return False
        if "<locals>" in type(value).__qualname__:
            return False
        try:
            self._adapter(type(value)).dump_json(value)
        except Exception:
            return False
        return True

    @staticmethod
    def _adapter(cls: type) -> Any:
        import pydantic

        return pydantic.TypeAdapter(cls)

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        fp.write(self._adapter(type(value)).dump_json(value))
        return type_ref_of(type(value))

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        assert type_ref is not None
        return self._adapter(import_type(type_ref)).validate_json(fp.read())


class AttrsSerializer(Serializer):
    """attrs classes (when ``attrs`` is installed), as JSON of their fields."""

    name = "attrs"

    def accepts(self, value: Any) -> bool:
        try:
            import attrs  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return False
        if not attrs.has(type(value)) or "<locals>" in type(value).__qualname__:
            return False
        return _is_json_native(attrs.asdict(value, recurse=False))

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        import attrs

        fp.write(json.dumps(attrs.asdict(value, recurse=False)).encode())
        return type_ref_of(type(value))

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        assert type_ref is not None
        return import_type(type_ref)(**json.loads(fp.read()))


class BytesSerializer(Serializer):
    """``bytes``, ``bytearray`` and ``memoryview``, streamed in 1 MiB chunks (never copied)."""

    name = "bytes"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bytes | bytearray | memoryview)

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        view = memoryview(value).cast("B")
        for start in range(0, len(view), _CHUNK):
            fp.write(view[start : start + _CHUNK])
        return None if isinstance(value, bytes) else type(value).__name__

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        data = fp.read()
        return bytearray(data) if type_ref == "bytearray" else data


class PickleSerializer(Serializer):
    """The fallback for anything else. Pickles are only loaded from the user's own journal."""

    name = "pickle"

    def accepts(self, value: Any) -> bool:
        return True

    def dump(self, value: Any, fp: IO[bytes]) -> str | None:
        try:
            pickle.dump(value, fp, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise KitaruRuntimeError(
                f"Cannot serialize a value of type {type(value).__qualname__}: no serializer "
                f"accepts it and pickling failed ({type(exc).__name__}: {exc}). Return JSON "
                "data, a pydantic model or a dataclass, or register a serializer."
            ) from exc
        return None

    def load(self, fp: IO[bytes], type_ref: str | None) -> Any:
        return pickle.load(fp)


class SerializerRegistry:
    """Ordered serializers; picks the first that accepts a value."""

    def __init__(self, serializers: Iterable[tuple[Serializer, int]] = ()) -> None:
        self._items: list[tuple[int, int, Serializer]] = []
        self._by_name: dict[str, Serializer] = {}
        for serializer, priority in serializers:
            self.add(serializer, priority=priority)

    def add(self, serializer: Serializer, *, priority: int = 0) -> None:
        if not isinstance(serializer, Serializer):
            raise KitaruPluginError(f"{serializer!r} is not a kitaru Serializer.")
        if serializer.name in self._by_name:
            raise KitaruPluginError(f"Serializer '{serializer.name}' is registered twice.")
        self._by_name[serializer.name] = serializer
        self._items.append((-priority, len(self._items), serializer))
        self._items.sort(key=lambda t: (t[0], t[1]))

    @property
    def names(self) -> list[str]:
        return [s.name for _, _, s in self._items]

    def for_value(self, value: Any) -> Serializer:
        for _, _, serializer in self._items:
            if serializer.accepts(value):
                return serializer
        raise KitaruRuntimeError(f"No serializer accepts a value of type {type(value)!r}.")

    def get(self, name: str) -> Serializer:
        try:
            return self._by_name[name]
        except KeyError:
            raise KitaruRuntimeError(
                f"Stored value needs serializer '{name}', which is not installed here. "
                f"Installed: {', '.join(self.names)}."
            ) from None

    def dumps(self, value: Any) -> tuple[str, str | None, bytes]:
        """Serialize in memory: ``(serializer name, type_ref, bytes)``."""
        serializer = self.for_value(value)
        buf = io.BytesIO()
        type_ref = serializer.dump(value, buf)
        return serializer.name, type_ref, buf.getvalue()

    def loads(self, name: str, type_ref: str | None, data: bytes) -> Any:
        return self.get(name).load(io.BytesIO(data), type_ref)
