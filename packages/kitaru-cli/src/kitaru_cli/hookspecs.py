"""The hooks the ``kitaru`` command line calls. One docstring per hook is its specification.

These specs are added to Kitaru's plugin manager by the CLI (``pm.add_hookspecs``), the way
pytest plugins add theirs through ``pytest_addhooks``. Implement them with
:data:`kitaru.hookimpl` in a module named by an entry point in the ``kitaru`` group.

Core validates entry-point plugins before the CLI has added these specs, so for now mark the
implementation ``@kitaru.hookimpl(optionalhook=True)``; otherwise core rejects the plugin as
implementing an unknown hook. The user documentation is ``docs/operator-guide.md``
("Extending the CLI").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

hookspec = pluggy.HookspecMarker("kitaru")

__all__ = ["hookspec", "kitaru_register_commands", "kitaru_register_journal_readers"]


@hookspec
def kitaru_register_commands(app: typer.Typer) -> None:
    """Add commands to the ``kitaru`` command line.

    Called once per ``kitaru`` invocation, before the command line is parsed, so the commands
    appear in ``kitaru --help``. ``app`` is the root :class:`typer.Typer`; add commands with
    ``app.command()(func)`` or a group with ``app.add_typer(sub_app, name="...")``. Keep
    imports inside the command bodies: every ``kitaru`` invocation pays for what this hook
    imports. Return nothing. Not ``firstresult``, not ``historic``: every plugin is called.
    """


@hookspec
def kitaru_register_journal_readers(register: Any) -> None:
    """Contribute fast read-only access to journals for the CLI's read commands.

    Called when ``kitaru executions list`` or ``kitaru executions get`` opens the journal
    (not by other commands). Call ``register(scheme, factory)`` for each URL scheme you can
    read faster than the backend registered for it through ``kitaru_register_backends``, where
    ``factory(url: str) -> kitaru.backend.Backend``. The returned backend must return the same
    records as the scheme's backend; it may hand any call, writes included, to that backend
    (the command's lost-runner check may write). The scheme is read from the URL as for
    backends; a scheme with no reader uses its backend, and so does a command run while a
    runtime is in scope (``kitaru.runtime.use_runtime``). Registering a scheme twice raises
    :class:`kitaru.errors.KitaruPluginError`. Not ``firstresult``, not ``historic``.
    """
