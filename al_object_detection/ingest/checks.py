"""One dropped file, judged: accepted (hash, format, size), rejected (a reason), or not yet.

A file whose content looks unfinished (empty, unreadable header, truncated data) is only
rejected once it has been left alone for ``grace_s``; before that it is deferred, because a
slow writer may still be adding to it. Only regular files are opened (a symlink's target too),
and without blocking: a named pipe, a device or a folder is refused, never waited on.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from al_object_detection.ingest import faults
from al_object_detection.ingest.image_store import FileIdentity
from al_object_detection.ingest.rules import FORMAT_SUFFIXES, IngestRules

# reason codes (metrics labels and quarantine reason files use them)
EMPTY = "empty"
NOT_AN_IMAGE = "not_an_image"
CORRUPT = "corrupt"
FORMAT = "format_not_allowed"
SUFFIX = "suffix_not_allowed"
PIXELS = "too_many_pixels"
TOO_LARGE = "too_large"
SYMLINK_OUTSIDE = "symlink_outside"
BROKEN_SYMLINK = "broken_symlink"
NOT_A_FILE = "not_a_file"
UNREADABLE = "unreadable"
DUPLICATE = "duplicate"

_CONTENT_REASONS = frozenset({EMPTY, NOT_AN_IMAGE, CORRUPT})
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@dataclass(frozen=True)
class Accepted:
    """A complete, decodable image of an allowed format."""

    path: Path
    sha256: str
    suffix: str
    width: int
    height: int
    identity: FileIdentity
    shared: bool = False  # other names, or reached through a symlink: the image store copies it


@dataclass(frozen=True)
class Rejected:
    """A file that will never be accepted, and why."""

    path: Path
    reason: str
    detail: str


@dataclass(frozen=True)
class Deferred:
    """A file that may still be changing: look again later."""

    path: Path
    detail: str


Verdict = Accepted | Rejected | Deferred


def inspect_file(
    path: Path, root: Path, rules: IngestRules, *, now: float | None = None
) -> Verdict:
    """Judge ``path`` (inside the watched folder ``root``) against ``rules``."""
    return read_and_inspect(path, root, rules, now=now)[0]


def read_and_inspect(
    path: Path, root: Path, rules: IngestRules, *, now: float | None = None
) -> tuple[Verdict, bytes]:
    """:func:`inspect_file`, and the bytes it judged (empty unless accepted): one read."""
    early = _check_path(path, root, rules)
    if not isinstance(early, bool):
        return early, b""
    faults.reach(faults.CHECK_STARTED)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return Deferred(path, "vanished"), b""
    except OSError as error:
        return Rejected(path, UNREADABLE, f"cannot open: {error.strerror}"), b""
    try:
        before = os.fstat(descriptor)
        if not stat.S_ISREG(before.st_mode):  # swapped for something else since checked
            kind = _kind(before.st_mode)
            return Rejected(path, NOT_A_FILE, f"{kind}, not a regular file"), b""
        # one byte more than the size says: a file that grows meanwhile shows it
        data = _read(descriptor, min(before.st_size, rules.max_bytes) + 1)
        after = os.fstat(descriptor)
    except OSError as error:
        return Rejected(path, UNREADABLE, f"cannot read: {error.strerror}"), b""
    finally:
        os.close(descriptor)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        return Deferred(path, "changed while being read"), b""
    if len(data) > rules.max_bytes:
        return Rejected(path, TOO_LARGE, f"larger than {rules.max_bytes} bytes"), b""
    shared = early or after.st_nlink > 1
    verdict = _decode(path, data, rules, FileIdentity.of(after), shared)
    if isinstance(verdict, Accepted):
        return verdict, data
    if verdict.reason in _CONTENT_REASONS:
        quiet_for = (time.time() if now is None else now) - after.st_mtime
        if quiet_for < rules.grace_s:
            return Deferred(path, f"{verdict.detail} (modified {quiet_for:.1f}s ago)"), b""
    return verdict, b""


def _check_path(path: Path, root: Path, rules: IngestRules) -> Rejected | Deferred | bool:
    """A verdict reached from the name alone, else whether ``path`` is a symlink."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Deferred(path, "vanished")
    symlink = stat.S_ISLNK(info.st_mode)
    if symlink:
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(root.resolve()):
            return Rejected(path, SYMLINK_OUTSIDE, "symlink points outside the watched folder")
        try:
            info = os.stat(path)
        except OSError as error:  # no target, or a loop of links
            return Rejected(path, BROKEN_SYMLINK, f"symlink target unusable: {error.strerror}")
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            return Rejected(path, NOT_A_FILE, f"symlink to {kind}, not to a regular file")
    elif not stat.S_ISREG(info.st_mode):
        return Rejected(path, NOT_A_FILE, f"{_kind(info.st_mode)}, not a regular file")
    if path.suffix.lower() not in rules.suffixes:
        allowed = ", ".join(sorted(rules.suffixes))
        return Rejected(path, SUFFIX, f"suffix {path.suffix!r} not allowed ({allowed})")
    return symlink


def _read(descriptor: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of an open file, until its end."""
    parts, left = [], limit
    while left > 0 and (part := os.read(descriptor, left)):
        parts.append(part)
        left -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    kinds = [
        (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    ]  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "a special file")


def _decode(
    path: Path, data: bytes, rules: IngestRules, identity: FileIdentity, shared: bool
) -> Accepted | Rejected:
    if not data:
        return Rejected(path, EMPTY, "empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format, image.size
            if image_format not in rules.formats:
                allowed = ", ".join(rules.formats)
                return Rejected(path, FORMAT, f"format {image_format} not allowed ({allowed})")
            if width * height > rules.max_pixels:
                return Rejected(
                    path, PIXELS, f"{width}x{height} is more than {rules.max_pixels} pixels"
                )
            # a full decode (JPEG at 1/8 scale: every coefficient is still read) finds
            # truncated and corrupt data
            image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except Image.DecompressionBombError as error:
        return Rejected(path, PIXELS, f"decompression bomb: {error}")
    except UnidentifiedImageError:
        return Rejected(path, NOT_AN_IMAGE, "not a decodable image")
    except _DECODE_ERRORS as error:
        return Rejected(path, CORRUPT, f"cannot decode ({type(error).__name__}: {error})")
    digest = hashlib.sha256(data).hexdigest()
    suffix = FORMAT_SUFFIXES[str(image_format)]
    return Accepted(path, digest, suffix, width, height, identity, shared)
