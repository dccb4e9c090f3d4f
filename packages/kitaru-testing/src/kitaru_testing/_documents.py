"""Conformance: documents, the JSON state adapters keep in the journal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kitaru.backend import Backend, DocumentRecord, FencingError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import running

__all__ = ["DocumentTests"]

NOW = datetime(2031, 4, 5, 6, 7, 8, tzinfo=UTC)


def doc(
    key: str, value: object = None, namespace: str = "lg", exec_id: str | None = None
) -> DocumentRecord:
    return DocumentRecord(
        namespace=namespace, key=key, value=value, exec_id=exec_id, created_at=NOW
    )


class DocumentTests(ConformanceBase):
    """put_documents, get_document, list_documents, delete_documents."""

    def test_put_get_and_upsert(self, backend: Backend) -> None:
        first = doc("a", {"x": [1, 2, {"y": None}], "s": "☃"})
        backend.put_documents([first])
        assert backend.get_document("lg", "a") == first
        assert backend.get_document("lg", "missing") is None
        assert backend.get_document("other", "a") is None
        updated = doc("a", {"x": 2})
        backend.put_documents([updated])
        assert backend.get_document("lg", "a") == updated
        backend.put_documents([doc("n", None)])
        got = backend.get_document("lg", "n")
        assert got is not None and got.value is None
        assert got.created_at.utcoffset() is not None

    def test_list_orders_filters_and_pages(self, backend: Backend) -> None:
        keys = ["t1/b", "t1/a", "t1/c", "t10/a", "t2/a", "t1_%/z"]
        backend.put_documents([doc(k, k) for k in keys])
        backend.put_documents([doc("t1/a", "other ns", namespace="x")])
        listed = [d.key for d in backend.list_documents("lg", prefix="t1/")]
        assert listed == ["t1/a", "t1/b", "t1/c"]
        assert [d.key for d in backend.list_documents("lg", prefix="t1_%")] == ["t1_%/z"]
        assert [
            d.key for d in backend.list_documents("lg", prefix="t1/", descending=True, limit=2)
        ] == ["t1/c", "t1/b"]
        assert [d.key for d in backend.list_documents("lg", prefix="t1/", start_after="t1/a")] == [
            "t1/b",
            "t1/c",
        ]
        assert [
            d.key
            for d in backend.list_documents("lg", prefix="t1/", descending=True, start_after="t1/c")
        ] == ["t1/b", "t1/a"]
        assert len(backend.list_documents("lg")) == len(keys)

    def test_delete_by_prefix(self, backend: Backend) -> None:
        backend.put_documents([doc(k) for k in ("a/1", "a/2", "ab/1", "b/1")])
        assert backend.delete_documents("lg", prefix="a/") == 2
        assert [d.key for d in backend.list_documents("lg")] == ["ab/1", "b/1"]
        assert backend.delete_documents("lg") == 2
        assert backend.list_documents("lg") == []

    def test_batches_are_all_or_nothing_and_fenced(self, backend: Backend) -> None:
        record = running(backend)
        backend.put_documents(
            [doc("k1", 1, exec_id=record.exec_id)], exec_id=record.exec_id, epoch=record.epoch
        )
        with pytest.raises(FencingError):
            backend.put_documents([doc("k2", 2)], exec_id=record.exec_id, epoch=record.epoch + 1)
        assert [d.key for d in backend.list_documents("lg")] == ["k1"]
        assert backend.get_document("lg", "k1").exec_id == record.exec_id  # type: ignore[union-attr]
