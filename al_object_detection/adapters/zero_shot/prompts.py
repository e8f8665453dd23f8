"""Resolve the detector's classes and each class's text prompts from the config."""

from __future__ import annotations

from collections.abc import Sequence

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.zero_shot.config import Owl2Config


def resolve_classes(config: Owl2Config, classes: Sequence[str] | None) -> tuple[str, ...]:
    """The given classes (the dataset's), else the config's; every name checked."""
    names = tuple(classes) if classes is not None else config.classes.names
    where = "the given classes" if classes is not None else f"{config.source}: [classes] names"
    if not names:
        raise ConfigError(
            f"{config.source}: no class names: set [classes] names, or pass the dataset's classes"
        )
    if any(not isinstance(n, str) or not n.strip() for n in names):
        raise ConfigError(f"{where}: every class name must be a non-empty string, got {names!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate class names in {list(names)}")
    queries = config.classes
    for table, keys in (
        ("[classes.synonyms]", queries.synonyms),
        ("[classes.prompts]", queries.prompts),
        ("[[examples]] class", [e.class_name for e in config.examples]),
    ):
        for key in keys:
            if key not in names:
                raise ConfigError(
                    f"{config.source}: {table} {key!r} is not a class (allowed: {', '.join(names)})"
                )
    return names


def class_prompts(config: Owl2Config, classes: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Each class's prompts: every template with its name and synonyms, then literal prompts."""
    queries = config.classes
    example_classes = {e.class_name for e in config.examples}
    prompts = []
    for name in classes:
        names = (name, *queries.synonyms.get(name, ()))
        filled = [t.replace("{}", n) for t in queries.templates for n in names]
        own = tuple(dict.fromkeys([*filled, *queries.prompts.get(name, ())]))
        if not own and name not in example_classes:
            raise ConfigError(
                f"{config.source}: class {name!r} has no query: [classes] templates is empty and "
                "it has no [classes.prompts] entry and no [[examples]] box"
            )
        prompts.append(own)
    return tuple(prompts)
