"""Secrets for the annotation servers: environment, systemd credentials, then a ``.env`` file.

A value is looked up under each of its names in turn, first in the environment, then as a file
``$CREDENTIALS_DIRECTORY/<name>`` (systemd's ``LoadCredential=``), then in the ``.env`` file.
Nothing here prompts: a missing value is ``None`` and the caller fails with a clear message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SecretSource:
    """Where secrets are read from, in priority order."""

    environ: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds secrets
    credentials_dir: Path | None = None
    dotenv: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def default(
        cls, dotenv: Path | str | None = ".env", environ: Mapping[str, str] | None = None
    ) -> SecretSource:
        """The process environment, its systemd credentials and ``dotenv`` (when it exists)."""
        env = dict(os.environ if environ is None else environ)
        credentials = env.get("CREDENTIALS_DIRECTORY")
        dotenv_path = Path(dotenv) if dotenv is not None else None
        values = (
            parse_dotenv(dotenv_path.read_text(encoding="utf-8"))
            if dotenv_path is not None and dotenv_path.is_file()
            else {}
        )
        return cls(env, Path(credentials) if credentials else None, values)

    def get(self, *names: str) -> str | None:
        """The first non-empty value found under any of ``names``."""
        for name in names:
            value = self.environ.get(name) or self._credential(name) or self.dotenv.get(name)
            if value:
                return value
        return None

    def describe(self) -> str:
        """Where values were looked for, for error messages."""
        places = ["the environment"]
        if self.credentials_dir is not None:
            places.append(f"systemd credentials in {self.credentials_dir}")
        places.append("a .env file" + ("" if self.dotenv else " (none found)"))
        return ", ".join(places)

    def _credential(self, name: str) -> str | None:
        if self.credentials_dir is None:
            return None
        path = self.credentials_dir / name
        return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=value`` lines; ``export``, quotes, blank lines and ``#`` comments are handled."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")


def without_userinfo(url: str) -> str:
    """``url`` without its ``user:password@`` part (a link to show, not to sign in with)."""
    return _USERINFO.sub("", url, count=1)


def page_links(server: str | None, pages: list[str]) -> list[str]:
    """Links to a server's ``pages`` (relative ones when the server is unknown), no userinfo."""
    url = without_userinfo(server or "").rstrip("/")
    return [f"{url}/{page}" if url else page for page in pages]
