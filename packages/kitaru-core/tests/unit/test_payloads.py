"""Serializers and the artifact store: round trips, content addressing, streaming."""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path

import pydantic
import pytest
from kitaru._payloads import decode, encode
from kitaru._runtime import load_serializers
from kitaru.artifacts import LocalArtifactStore
from kitaru.plugins import build_plugin_manager


class Model(pydantic.BaseModel):
    name: str
    tags: list[str]


@dataclasses.dataclass
class Inner:
    x: int


@dataclasses.dataclass
class Outer:
    inner: Inner
    label: str


class Opaque:
    def __init__(self, v: int) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.v == self.v


@pytest.fixture
def serializers():  # type: ignore[no-untyped-def]
    return load_serializers(build_plugin_manager(autoload=False))


@pytest.mark.parametrize(
    ("value", "serializer"),
    [
        ({"a": [1, 2.5, None, True, "x"]}, "json"),
        (b"\x00\xffbinary", "bytes"),
        (Model(name="n", tags=["a"]), "pydantic"),
        (Outer(inner=Inner(x=1), label="l"), "dataclass"),
        ((1, 2), "pickle"),
        (Opaque(3), "pickle"),
    ],
)
def test_round_trip(tmp_path: Path, serializers, value: object, serializer: str) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path)
    payload = encode(value, serializers=serializers, store=store)
    assert payload.serializer == serializer
    assert decode(payload, serializers=serializers, store=store) == value


def test_large_payloads_are_content_addressed_and_stored_once(tmp_path: Path, serializers) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path)
    value = b"y" * (1 << 20)
    first = encode(value, serializers=serializers, store=store, inline_limit=1024)
    second = encode(bytearray(value), serializers=serializers, store=store, inline_limit=1024)
    assert first.inline is None and first.uri is not None
    assert first.sha256 == second.sha256 and first.uri == second.uri
    objects = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 1 and objects[0].name == first.sha256
    assert not list((tmp_path / "tmp").iterdir())  # no temp files left behind
    assert decode(first, serializers=serializers, store=store) == value


def test_streaming_never_holds_a_large_value_twice(tmp_path: Path, serializers) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path)
    size = 64 << 20
    value = bytes(size)
    tracemalloc.start()
    try:
        payload = encode(value, serializers=serializers, store=store)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert payload.size == size
    assert peak < 8 << 20, f"encoding a 64 MiB value allocated {peak >> 20} MiB"


def test_small_payloads_stay_inline(tmp_path: Path, serializers) -> None:  # type: ignore[no-untyped-def]
    payload = encode({"k": "v"}, serializers=serializers, store=LocalArtifactStore(tmp_path))
    assert payload.inline == b'{"k":"v"}' and payload.uri is None
    assert not (tmp_path / "objects").exists()
