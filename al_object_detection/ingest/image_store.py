"""The image store: accepted images by content, ``<root>/<sha256[:2]>/<sha256><suffix>``.

Placing a file there is the commit point of an ingest: the same content can only be placed
once, and a file in the image store is published to the pool even after a crash. Stored
images are the daemon's own bytes: a dropped file with no other name is hard-linked in and
its drop name removed; any other file (more names, a symlink, ``keep``) is copied: the bytes
the check read and hashed are written out again (:meth:`ImageStore.stage`), or else the file
is read again and the copy's hash checked against the one that was judged.

A crash between the commit and the removal of the drop name leaves the drop file behind;
:meth:`ImageStore.resume` recognises it as the stored image itself (the same inode, or the
file a recorded copy was made from), so it is never mistaken for a duplicate.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import itertools
import json
import os
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from al_object_detection.ingest import faults

_INCOMING = ".incoming"
_PARTIAL, _RECORD = ".partial", ".source"
_NO_HARD_LINKS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP}
_COPY_CHUNK = 1 << 20
_ABANDONED_S = 3600.0  # a copy or record this old belongs to no running process
_SHARD_PREFIXES = [f"{byte:02x}" for byte in range(256)]


class SourceChanged(Exception):
    """The dropped file is no longer the file that was judged."""


@dataclass(frozen=True)
class FileIdentity:
    """One version of one file: its device, inode, size and modification time."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileIdentity:
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class ImageStore:
    """A content-addressed image folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.incoming = folder / _INCOMING
        self._shards: dict[str, Path] = {}  # by the hash's first two digits
        self._made: set[str] = set()  # shards known to exist
        self._prefix, self._counter = uuid.uuid4().hex, itertools.count()

    def __reduce__(self) -> tuple[type[ImageStore], tuple[Path]]:
        """A copy in another process is a new handle on the folder: its own partial names."""
        return (ImageStore, (self.folder,))

    def path_for(self, sha256: str, suffix: str) -> Path:
        """Where content ``sha256`` lives."""
        return self._shard(sha256) / f"{sha256}{suffix}"

    def resume(self, source: Path, sha256: str, suffix: str, *, keep: bool = False) -> bool:
        """True when ``source`` is the stored image of ``sha256`` whose move a crash cut short.

        Then the move is finished: ``source`` is removed (unless ``keep``).
        """
        try:
            stored = os.stat(self.path_for(sha256, suffix))
            dropped = os.lstat(source)
        except FileNotFoundError:
            return False
        same_inode = (stored.st_dev, stored.st_ino) == (dropped.st_dev, dropped.st_ino)
        if not same_inode and self._recorded_source(sha256) != source:
            return False
        if not keep:
            source.unlink()
            self._record(sha256).unlink(missing_ok=True)
        return True

    def place(
        self,
        source: Path,
        sha256: str,
        suffix: str,
        identity: FileIdentity,
        *,
        keep: bool = False,
        staged: Path | None = None,
    ) -> bool:
        """Store ``source`` (judged as ``identity``); False when the content is there already.

        The drop file is removed afterwards unless ``keep``. Raises :class:`SourceChanged`
        when the file changed since it was judged. ``staged``: the judged bytes, written by
        :meth:`stage`, stored (linked in) when ``source`` must be copied; the caller removes
        the staged file afterwards.
        """
        target = self.path_for(sha256, suffix)
        self.make_shard(sha256)
        info = os.lstat(source)
        symlink = stat.S_ISLNK(info.st_mode)
        if symlink:
            info = os.stat(source)
        if FileIdentity.of(info) != identity:
            raise SourceChanged(f"{source} changed since it was checked")
        linked = not keep and not symlink and info.st_nlink == 1
        if linked:
            try:
                self._link(source, target)  # fails when the content is there already
            except FileExistsError:
                return False
            except OSError as error:
                if error.errno not in _NO_HARD_LINKS:
                    raise
                linked = False
        if not linked:
            if os.path.lexists(target):
                return False
            if not self._copy_in(source, target, sha256, identity, keep=keep, staged=staged):
                return False
        faults.reach(faults.STORE_COMMITTED)
        if not keep:
            source.unlink()
            if not linked:
                self._record(sha256).unlink(missing_ok=True)
        faults.reach(faults.STORE_MOVED)
        return True

    def make_shard(self, sha256: str) -> None:
        """Create the folder that content ``sha256`` is stored in: the first call makes all
        256 of them, so that no later store waits on a ``mkdir`` of the image store's root."""
        if not self._made:
            for prefix in _SHARD_PREFIXES:
                (self.folder / prefix).mkdir(parents=True, exist_ok=True)
            self._made.update(_SHARD_PREFIXES)
        if sha256[:2] not in self._made:  # not a hex digest, or its shard found gone (_link)
            self._shard(sha256).mkdir(parents=True, exist_ok=True)
            self._made.add(sha256[:2])

    def stage(self, data: bytes) -> Path:
        """Write judged bytes to a new partial file, ready to become a stored image."""
        partial = self._new_partial()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            descriptor = os.open(partial, flags, 0o644)
        except FileNotFoundError:  # the first one
            self.incoming.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(partial, flags, 0o644)
        with open(descriptor, "wb") as writer:
            writer.write(data)
        return partial

    def entries(self) -> Iterator[tuple[str, Path]]:
        """Every (sha256, path) in the image store."""
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.iterdir()):
            if shard.name == _INCOMING or not shard.is_dir():
                continue
            for path in shard.iterdir():
                if not path.name.startswith("."):
                    yield path.name.split(".", 1)[0], path

    def clean(self, now: float | None = None) -> int:
        """Remove what interrupted copies left: partial files and records of no use.

        A record stays while its drop file may still come back to :meth:`resume`. A partial
        file with a second name is a stored image's (a crash came between storing it and
        removing it): it goes at once, as no copy in progress can be at that point.
        """
        if not self.incoming.is_dir():
            return 0
        stored = {sha for sha, _ in self.entries()}
        now = time.time() if now is None else now
        removed = 0
        for entry in self.incoming.iterdir():
            try:
                info = entry.lstat()
            except FileNotFoundError:
                continue
            sha = entry.name.removesuffix(_RECORD)
            if entry.name.endswith(_RECORD) and sha in stored:
                useless = self._recorded_source(sha) is None  # its drop file is gone
            elif entry.name.endswith(_PARTIAL) and info.st_nlink > 1:
                useless = True  # linked into the store: what is left is its removal
            else:  # a copy that another process may still make
                useless = now - info.st_mtime >= _ABANDONED_S
            if useless:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def sync(self) -> None:
        """Make what was placed durable: one ``syncfs`` of the image store's file system.

        Called once per batch, before the batch is published: a sample never points at a
        file that a power cut could lose, at the cost of one flush instead of one per file.
        """
        descriptor = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _libc().syncfs(descriptor) != 0:
                os.sync()
        finally:
            os.close(descriptor)

    # -- helpers -----------------------------------------------------------------------------

    def _link(self, source: Path, target: Path) -> None:
        try:
            os.link(source, target, follow_symlinks=False)
        except FileNotFoundError:
            if not source.exists():
                raise
            self._made.discard(target.parent.name)  # the shard went away meanwhile
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target, follow_symlinks=False)

    def _copy_in(
        self,
        source: Path,
        target: Path,
        sha256: str,
        identity: FileIdentity,
        *,
        keep: bool,
        staged: Path | None,
    ) -> bool:
        """Copy ``source`` to ``target`` through a partial file; False if ``target`` appeared.

        A ``staged`` partial holds the judged bytes themselves: it is stored as it is.
        """
        if staged is None:
            self.incoming.mkdir(parents=True, exist_ok=True)
        if not keep:  # what lets resume() know the drop file if a crash follows the commit
            # written in place: a record cut short is one of no commit, and of no use
            record = {"path": str(source), **asdict(identity)}
            self._record(sha256).write_text(json.dumps(record), encoding="utf-8")
        partial = staged or self._new_partial()
        try:
            if staged is None and _copy_hashing(source, partial, identity) != sha256:
                raise SourceChanged(f"{source} changed while it was copied")
            os.link(partial, target)
        except FileExistsError:
            self._record(sha256).unlink(missing_ok=True)
            return False
        except BaseException:
            self._record(sha256).unlink(missing_ok=True)
            raise
        finally:
            if staged is None:
                partial.unlink(missing_ok=True)
        return True

    def _shard(self, sha256: str) -> Path:
        prefix = sha256[:2]
        shard = self._shards.get(prefix)
        if shard is None:
            shard = self._shards[prefix] = self.folder / prefix
        return shard

    def _new_partial(self) -> Path:
        """A name no other partial file has, of this process or another."""
        return self.incoming / f"{self._prefix}-{next(self._counter)}{_PARTIAL}"

    def _record(self, sha256: str) -> Path:
        return self.incoming / f"{sha256}{_RECORD}"

    def _recorded_source(self, sha256: str) -> Path | None:
        """The drop file a committed copy of ``sha256`` was made from, if it is still there."""
        try:
            record = json.loads(self._record(sha256).read_text(encoding="utf-8"))
            source = Path(record["path"])
            identity = FileIdentity.of(os.stat(source))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return source if record == {"path": str(source), **asdict(identity)} else None


def _copy_hashing(source: Path, target: Path, identity: FileIdentity) -> str:
    """Copy ``source`` (which must still be ``identity``) to a new ``target``; its sha256."""
    digest = hashlib.sha256()
    descriptor = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(descriptor, "rb") as reader:
        if FileIdentity.of(os.fstat(reader.fileno())) != identity:
            raise SourceChanged(f"{source} changed since it was checked")
        with open(target, "xb") as writer:
            while chunk := reader.read(_COPY_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
    return digest.hexdigest()


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)
