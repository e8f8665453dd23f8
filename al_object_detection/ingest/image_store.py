"""The image store: accepted images by content, ``<root>/<sha256[:2]>/<sha256><suffix>``.

Placing a file there is the commit point of an ingest: the same content can only be placed
once, and a file in the image store is published to the pool even after a crash.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

_INCOMING = ".incoming"
_NO_HARD_LINKS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP}


class ImageStore:
    """A content-addressed image folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._shards: set[Path] = set()

    def path_for(self, sha256: str, suffix: str) -> Path:
        """Where content ``sha256`` lives."""
        return self.folder / sha256[:2] / f"{sha256}{suffix}"

    def place(self, source: Path, sha256: str, suffix: str, *, keep: bool = False) -> bool:
        """Move (``keep``: copy) ``source``'s content in; False when it is there already."""
        target = self.path_for(sha256, suffix)
        if target.parent not in self._shards:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._shards.add(target.parent)
        if keep:
            return self._copy_in(source, target)
        try:
            self._link(source, target)
        except FileExistsError:
            if not os.path.samefile(source, target):
                return False
            source.unlink()  # a move that a crash interrupted: finish it
            return True
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            if not self._copy_in(source, target):
                return False
        source.unlink()
        return True

    def _link(self, source: Path, target: Path) -> None:
        """Hard-link ``source``'s content to ``target`` (a symlink's target, not the link)."""
        try:
            os.link(source, target)
        except FileNotFoundError:
            if not source.exists():
                raise
            self._shards.discard(target.parent)  # the shard went away meanwhile
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)

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

    def _copy_in(self, source: Path, target: Path) -> bool:
        incoming = self.folder / _INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        partial = incoming / uuid.uuid4().hex
        shutil.copyfile(source, partial)
        if target.exists():
            partial.unlink()
            return False
        os.replace(partial, target)
        return True


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)
