"""The TOML schema helper: one message per mistake, naming the file, the section and the key."""

from __future__ import annotations

from typing import Any

import pytest

from al_object_detection.toml_schema import ANY, Key, Table, check

TABLES = {
    "run": Table({
        "name": Key(str),
        "rate": Key(float, 0.5, low=0, high=1),
        "count": Key(int, 3, low=1),
        "mode": Key(str, "fast", choices=("fast", "slow")),
        "strict": Key(bool, False),
    }),
    "extra": Table({"anything": ANY, "other": ANY}, allowed="see the manual"),
    "item": Table({"label": Key(str), "size": Key(int, 1)}, array=True),
}  # fmt: skip


class SchemaError(ValueError):
    pass


def validated(raw: dict[str, Any]) -> dict[str, Any]:
    return check(raw, TABLES, source="job.toml", error=SchemaError, others=["later"])


def test_defaults_fill_in_and_integers_count_as_numbers() -> None:
    values = validated({"run": {"name": "a", "rate": 1}, "later": {"not": "checked here"}})
    assert values["run"] == {"name": "a", "rate": 1.0, "count": 3, "mode": "fast", "strict": False}
    assert isinstance(values["run"]["rate"], float)
    assert values["extra"] == {}
    assert validated({"run": {"name": "a"}, "extra": {"other": [1]}})["extra"] == {"other": [1]}
    assert values["item"] == []
    assert "later" not in values


def test_an_array_of_tables_is_checked_item_by_item() -> None:
    values = validated({"run": {"name": "a"}, "item": [{"label": "x"}, {"label": "y", "size": 2}]})
    assert values["item"] == [{"label": "x", "size": 1}, {"label": "y", "size": 2}]
    with pytest.raises(SchemaError, match=r"^job.toml: \[\[item\]\] #2 label is required$"):
        validated({"run": {"name": "a"}, "item": [{"label": "x"}, {"size": 2}]})
    with pytest.raises(SchemaError, match=r"item must be an array of tables \(\[\[item\]\]\)"):
        validated({"run": {"name": "a"}, "item": {"label": "x"}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"rnu": {}},
            r"job.toml: unknown section 'rnu' \(did you mean 'run'\?\); allowed: run, extra, "
            r"item, later",
        ),
        (
            {"run": {"name": "a", "conut": 2}},
            r"job.toml: unknown key in \[run\] 'conut' \(did you mean 'count'\?\); allowed: "
            r"name, rate, count, mode, strict",
        ),
        ({"run": {"name": "a"}, "extra": {"x": 1}}, r"\[extra\] 'x'; allowed: see the manual$"),
        ({"run": {}}, r"job.toml: \[run\] name is required"),
        ({"run": []}, r"job.toml: \[run\] must be a table"),
        ({"run": {"name": 3}}, r"job.toml: \[run\] name = 3 must be a string"),
        ({"run": {"name": "a", "count": True}}, r"\[run\] count = True must be an integer"),
        ({"run": {"name": "a", "count": 2.5}}, r"\[run\] count = 2.5 must be an integer"),
        ({"run": {"name": "a", "rate": True}}, r"\[run\] rate = True must be a number"),
        ({"run": {"name": "a", "strict": 1}}, r"\[run\] strict = 1 must be true or false"),
        ({"run": {"name": "a", "mode": "warp"}}, r"\[run\] mode = 'warp'; allowed: fast, slow"),
        ({"run": {"name": "a", "rate": 2}}, r"\[run\] rate = 2 must lie in \[0, 1\]"),
        ({"run": {"name": "a", "count": 0}}, r"\[run\] count = 0 must be >= 1"),
    ],
)
def test_each_mistake_gets_one_message(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        validated(raw)
