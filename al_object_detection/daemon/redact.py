"""Secrets never reach the log: a structlog processor that masks them.

Masked: values under secret-looking keys (``password``, ``token``, ``api_key``, ...), the
user info of URLs (``https://user:secret@host``), and every known secret value wherever it
appears (the environment's secret-looking variables and systemd credential files).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

MASK = "***"
SECRET_NAME = re.compile(
    r"(^|[_.-])(pass(word|wd)?|secret|token|api[_-]?key|authori[sz]ation|credentials?|cookie)"
    r"($|[_.-])",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@:]+:[^/\s@]+@")
_MIN_SECRET_LEN = 4

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def secret_values(environ: Mapping[str, str] | None = None) -> set[str]:
    """Known secrets: secret-looking variables and the files in ``$CREDENTIALS_DIRECTORY``."""
    env = os.environ if environ is None else environ
    credentials = env.get("CREDENTIALS_DIRECTORY")  # a folder, not a secret
    found = {v for k, v in env.items() if SECRET_NAME.search(k) and k != "CREDENTIALS_DIRECTORY"}
    if credentials and Path(credentials).is_dir():
        for path in Path(credentials).iterdir():
            try:
                found.add(path.read_text(encoding="utf-8").strip())
            except (OSError, UnicodeDecodeError):
                continue
    return {value for value in found if len(value) >= _MIN_SECRET_LEN}


def redactor(secrets: Iterable[str]) -> Processor:
    """A processor that masks secrets in every value of an event."""
    known = sorted(set(secrets), key=len, reverse=True)  # longest first: no partial leftovers

    def clean(key: str, value: Any) -> Any:
        if SECRET_NAME.search(key) and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            text = _URL_USERINFO.sub(f"{MASK}@", value)
            for secret in known:
                if secret in text:
                    text = text.replace(secret, MASK)
            return text
        if isinstance(value, Mapping):
            return {k: clean(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(key, item) for item in value]
        return value

    def redact(
        logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            event[key] = clean(key, event[key])
        return event

    return redact
