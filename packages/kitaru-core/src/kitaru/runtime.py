"""The runtime in scope: which journal, artifact store and plugins Kitaru uses.

``current_runtime()`` is built from the environment on first use; ``use_runtime(rt)`` puts
another one in scope (for tests, or to operate two journals from one process), and
``scoped_runtime()`` returns that one (None when none is in scope).
``saved_store_url()`` / ``disconnect()`` read and forget the journal saved by
``kitaru.connect()`` (``kitaru login`` / ``kitaru logout``). ``user_config_path()`` is the
user config file (stacks, model aliases, log store, saved journal); ``read_user_config()``
reads it, raising :class:`~kitaru.errors.KitaruUsageError` naming the file when it is corrupt.
``missing_journal_folder()`` names the folder of a SQLite journal URL that does not exist.
"""

from kitaru._config import artifact_store_uri, config_dir, missing_journal_folder, store_url
from kitaru._connect import disconnect, saved_store_url
from kitaru._runtime import (
    Runtime,
    current_runtime,
    reset_default_runtime,
    scoped_runtime,
    use_runtime,
)
from kitaru._userconfig import path as user_config_path
from kitaru._userconfig import read as read_user_config

__all__ = [
    "Runtime",
    "artifact_store_uri",
    "config_dir",
    "current_runtime",
    "disconnect",
    "missing_journal_folder",
    "read_user_config",
    "reset_default_runtime",
    "saved_store_url",
    "scoped_runtime",
    "store_url",
    "use_runtime",
    "user_config_path",
]
