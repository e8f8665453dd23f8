"""The quarantine folder: each rejected file, moved aside, with a reason file next to it."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REASON_SUFFIX = ".reason.json"
_MAX_NAME_BYTES = 180  # leaves room for the time stamp, a counter and the reason suffix


class Quarantine:
    """Moves (or copies) rejected files into one folder and says why in ``<name>.reason.json``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, path: Path, root: Path, reason: str, detail: str, *, keep: bool = False) -> Path:
        """Quarantine ``path`` (dropped under ``root``); the reason file is written first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._free_name(path, root)
        record = {
            "reason": reason,
            "detail": detail,
            "original": str(path),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        reason_file = target.with_name(target.name + REASON_SUFFIX)
        partial = reason_file.with_name("." + reason_file.name + ".partial")
        partial.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, reason_file)
        try:
            if keep:
                shutil.copy2(path, target, follow_symlinks=False)
            else:
                shutil.move(path, target)
        except OSError:
            reason_file.unlink(missing_ok=True)
            raise
        return target

    def reasons(self) -> Counter[str]:
        """How many files are quarantined, by reason."""
        counts: Counter[str] = Counter()
        if not self.folder.is_dir():
            return counts
        for entry in self.folder.iterdir():
            if entry.name.endswith(REASON_SUFFIX):
                try:
                    counts[json.loads(entry.read_text(encoding="utf-8"))["reason"]] += 1
                except (OSError, ValueError, KeyError, TypeError):
                    counts["unknown"] += 1
        return counts

    def _free_name(self, path: Path, root: Path) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            parts = (path.name,)
        name = _clip("__".join(parts))
        target = self.folder / f"{stamp}_{name}"
        counter = 1
        while target.exists() or target.is_symlink():
            target = self.folder / f"{stamp}_{counter}_{name}"
            counter += 1
        return target


def _clip(name: str) -> str:
    """Keep the end of a long name (its suffix) within the file system's name limit."""
    encoded = os.fsencode(name)
    if len(encoded) <= _MAX_NAME_BYTES:
        return name
    tail = encoded[-_MAX_NAME_BYTES:]
    while tail and tail[0] & 0xC0 == 0x80:  # never start inside a multi-byte character
        tail = tail[1:]
    return os.fsdecode(tail)
