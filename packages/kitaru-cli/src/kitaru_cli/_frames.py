"""Where an error happened in the user's code: the innermost frame of a traceback that is
neither Kitaru's own code, nor the standard library, nor an installed third-party package.

Used for ``executions get`` (from the traceback text the journal recorded) and for
``kitaru run`` when importing the flow's module fails (from the live exception).
"""

from __future__ import annotations

import functools
import re
import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Frame", "raised_at", "user_frame"]

# `  File "/path/mod.py", line 12, in work` (also inside exception-group tracebacks, whose
# lines start with `  |`).
_FRAME = re.compile(r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), in (?P<function>[^\n]+)')
_THIRD_PARTY = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True, kw_only=True)
class Frame:
    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}, in {self.function}"


def user_frame(traceback_text: str | None) -> Frame | None:
    """The innermost user frame of a formatted traceback (of its last exception, when
    exceptions are chained), or None when it has none."""
    if not traceback_text:
        return None
    for match in reversed(list(_FRAME.finditer(traceback_text))):
        if not _is_library(match["file"]):
            return Frame(file=match["file"], line=int(match["line"]), function=match["function"])
    return None


def raised_at(exc: BaseException) -> Frame | None:
    """The innermost user frame ``exc`` was raised through, or None."""
    for summary in reversed(traceback.extract_tb(exc.__traceback__)):
        if not _is_library(summary.filename):
            return Frame(file=summary.filename, line=summary.lineno or 0, function=summary.name)
    return None


def _is_library(file: str) -> bool:
    if file.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return True
    path = Path(file)
    if _THIRD_PARTY.intersection(path.parts):
        return True
    if any(path.is_relative_to(folder) for folder in _stdlib()):
        return True
    # Kitaru's own packages (`kitaru`, `kitaru_cli`, `kitaru_backend_sql`, ...), wherever they
    # are installed from (an editable checkout included): a folder of that name that is
    # where the package imports from. A user's own folder named `kitaru` is not.
    return any(
        (folder.name == "kitaru" or folder.name.startswith("kitaru_"))
        and _package_folder(folder.name) == folder
        for folder in path.parents
    )


@functools.cache
def _stdlib() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    return tuple({Path(paths[key]) for key in ("stdlib", "platstdlib") if key in paths})


@functools.cache
def _package_folder(name: str) -> Path | None:
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(locations[0]) if locations else None
