"""Which MongoDB FiftyOne uses: chosen before FiftyOne is imported, checked once it connected.

A project names its database in ``alod.toml`` (``[dataset] database_uri``: a server the
operator runs, or ``database_dir``: FiftyOne's own ``mongod`` with that folder); otherwise
FiftyOne's own settings apply (``FIFTYONE_DATABASE_URI``, its config file, its default
folder). FiftyOne silently attaches to the first ``mongod`` already running for the user and
follows ``FIFTYONE_PRIVATE_DATABASE_PORT`` inherited from a parent process, so after the first
connection the server actually reached is compared with the chosen one: any difference stops
the process with :class:`DatabaseMismatchError` instead of mixing two projects' data.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URI_VARIABLE = "FIFTYONE_DATABASE_URI"
NAME_VARIABLE = "FIFTYONE_DATABASE_NAME"
DIR_VARIABLE = "FIFTYONE_DATABASE_DIR"
PRIVATE_PORT_VARIABLE = "FIFTYONE_PRIVATE_DATABASE_PORT"  # FiftyOne's own, inherited by children
URI_SCHEMES = ("mongodb://", "mongodb+srv://")
DEFAULT_NAME = "fiftyone"


class DatabaseMismatchError(RuntimeError):
    """The database FiftyOne would use (or uses) is not the one this process was told to use."""


@dataclass(frozen=True)
class DatabaseTarget:
    """A MongoDB server (``uri``) or FiftyOne's own ``mongod`` on a folder (``directory``)."""

    uri: str | None = None
    directory: Path | None = None
    name: str = DEFAULT_NAME

    def describe(self) -> str:
        """The target for a person (passwords masked)."""
        if self.uri is not None:
            return f"MongoDB {mask_password(self.uri)} database {self.name!r}"
        where = self.directory if self.directory is not None else "FiftyOne's default folder"
        return f"FiftyOne's own mongod on {where} database {self.name!r}"


def choose_database(
    *,
    uri: str | None = None,
    directory: Path | str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> DatabaseTarget:
    """The database to use: the given settings, else FiftyOne's environment and config file.

    A given URI that FiftyOne's own settings contradict is a mismatch, and so is a given
    folder while FiftyOne's settings name a server (FiftyOne would ignore the folder).
    """
    ambient_uri, source = _ambient_uri(environ)
    if uri is not None:
        check_uri(uri)
        if ambient_uri is not None and ambient_uri != uri:
            raise DatabaseMismatchError(
                f"the project's database is {mask_password(uri)} but {source} names "
                f"{mask_password(ambient_uri)}; unset it or make them agree"
            )
    elif directory is not None and ambient_uri is not None:
        raise DatabaseMismatchError(
            f"the project's database folder is {directory} but {source} names the server "
            f"{mask_password(ambient_uri)}, which FiftyOne would use instead; unset it, or "
            "set [dataset] database_uri"
        )
    chosen_uri = uri if uri is not None else ambient_uri
    if chosen_uri is not None:
        return DatabaseTarget(uri=chosen_uri, name=_uri_name(chosen_uri, environ))
    folder = directory if directory is not None else environ.get(DIR_VARIABLE)
    name = environ.get(NAME_VARIABLE) or DEFAULT_NAME
    return DatabaseTarget(directory=Path(folder).resolve() if folder else None, name=name)


def apply_database(target: DatabaseTarget) -> None:
    """Point FiftyOne's variables at ``target`` (this process and its children)."""
    os.environ[NAME_VARIABLE] = target.name
    if target.uri is not None:
        os.environ[URI_VARIABLE] = target.uri
        os.environ.pop(PRIVATE_PORT_VARIABLE, None)  # a parent's own mongod: not ours
    elif target.directory is not None:
        os.environ[DIR_VARIABLE] = str(target.directory)


def verify_database(fo: Any, target: DatabaseTarget) -> None:
    """Connect, then check that FiftyOne reached ``target``; raises on any difference."""
    from fiftyone.core.odm import database

    config = fo.config
    settings = (config.database_uri, config.database_name)
    if settings != (target.uri, target.name):
        raise DatabaseMismatchError(
            f"FiftyOne was set up for database_uri={_masked(config.database_uri)} database "
            f"{config.database_name!r} before this project chose {target.describe()} "
            "(was FiftyOne imported or configured earlier in this process?)"
        )
    client = database.get_db_client()
    if target.uri is not None:
        _check_address(client, target)
    else:
        _check_folder(client, target, Path(config.database_dir))


def mask_password(uri: str) -> str:
    """``uri`` with its password replaced by ``***``."""
    scheme, _, rest = uri.partition("://")
    credentials, at, hosts = rest.rpartition("@")
    if not at or ":" not in credentials:
        return uri
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hosts}"


def check_uri(uri: str) -> None:
    """Raise ValueError unless ``uri`` is a MongoDB connection string pymongo accepts."""
    if not uri.startswith(URI_SCHEMES):
        raise ValueError(f"{mask_password(uri)!r} must start with {' or '.join(URI_SCHEMES)}")
    if uri.startswith("mongodb+srv://"):
        return  # parsing it resolves DNS records: left to the first connection
    from pymongo import uri_parser

    try:
        uri_parser.parse_uri(uri)
    except Exception as error:  # noqa: BLE001 - pymongo raises several types; one message
        raise ValueError(f"{mask_password(uri)!r} is not a valid MongoDB URI: {error}") from None


def _ambient_uri(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """FiftyOne's own database URI setting (variable first, then its config file)."""
    if environ.get(URI_VARIABLE):
        return environ[URI_VARIABLE], URI_VARIABLE
    path = Path(environ.get("FIFTYONE_CONFIG_PATH") or Path.home() / ".fiftyone" / "config.json")
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, ""
    uri = settings.get("database_uri") if isinstance(settings, dict) else None
    return (uri, f"FiftyOne's config file {path}") if isinstance(uri, str) and uri else (None, "")


def _uri_name(uri: str, environ: Mapping[str, str]) -> str:
    """The database a URI names (``mongodb://host/NAME``), else FiftyOne's setting."""
    path = uri.split("://", 1)[1].split("?", 1)[0].partition("/")[2]
    ambient = environ.get(NAME_VARIABLE)
    if path and ambient and ambient != path:
        raise DatabaseMismatchError(
            f"the URI names database {path!r} but {NAME_VARIABLE} is {ambient!r}"
        )
    return path or ambient or DEFAULT_NAME


def _check_address(client: Any, target: DatabaseTarget) -> None:
    assert target.uri is not None
    if target.uri.startswith("mongodb+srv://"):
        return  # the hosts come from DNS: pymongo itself connected to what the URI names
    from pymongo import uri_parser

    seeds = {(host.lower(), port) for host, port in uri_parser.parse_uri(target.uri)["nodelist"]}
    if len(seeds) != 1:
        return  # a replica set: the answering member may be one the seeds did not list
    reached = client.address  # (host, port) of the server answering; waits for it
    if reached is None or (reached[0].lower(), reached[1]) not in seeds:
        raise DatabaseMismatchError(
            f"FiftyOne connected to {reached} instead of {target.describe()}{_private_port_hint()}"
        )


def _check_folder(client: Any, target: DatabaseTarget, configured: Path) -> None:
    expected = (target.directory or configured).resolve()
    options = client.admin.command("getCmdLineOpts")
    db_path = options.get("parsed", {}).get("storage", {}).get("dbPath")
    if db_path is None or Path(db_path).resolve() != expected:
        raise DatabaseMismatchError(
            f"FiftyOne attached to a mongod already running for this user with its data in "
            f"{db_path}, not {expected}; stop that process, or give each project its own "
            f"server with [dataset] database_uri{_private_port_hint()}"
        )


def _private_port_hint() -> str:
    port = os.environ.get(PRIVATE_PORT_VARIABLE)
    if port is None:
        return ""
    return f" ({PRIVATE_PORT_VARIABLE}={port} is set, maybe inherited from a parent process)"


def _masked(uri: str | None) -> str | None:
    return mask_password(uri) if uri is not None else None


_connected: DatabaseTarget | None = None


def connect_fiftyone(*, uri: str | None = None, directory: Path | str | None = None) -> Any:
    """FiftyOne, imported and connected to the chosen database (checked once per process).

    Later calls return it at once; one that names another database than the process uses
    raises :class:`DatabaseMismatchError` (a process holds one FiftyOne connection).
    """
    global _connected
    if _connected is not None:
        if (uri, directory) != (None, None):
            wanted = choose_database(uri=uri, directory=directory)
            if wanted != _connected:
                raise DatabaseMismatchError(
                    f"this process uses {_connected.describe()}; it cannot also use "
                    f"{wanted.describe()}"
                )
        return sys.modules["fiftyone"]
    if (uri, directory) == (None, None) and "fiftyone" in sys.modules:
        target = _from_fiftyone_config(sys.modules["fiftyone"].config)  # imported by the caller
    else:
        target = choose_database(uri=uri, directory=directory)
        apply_database(target)
    import fiftyone

    verify_database(fiftyone, target)
    _connected = target
    return fiftyone


def _from_fiftyone_config(config: Any) -> DatabaseTarget:
    if config.database_uri:
        return DatabaseTarget(uri=config.database_uri, name=config.database_name)
    return DatabaseTarget(directory=Path(config.database_dir).resolve(), name=config.database_name)
