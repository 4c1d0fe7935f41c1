"""`jupyter workspaces ...`: the command line, one sub-command module per concern."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every sub-command registered by the module that owns it."""
    from jupyter_workspaces import commands
    from jupyter_workspaces.simulator import command as simulator_command

    parser = argparse.ArgumentParser(
        prog="jupyter workspaces",
        description="See and manage your Kubernetes workspaces.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.register(subparsers)
    simulator_command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
