"""Read and write the class names of an ultralytics-style ``data.yaml``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


def format_data_yaml(classes: Sequence[str], splits: dict[str, str]) -> str:
    """Text of a data.yaml for ultralytics: split folders (relative to the file) and names."""
    document: dict[str, Any] = dict(splits)
    document["nc"] = len(classes)
    document["names"] = dict(enumerate(classes))
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def parse_names(text: str) -> tuple[str, ...]:
    """Class names from data.yaml text; ValueError describing the problem if malformed."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {error}") from None
    if not isinstance(document, dict) or "names" not in document:
        raise ValueError("no top-level 'names:' key")
    names = _names(document["names"])
    if not names:
        raise ValueError("'names' is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"'names' has duplicates: {names}")
    nc = document.get("nc")
    if nc is not None and nc != len(names):
        raise ValueError(f"'nc: {nc}' does not match {len(names)} names")
    return names


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(name) for name in value)
    if isinstance(value, dict):
        if not all(isinstance(key, int) for key in value):
            raise ValueError(f"'names' mapping keys must be class ids 0..n-1, got {list(value)}")
        if sorted(value) != list(range(len(value))):
            raise ValueError(f"'names' ids {sorted(value)} are not 0..{len(value) - 1}")
        return tuple(str(value[key]) for key in range(len(value)))
    raise ValueError(f"'names' must be a list or an {{id: name}} mapping, got {value!r}")
