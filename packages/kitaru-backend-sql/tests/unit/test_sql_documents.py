"""Document reads run prebuilt statements on the DB-API cursor (``_documents``): every shape
of ``list_documents`` returns exactly what a plain Python filter of the stored documents
returns, and rows read back equal the records written."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kitaru.backend import DocumentRecord
from kitaru_backend_sql import SqlBackend

KEYS = ["a", "a/", "a/1", "a/2", "a/%", "a/_x", "a_b", "ab", "b", "é/1", "é/2", "\U0001f600/z"]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SqlBackend]:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'journal.db'}")
    yield backend
    backend.close()


def _doc(key: str, n: int) -> DocumentRecord:
    return DocumentRecord(
        namespace="ns",
        key=key,
        value={"n": n, "key": key, "nested": [None, 1.5, "ü"]},
        exec_id=None if n % 2 else f"ex-{n}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=n),
    )


def test_every_listing_shape_matches_a_python_filter(backend: SqlBackend) -> None:
    docs = [_doc(k, n) for n, k in enumerate(KEYS)]
    backend.put_documents(docs)
    backend.put_documents(
        [DocumentRecord(namespace="other", key="a/1", value=1, created_at=datetime.now(UTC))]
    )
    by_key = sorted(docs, key=lambda d: d.key)
    for prefix, start_after, limit, descending in itertools.product(
        ["", "a/", "a", "é/", "zz"], [None, "a/1", "b"], [None, 1, 3], [False, True]
    ):
        expected = [d for d in by_key if d.key.startswith(prefix)]
        if descending:
            expected.reverse()
        if start_after is not None:
            expected = [
                d for d in expected if (d.key < start_after if descending else d.key > start_after)
            ]
        expected = expected[:limit] if limit is not None else expected
        got = backend.list_documents(
            "ns", prefix=prefix, start_after=start_after, limit=limit, descending=descending
        )
        assert got == expected, (prefix, start_after, limit, descending)


def test_point_reads_return_the_record_written(backend: SqlBackend) -> None:
    doc = _doc("a/%", 3)
    backend.put_documents([doc])
    assert backend.get_document("ns", "a/%") == doc
    assert backend.get_document("ns", "a/_") is None
    assert backend.get_document("other", "a/%") is None
    null = DocumentRecord(namespace="ns", key="null", value=None, created_at=doc.created_at)
    backend.put_documents([null])
    assert backend.get_document("ns", "null") == null
