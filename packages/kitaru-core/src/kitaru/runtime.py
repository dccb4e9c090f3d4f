"""The runtime in scope: which journal, artifact store and plugins Kitaru uses.

``current_runtime()`` is built from the environment on first use; ``use_runtime(rt)`` puts
another one in scope (for tests, or to operate two journals from one process).
"""

from kitaru._config import artifact_store_uri, config_dir, store_url
from kitaru._runtime import Runtime, current_runtime, reset_default_runtime, use_runtime

__all__ = [
    "Runtime",
    "artifact_store_uri",
    "config_dir",
    "current_runtime",
    "reset_default_runtime",
    "store_url",
    "use_runtime",
]
