"""The rule that keeps the suite whole: a backend may not quietly drop a standard test."""

from __future__ import annotations

from typing import Any

__all__ = ["assert_no_dropped_tests", "standard_tests"]


def standard_tests() -> dict[str, Any]:
    """Every ``test_*`` function of :class:`~kitaru_testing.BackendConformance`, by name."""
    from kitaru_testing._conformance import BackendConformance

    return {
        name: getattr(BackendConformance, name)
        for name in dir(BackendConformance)
        if name.startswith("test_")
    }


def _xfail_reason(function: Any) -> str | None:
    for mark in getattr(function, "pytestmark", []):
        if getattr(mark, "name", None) == "xfail":
            reason = mark.kwargs.get("reason")
            if isinstance(reason, str) and reason.strip():
                return reason
    return None


def assert_no_dropped_tests(subclass: type) -> None:
    """Fail if ``subclass`` overrides or removes a standard test without
    ``@pytest.mark.xfail(reason=...)`` on the override.

    A backend that cannot meet a rule says so in an xfail with a reason (strict xfail then
    tells everyone when it starts passing); it never silently replaces the test.
    """
    problems = []
    for name, original in sorted(standard_tests().items()):
        current = getattr(subclass, name, None)
        if current is original:
            continue
        if not callable(current):
            problems.append(f"{name} was removed (set to {current!r})")
        elif _xfail_reason(current) is None:
            problems.append(f"{name} is overridden without @pytest.mark.xfail(reason=...)")
    if problems:
        raise AssertionError(
            f"{subclass.__qualname__} drops standard backend conformance tests:\n  "
            + "\n  ".join(problems)
        )
