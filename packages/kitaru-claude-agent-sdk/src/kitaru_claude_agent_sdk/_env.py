"""Clear errors, before the SDK starts a subprocess, when the Claude CLI or credentials are
missing.

Both are :class:`KitaruUsageError`: in a flow the failure's origin is ``usage`` (fix the
setup, then retry), since retrying unchanged cannot find a CLI or a key that is not there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError

__all__ = ["CREDENTIAL_VARIABLES", "check_cli_and_credentials"]

CREDENTIAL_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
)


def _bundled_cli() -> Path:
    import claude_agent_sdk

    return Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def find_cli(options: Any) -> str | None:
    """The CLI the SDK would start: ``options.cli_path``, the bundled one, or ``claude``."""
    if options.cli_path is not None:
        path = Path(options.cli_path)
        return str(path) if path.is_file() else None
    bundled = _bundled_cli()
    if bundled.is_file():
        return str(bundled)
    return shutil.which("claude")


def _has_key_helper(settings: Path) -> bool:
    """Whether Claude Code's settings name an ``apiKeyHelper`` (a command printing a key)."""
    try:
        return bool(json.loads(settings.read_text()).get("apiKeyHelper"))
    except (OSError, ValueError, AttributeError):
        return False


def check_cli_and_credentials(options: Any) -> None:
    """Raise an error naming what to set when no CLI or no model credentials are found."""
    if find_cli(options) is None:
        where = f" at cli_path={options.cli_path!r}" if options.cli_path is not None else ""
        raise KitaruUsageError(
            f"The Claude Code CLI was not found{where}. The claude-agent-sdk wheel bundles it "
            "(reinstall it with: pip install --force-reinstall claude-agent-sdk); otherwise "
            "install the CLI and put `claude` on PATH, or set "
            "ClaudeAgentOptions(cli_path=...)."
        )
    env = {**os.environ, **(options.env or {})}
    if any(env.get(name) for name in CREDENTIAL_VARIABLES):
        return
    config = Path(env.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    if (config / ".credentials.json").is_file() or _has_key_helper(config / "settings.json"):
        return
    raise KitaruUsageError(
        "No credentials for Claude were found. Set ANTHROPIC_API_KEY (or "
        "CLAUDE_CODE_OAUTH_TOKEN, or CLAUDE_CODE_USE_BEDROCK / CLAUDE_CODE_USE_VERTEX with "
        "that provider's credentials) in the environment or in ClaudeAgentOptions(env=...), "
        "or log in once with `claude login` (credentials under CLAUDE_CONFIG_DIR, default "
        "~/.claude)."
    )
