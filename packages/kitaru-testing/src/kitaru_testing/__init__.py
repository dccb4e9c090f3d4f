"""Kitaru's backend conformance suite: subclass :class:`BackendConformance` in your tests."""

import pytest

# Plain ``assert`` statements in the suite report values like a test module's would. (The
# package itself is being imported right now, so only its submodules can be rewritten.)
pytest.register_assert_rewrite(
    *(
        f"kitaru_testing.{name}"
        for name in (
            "_base",
            "_calls",
            "_conformance",
            "_data",
            "_executions",
            "_fencing",
            "_lifecycle",
            "_meta",
            "_processes",
            "_records",
            "_secrets",
            "_threads",
            "_waits",
        )
    )
)

from kitaru_testing._conformance import BackendConformance  # noqa: E402
from kitaru_testing._meta import assert_no_dropped_tests  # noqa: E402
from kitaru_testing._records import (  # noqa: E402
    make_artifact,
    make_attempt,
    make_call,
    make_execution,
    make_log,
    make_secret,
    make_wait,
    running,
)

__all__ = [
    "BackendConformance",
    "assert_no_dropped_tests",
    "make_artifact",
    "make_attempt",
    "make_call",
    "make_execution",
    "make_log",
    "make_secret",
    "make_wait",
    "running",
]

for _name in __all__:
    globals()[_name].__module__ = "kitaru_testing"
del _name
