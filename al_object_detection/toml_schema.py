"""Declared TOML sections: each key's type, default and allowed values, checked in one place.

A config module declares its sections as :class:`Table` values of :class:`Key` values; ``check``
rejects unknown sections and keys (with "did you mean"), missing required keys, wrong types
and values out of range, each with one message naming the file, the section and the key.
TOML booleans are never numbers; an integer is accepted where a float is (and becomes one).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The default of a key that must be given.
REQUIRED: Any = object()
#: The default of a key that is left out of the values when it is not given.
OPTIONAL: Any = object()

_TYPE_NAMES = {
    str: "a string", int: "an integer", float: "a number", bool: "true or false",
    dict: "a table", list: "a list",
}  # fmt: skip


@dataclass(frozen=True)
class Key:
    """One key: its types (none: any), default, and allowed values or range."""

    types: type | tuple[type, ...] = ()
    default: Any = REQUIRED
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    def type_tuple(self) -> tuple[type, ...]:
        """The accepted types, as a tuple."""
        return self.types if isinstance(self.types, tuple) else (self.types,)


ANY = Key(default=OPTIONAL)  # any value, or none: another part checks it (or ultralytics does)


@dataclass(frozen=True)
class Table:
    """A section's keys; ``array``: an array of such tables (``[[name]]``)."""

    keys: Mapping[str, Key] = field(default_factory=dict)
    array: bool = False
    allowed: str = ""  # how to name the allowed keys instead of listing them


def check(
    raw: Mapping[str, Any],
    tables: Mapping[str, Table],
    *,
    source: str,
    error: type[ValueError],
    others: Collection[str] = (),
) -> dict[str, Any]:
    """Each section of ``tables`` validated, defaults filled in; ``others``: sections that
    another schema checks (allowed here, left out of the result)."""
    unknown(raw, [*tables, *others], f"{source}: unknown section", error)
    values: dict[str, Any] = {}
    for name, table in tables.items():
        given = raw.get(name, [] if table.array else {})
        if not table.array:
            values[name] = check_table(given, table, f"[{name}]", source=source, error=error)
            continue
        if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
            raise error(f"{source}: {name} must be an array of tables ([[{name}]])")
        values[name] = [
            check_table(item, table, f"[[{name}]] #{i + 1}", source=source, error=error)
            for i, item in enumerate(given)
        ]
    return values


def check_table(
    given: Any, table: Table, where: str, *, source: str, error: type[ValueError]
) -> dict[str, Any]:
    """One table's values, defaults filled in; ``where`` names it in messages (``[predict]``)."""
    if not isinstance(given, dict):
        raise error(f"{source}: {where} must be a table")
    unknown(given, table.keys, f"{source}: unknown key in {where}", error, allowed=table.allowed)
    values = {}
    for name, key in table.keys.items():
        if name not in given:
            if key.default is REQUIRED:
                raise error(f"{source}: {where} {name} is required")
            if key.default is not OPTIONAL:
                values[name] = key.default
            continue
        values[name] = _checked(given[name], key, f"{source}: {where} {name}", error)
    return values


def unknown(
    given: Mapping[str, Any],
    known: Collection[str],
    prefix: str,
    error: type[ValueError],
    *,
    allowed: str = "",
) -> None:
    """Raise ``error`` for the first key of ``given`` not in ``known``, naming the closest
    ones and what is allowed (``allowed``, or the list of ``known``)."""
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise error(f"{prefix} {name!r}{hint}; allowed: {allowed or ', '.join(known)}")


def _checked(value: Any, key: Key, where: str, error: type[ValueError]) -> Any:
    types = key.type_tuple()
    if types:
        accepted = (*types, int) if float in types else types
        if isinstance(value, bool) != (bool in types) or not isinstance(value, accepted):
            named = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
            raise error(f"{where} = {value!r} must be {named}")
    if key.choices and value not in key.choices:
        raise error(f"{where} = {value!r}; allowed: {', '.join(map(str, key.choices))}")
    if key.low is not None and key.high is not None and not key.low <= value <= key.high:
        raise error(f"{where} = {value!r} must lie in [{key.low}, {key.high}]")
    if key.low is not None and value < key.low:
        raise error(f"{where} = {value!r} must be >= {key.low}")
    if key.high is not None and value > key.high:
        raise error(f"{where} = {value!r} must be <= {key.high}")
    return float(value) if float in types and isinstance(value, int) else value
