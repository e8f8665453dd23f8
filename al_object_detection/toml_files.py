"""Reading a TOML config file with errors that name the file."""

from __future__ import annotations

import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any


def read_toml(
    path: Path | str | None,
    *,
    default: Traversable | None = None,
    error: type[ValueError] = ValueError,
) -> tuple[dict[str, Any], str]:
    """The parsed file and how to name it in messages; ``path=None`` reads ``default``."""
    if path is None and default is None:
        raise error("no config file given")
    source = (
        str(path) if path is not None else f"{getattr(default, 'name', 'config')} (shipped default)"
    )
    try:
        text = Path(path).read_text() if path is not None else default.read_text()  # type: ignore[union-attr]
    except OSError as exc:
        raise error(f"{source}: cannot read the config file ({exc.strerror})") from exc
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from exc
