"""The saver's group commit: a step's writes and its checkpoint share one transaction, each
caller returns only once its own documents are committed, and a failed commit fails every
caller whose documents it carried."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from kitaru.backend import DocumentRecord
from kitaru_langgraph import _commit
from kitaru_langgraph._commit import GroupCommit

PAUSE = 0.001


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long linger, so that grouping does not depend on how fast threads are scheduled
    (a wait ends as soon as its partner arrives, so the tests stay fast)."""
    monkeypatch.setattr(_commit, "LINGER", 5.0)


def _doc(key: str) -> DocumentRecord:
    return DocumentRecord(namespace="test", key=key, value={"k": key}, created_at=datetime.now(UTC))


class Journal:
    """A stand-in for ``Backend.put_documents``: records each transaction's keys."""

    def __init__(self, fail: bool = False) -> None:
        self.commits: list[list[str]] = []
        self.fail = fail

    def put(self, docs: list[DocumentRecord]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.commits.append(sorted(d.key for d in docs))


def _in_thread(fn: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_writes_and_the_following_checkpoint_share_one_commit(patient: None) -> None:
    journal = Journal()
    group = GroupCommit(journal.put)
    group.begin_writes()
    writer, errors = _in_thread(lambda: group.write([_doc("w1")], task_id="t1"))
    time.sleep(PAUSE)
    group.write([_doc("cp")], checkpoint=True)
    writer.join(5)
    assert not errors
    assert journal.commits == [["cp", "w1"]]
    assert group.durable("t1")


def test_a_checkpoint_waits_for_writes_being_prepared(patient: None) -> None:
    journal = Journal()
    group = GroupCommit(journal.put)
    group.begin_writes()  # LangGraph is still serializing a task's writes
    cp, errors = _in_thread(lambda: group.write([_doc("cp")], checkpoint=True))
    time.sleep(PAUSE)
    group.write([_doc("w1")], task_id="t1")
    cp.join(5)
    assert not errors
    assert journal.commits == [["cp", "w1"]]


def test_writes_alone_commit_after_the_linger() -> None:
    journal = Journal()
    group = GroupCommit(journal.put)
    group.begin_writes()
    started = time.perf_counter()
    group.write([_doc("w1")], task_id="t1")  # no checkpoint follows (an interrupt, say)
    assert journal.commits == [["w1"]]
    assert time.perf_counter() - started < 1.0
    assert group.durable("t1")


def test_a_failed_commit_fails_every_caller_it_carried_and_marks_nothing_durable(
    patient: None,
) -> None:
    journal = Journal(fail=True)
    group = GroupCommit(journal.put)
    group.begin_writes()
    writer, errors = _in_thread(lambda: group.write([_doc("w1")], task_id="t1"))
    time.sleep(PAUSE)
    with pytest.raises(OSError, match="disk full"):
        group.write([_doc("cp")], checkpoint=True)
    writer.join(5)
    assert [type(e) for e in errors] == [OSError]
    assert not group.durable("t1")


def test_attached_documents_ride_with_their_task_writes() -> None:
    journal = Journal()
    group = GroupCommit(journal.put)
    assert group.attach("t1", [_doc("node-doc")])  # the node finished before its writes
    group.begin_writes()
    group.write([_doc("w1")], task_id="t1")
    assert journal.commits == [["node-doc", "w1"]]
    assert group.detach("t1") is None  # a commit took them
    # Once the task's writes are durable, nothing more can ride with them.
    assert not group.attach("t1", [_doc("late")])
    assert group.detach("t1") is None


def test_unclaimed_attachments_are_handed_back() -> None:
    group = GroupCommit(Journal().put)
    assert group.attach("t9", [_doc("node-doc")])
    assert [d.key for d in group.detach("t9") or []] == ["node-doc"]
