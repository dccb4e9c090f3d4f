"""The official ``langgraph-checkpoint-conformance`` suite against ``KitaruCheckpointSaver`` on
every backend (PostgreSQL when ``KITARU_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from kitaru.runtime import Runtime
from kitaru_langgraph import KitaruCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import ProgressCallbacks

KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
def test_conformance(kind: str, runtime_factory: Callable[[str], Runtime]) -> None:
    runtime = runtime_factory(kind)
    savers: list[KitaruCheckpointSaver] = []

    @checkpointer_test(name=f"KitaruCheckpointSaver[{kind}]")
    async def saver() -> AsyncIterator[KitaruCheckpointSaver]:
        namespace = f"langgraph-test-{uuid.uuid4().hex[:12]}"
        # A low threshold so the suite also exercises blobs kept in the artifact store.
        saver = KitaruCheckpointSaver(runtime=runtime, namespace=namespace, artifact_threshold=64)
        savers.append(saver)
        yield saver

    try:
        report = asyncio.run(validate(saver, progress=ProgressCallbacks.quiet()))
    finally:
        for made in savers:
            for namespace in made.namespaces.values():
                runtime.backend.delete_documents(namespace)
        runtime.close()
    failures = {name: r.failures for name, r in report.results.items() if r.failures}
    assert report.passed_all_base(), failures
    assert report.passed_all(), failures
    # The extended operations are implemented, so the suite ran them too.
    assert {"copy_thread", "delete_for_runs", "prune"} <= set(report.results)
