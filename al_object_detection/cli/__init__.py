"""``alod``: the operator's command line. Thin: it parses, then calls the library.

The daemon's commands come from :mod:`al_object_detection.daemon.commands`; ``alod data`` and
``alod demo`` from this package's own modules.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from al_object_detection.adapters.dataset.database import DatabaseMismatchError
from al_object_detection.cli.data import add_data_commands
from al_object_detection.cli.demo import add_demo_command
from al_object_detection.daemon import exitcodes
from al_object_detection.daemon.commands import add_daemon_commands
from al_object_detection.data.records import DataError
from al_object_detection.data.wheels import WheelUnavailableError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``alod`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:  # the reader went away (alod status | head): exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (DataError, WheelUnavailableError, FileNotFoundError, ValueError) as error:
        print(f"alod: error: {error}", file=sys.stderr)
        return 2
    except DatabaseMismatchError as error:
        print(f"alod: error: {error}", file=sys.stderr)
        return exitcodes.CONFIG


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alod", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    add_data_commands(commands.add_parser("data", help="make or import a detection dataset"))
    demo_help = "an offline active-learning run on the demo data"
    add_demo_command(commands.add_parser("demo", help=demo_help))
    add_daemon_commands(commands)
    return parser
