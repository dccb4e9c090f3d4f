"""The fixtures every conformance test class relies on, and capability gating."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from kitaru.backend import Backend, Capability

__all__ = ["ConformanceBase", "require_capability"]


def require_capability(backend: Backend, capability: Capability) -> None:
    """Skip the running test unless ``backend`` declares ``capability``."""
    if capability not in backend.capabilities:
        pytest.skip(f"{type(backend).__name__} does not declare Capability.{capability.name}")


class ConformanceBase:
    """Fixture slots a backend package fills in.

    * ``backend`` (required): a fresh, empty backend for each test; close it in teardown.
    * ``backend_url`` (required when the backend declares ``CROSS_PROCESS``): a URL naming
      the same journal as ``backend``, which a child process can open.
    * :attr:`backend_opener`: how a child process turns that URL into a backend.
    """

    #: ``"module:function"`` where ``function(url) -> Backend``; must be importable in a fresh
    #: process. ``None`` (default): open the URL through the ``kitaru_register_backends`` hook
    #: of a freshly built plugin manager, by URL scheme, as a detached Kitaru worker would.
    backend_opener: ClassVar[str | None] = None

    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        """A fresh, empty backend. Override in the backend package's test class."""
        pytest.fail(
            f"{type(self).__name__} must define a `backend` fixture that yields a fresh, empty "
            "backend (see kitaru_testing.BackendConformance)."
        )
        yield  # pragma: no cover - unreachable; makes this a generator fixture

    @pytest.fixture
    def backend_url(self) -> str:
        """The URL of the ``backend`` fixture's journal. Override for CROSS_PROCESS backends."""
        pytest.fail(
            f"{type(self).__name__} declares Capability.CROSS_PROCESS but defines no "
            "`backend_url` fixture naming the same journal as `backend`."
        )
