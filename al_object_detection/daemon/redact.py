"""Secrets never leave the process: masking for log events and for stored or shown text.

Masked: values under secret-looking keys (``password``, ``token``, ``api_key``, ...), the
user info of URLs (``https://user:secret@host``), and every known secret value wherever it
appears: the secret-looking variables of the environment and of the ``.env`` file, the files
in ``$CREDENTIALS_DIRECTORY`` (systemd credentials) and the passwords inside any URL those hold.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from al_object_detection.adapters.annotation.credentials import parse_dotenv

MASK = "***"
SECRET_NAME = re.compile(
    r"(^|[_.-])(pass(word|wd)?|secret|token|api[_-]?key|authori[sz]ation|credentials?|cookie)"
    r"($|[_.-])",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@:]+:([^/\s@]+)@")
_MIN_SECRET_LEN = 4

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


def secret_values(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> set[str]:
    """Known secrets: from the environment, ``dotenv`` and ``$CREDENTIALS_DIRECTORY``."""
    env = os.environ if environ is None else environ
    credentials = env.get("CREDENTIALS_DIRECTORY")  # a folder, not a secret
    named = {k: v for k, v in env.items() if k != "CREDENTIALS_DIRECTORY"}
    if dotenv is not None and dotenv.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            named.update(parse_dotenv(dotenv.read_text(encoding="utf-8")))
    found = {v for k, v in named.items() if SECRET_NAME.search(k)}
    if credentials and Path(credentials).is_dir():
        for path in Path(credentials).iterdir():
            try:
                found.add(path.read_text(encoding="utf-8").strip())
            except (OSError, UnicodeDecodeError):
                continue
    for value in [*named.values(), *found]:
        found.update(_URL_USERINFO.findall(value))
    return {value for value in found if len(value) >= _MIN_SECRET_LEN}


class Redactor:
    """Masks known secrets (default: :func:`secret_values` now) in texts and nested values."""

    def __init__(self, secrets: Iterable[str] | None = None) -> None:
        known = secret_values() if secrets is None else set(secrets)
        self._secrets = sorted(known, key=len, reverse=True)  # longest first: no leftovers

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def text(self, text: str) -> str:
        """``text`` with URL user info and every known secret masked."""
        text = _URL_USERINFO.sub(f"{MASK}@", text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def value(self, value: Any, key: str = "") -> Any:
        """``value`` with its texts masked, and all of it when ``key`` looks secret."""
        if SECRET_NAME.search(key) and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item, key) for item in value]
        return value


def redactor(secrets: Iterable[str]) -> Processor:
    """A structlog processor that masks secrets in every value of an event."""
    redaction = Redactor(secrets)

    def redact(
        logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            event[key] = redaction.value(event[key], key)
        return event

    return redact
