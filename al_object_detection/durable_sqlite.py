"""The project's SQLite files (the round store's, the daemon's): opened durably, migrated once.

WAL mode with ``synchronous=FULL``: a committed transaction survives a crash or a power cut,
and readers (``status``, an operator's ``sqlite-utils rows``) never block the writer. Every
read-then-write runs in ``BEGIN IMMEDIATE``, so two processes never interleave. The schema is
built by numbered migrations written with sqlite-utils; ``PRAGMA user_version`` counts those
applied, so a program refuses a file that a newer one has migrated further.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


class NewerSchemaError(RuntimeError):
    """A file migrated by a newer version of this program."""


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """``path`` opened (created if new) in WAL mode with ``synchronous=FULL``; transactions are
    explicit (:func:`immediate`), every other statement commits on its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        path, isolation_level=None, timeout=30.0, check_same_thread=check_same_thread
    )
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration], *, path: Path) -> None:
    """Apply the migrations the file lacks, in order, in one ``BEGIN IMMEDIATE`` transaction:
    the file is either fully migrated or left as it was, and two processes opening a new file
    at once create its tables once. An up-to-date file takes no write lock."""
    if _checked_version(db, len(migrations), path) == len(migrations):
        return
    with immediate(db):
        version = _checked_version(db, len(migrations), path)  # another process may have won
        tables = sqlite_utils.Database(db, recursive_triggers=False, execute_plugins=False)
        for migration in migrations[version:]:
            migration(tables)
        db.execute(f"PRAGMA user_version = {len(migrations)}")


def _checked_version(db: sqlite3.Connection, known: int, path: Path) -> int:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > known:
        raise NewerSchemaError(
            f"{path} has schema version {version}, newer than this program's {known}: "
            "upgrade al_object_detection to read it"
        )
    return version
