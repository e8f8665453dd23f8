"""The daemon's ``alod`` commands: run, ingest, status, logs, override, install-service, report."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from al_object_detection.states import machine as m

_OVERRIDE_ACTIONS = ("retry", "cancel", "pause", "resume")


def add_daemon_commands(commands: Any) -> None:
    """Add the daemon's commands to the ``alod`` subparsers."""
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config", type=Path, default=Path("alod.toml"), help="the project's alod.toml"
    )

    run = commands.add_parser("run", parents=[config], help="the daemon: rounds and drop folders")
    run.add_argument("--until-done", action="store_true", help="exit once the stop rules hold")
    run.set_defaults(handler=_run)

    ingest = commands.add_parser(
        "ingest", parents=[config], help="add images (files or folders) to the pool once"
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--keep", action="store_true", help="copy instead of moving the files")
    ingest.set_defaults(handler=_ingest)

    status = commands.add_parser("status", parents=[config], help="where the project stands")
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.set_defaults(handler=_status)

    logs = commands.add_parser("logs", parents=[config], help="the daemon's log, readable")
    logs.add_argument(
        "source", nargs="?", default=None, help="a log file, or - for stdin (default: the daemon's)"
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.set_defaults(handler=_logs)

    override = commands.add_parser(
        "override",
        parents=[config],
        help="move, retry or cancel a round, pause or resume the daemon (audited)",
    )
    override.add_argument("action", nargs="?", choices=_OVERRIDE_ACTIONS, help="or --to STATE")
    override.add_argument("--round", type=int, default=None, help="default: the current round")
    override.add_argument("--to", choices=m.STATES, default=None, help="move the round there")
    override.add_argument("--reason", required=True, help="why (kept in the audit row)")
    override.add_argument("--force", action="store_true", help="allow a move the table forbids")
    override.add_argument("--yes", action="store_true", help="apply (default: preview only)")
    override.add_argument("--as", dest="who", default=None, help="who (default: your user)")
    override.set_defaults(handler=_override)

    install = commands.add_parser(
        "install-service", parents=[config], help="write the systemd unit for this project"
    )
    install.add_argument("--name", default=None, help="unit name (default: alod-<project>)")
    install.add_argument("--user", default="alod", help="the system user it runs as")
    install.add_argument("--dest", type=Path, default=Path("/etc/systemd/system"))
    install.add_argument("--credentials-dir", type=Path, default=Path("/etc/alod/credentials"))
    install.add_argument("--print", action="store_true", help="print the unit, write nothing")
    install.set_defaults(handler=_install)

    report = commands.add_parser(
        "report", parents=[config], help="write a round's report: one self-contained HTML file"
    )
    report.add_argument("--round", type=int, default=None, help="default: the last evaluated")
    report.add_argument(
        "--out", type=Path, default=None, help="default: <state_dir>/reports/round-NNN.html"
    )
    report.set_defaults(handler=_report)


def _run(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.service import run_daemon

    return run_daemon(args.config, until_done=args.until_done)


def _ingest(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.logstream import configure, stderr_sink
    from al_object_detection.daemon.oneshot import ingest_once
    from al_object_detection.daemon.settings import load_config

    configure(stderr_sink(), level="warning", pretty=True)
    config = load_config(args.config)
    report = ingest_once(config, args.paths, keep=args.keep)
    rejected = ", ".join(f"{n} {reason}" for reason, n in sorted(report["rejected"].items()))
    print(
        f"accepted {report['accepted']} (in the pool now: {report['published']}, waiting for "
        f"the round: {report['waiting']}); rejected {sum(report['rejected'].values())}"
        + (f" ({rejected}; see {report['quarantine']})" if rejected else "")
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.settings import load_config
    from al_object_detection.daemon.status import collect_status, render_status, status_json

    status = collect_status(load_config(args.config))
    print(status_json(status) if args.json else render_status(status))
    return 0


def _logs(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.prettylog import read_lines, render_line

    if args.source == "-":
        lines: Any = sys.stdin
    else:
        if args.source is not None:
            path = Path(args.source)
        else:
            from al_object_detection.daemon.settings import load_config

            path = load_config(args.config).daemon.log_file
        if not path.exists() and not args.follow:
            raise FileNotFoundError(f"no log at {path} (has the daemon run?)")
        lines = read_lines(path, follow=args.follow)
    try:
        for line in lines:
            print(render_line(line), flush=True)
    except BrokenPipeError:  # the reader went away (| head): no error at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        pass
    return 0


def _override(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.overrides import OverrideError, override
    from al_object_detection.daemon.settings import load_config

    if (args.action is None) == (args.to is None):
        raise OverrideError("give either an action (retry, cancel, pause, resume) or --to STATE")
    message = override(
        load_config(args.config).project.paths,
        apply=args.yes,
        action=args.action or "move",
        who=args.who or os.environ.get("SUDO_USER") or getpass.getuser(),
        reason=args.reason,
        round_index=args.round,
        to_state=args.to,
        force=args.force,
    )
    print(message)
    return 0


def _report(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.settings import load_config
    from al_object_detection.report.build import write_project_report
    from al_object_detection.spec import EngineSpec

    spec = EngineSpec.from_project(load_config(args.config).project)
    print(write_project_report(spec, args.round, out=args.out))
    return 0


def _install(args: argparse.Namespace) -> int:
    from al_object_detection.daemon.install import install_unit, next_steps, render_unit, unit_spec
    from al_object_detection.daemon.settings import load_config

    config = load_config(args.config)
    spec = unit_spec(
        config, args.config, name=args.name, user=args.user, credentials_dir=args.credentials_dir
    )
    if args.print:
        print(render_unit(spec), end="")
        return 0
    print(next_steps(spec, install_unit(spec, args.dest)))
    return 0
