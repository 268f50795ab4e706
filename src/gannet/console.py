"""The ``gannet`` console script. It imports the command line (PyTorch with it) inside a guard, so a
Ctrl-C while the libraries load ends with an ``error:`` line and exit status 130, not a traceback."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    try:
        from gannet.cli import main as cli_main
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C) while gannet was starting; nothing was written", file=sys.stderr)
        return 130
    return cli_main(argv)
