"""``kitaru-mcp``: serve the Kitaru MCP tools over stdio.

Configure an MCP client to start this command; it reads requests on stdin and answers on
stdout. Anything else written to stdout while it runs (a flow module that prints when it is
imported, for instance) is diverted to stderr by the MCP SDK, so the protocol stays clean.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kitaru-mcp",
        description="Serve Kitaru's MCP tools over stdio (for Claude Desktop, Claude Code and "
        "other MCP clients). The journal is the one Kitaru uses everywhere: "
        "KITARU_STORE_URL, else <KITARU_CONFIG_PATH or the user config dir>/kitaru.db.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (default: WARNING)",
    )
    args = parser.parse_args(argv)
    if args.version:
        from kitaru_mcp.server import _version

        print(f"kitaru-mcp {_version()}")
        return 0
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(levelname)s %(name)s: %(message)s"
    )
    from kitaru.errors import KitaruError
    from kitaru.runtime import missing_journal_folder, store_url

    from kitaru_mcp.server import get_server

    folder = missing_journal_folder()
    if folder is not None:  # a typo: do not create an empty journal there and serve it
        print(
            f"kitaru-mcp: the journal folder '{folder}' does not exist (journal "
            f"{store_url()}). Check the path for a typo, or create the folder first "
            f"(mkdir -p '{folder}').",
            file=sys.stderr,
        )
        return 1

    try:
        server = get_server()
    except KitaruError as exc:  # a broken plugin, say: say so on stderr, not as a traceback
        print(f"kitaru-mcp: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    server.run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
