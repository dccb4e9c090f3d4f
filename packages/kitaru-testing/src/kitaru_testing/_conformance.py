"""``BackendConformance``: the one test class every Kitaru backend passes."""

from __future__ import annotations

from kitaru_testing._calls import CallTests
from kitaru_testing._data import DataTests
from kitaru_testing._documents import DocumentTests
from kitaru_testing._executions import ExecutionTests
from kitaru_testing._fencing import FencingTests
from kitaru_testing._lifecycle import LifecycleTests
from kitaru_testing._meta import assert_no_dropped_tests
from kitaru_testing._processes import ProcessTests
from kitaru_testing._running import RunningCallTests
from kitaru_testing._secrets import SecretTests
from kitaru_testing._threads import ThreadRaceTests
from kitaru_testing._waits import WaitTests

__all__ = ["BackendConformance"]


class BackendConformance(
    ExecutionTests,
    LifecycleTests,
    CallTests,
    RunningCallTests,
    WaitTests,
    DataTests,
    SecretTests,
    DocumentTests,
    FencingTests,
    ThreadRaceTests,
    ProcessTests,
):
    """The journal contract (:class:`kitaru.backend.Backend`) as a pytest test class.

    Subclass it in a module named ``test_*.py``, with a class name starting with ``Test``, and
    provide the fixtures::

        class TestMyBackend(BackendConformance):
            @pytest.fixture
            def backend_url(self, tmp_path) -> str:      # only for CROSS_PROCESS backends
                return f"mine:///{tmp_path}/journal"

            @pytest.fixture
            def backend(self, backend_url):               # a fresh, empty backend per test
                backend = MyBackend(backend_url)
                yield backend
                backend.close()

    Tests for capabilities the backend does not declare skip. Multi-process tests open the
    same journal in ``spawn``-ed children through :attr:`backend_opener` (default: the
    backend registered for the URL's scheme through the ``kitaru`` plugin hooks).

    A subclass must not override a ``test_*`` method except to mark it
    ``@pytest.mark.xfail(reason=...)``; :meth:`test_no_standard_test_is_dropped` enforces it.
    """

    def test_no_standard_test_is_dropped(self) -> None:
        assert_no_dropped_tests(type(self))
