"""The annotation backends by name: alod.toml's spelling (``oracle``, ``cvat``, ``labelstudio``)
is the one name everywhere: the config, the stored recipe and the stored batch handles.

State files of earlier versions named a backend by its annotator class (``CvatAnnotator``) or
as ``label_studio``; :func:`canonical_backend` reads those, at the boundary where a stored name
comes back in. Anything else is refused, naming the backends there are.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.annotation.credentials import SecretSource
from al_object_detection.adapters.annotation.protocol import AnnotationConfigError, Annotator

if TYPE_CHECKING:
    from al_object_detection.adapters.dataset.store import FiftyOneStore


class UnknownBackendError(ValueError):
    """A backend name that is none of the backends."""


@dataclass(frozen=True)
class Backend:
    """One annotation backend: where its annotator class lives and how it is configured."""

    name: str
    module: str
    class_name: str
    from_env: bool  # a server, configured from the environment (the oracle needs none)
    credentials: tuple[str, ...] = ()  # what a service unit loads ($CREDENTIALS_DIRECTORY/<name>)

    def build(self, store: FiftyOneStore, options: Mapping[str, Any] | None = None) -> Annotator:
        """The backend's annotator for ``store``; a server's settings come from the environment
        (see its ``from_env``) and ``options`` (``[annotation]`` in alod.toml)."""
        annotator_class = getattr(importlib.import_module(self.module), self.class_name)
        if not self.from_env:
            return annotator_class(store)  # type: ignore[no-any-return]
        return annotator_class.from_env(store, **(options or {}))  # type: ignore[no-any-return]

    def made(self, annotator: object) -> bool:
        """Whether ``annotator`` is this backend's own class (a subclass is a custom one)."""
        kind = type(annotator)
        return (kind.__module__, kind.__qualname__) == (self.module, self.class_name)

    def links(self, handle: str, source: SecretSource) -> list[str]:
        """Links to a stored batch's pages; AnnotationConfigError if the batch is not ours."""
        if not self.from_env:
            raise AnnotationConfigError(f"the {self.name} backend has no pages")
        module = importlib.import_module(self.module)
        batch_links: Callable[[str, SecretSource], list[str]] = module.batch_links
        return batch_links(handle, source)


_ANNOTATION = "al_object_detection.adapters.annotation"
BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("oracle", f"{_ANNOTATION}.oracle", "OracleAnnotator", from_env=False),
        Backend(
            "cvat",
            f"{_ANNOTATION}.cvat.annotator",
            "CvatAnnotator",
            from_env=True,
            credentials=("FIFTYONE_CVAT_URL", "FIFTYONE_CVAT_USERNAME", "FIFTYONE_CVAT_PASSWORD"),
        ),
        Backend(
            "labelstudio",
            f"{_ANNOTATION}.label_studio.annotator",
            "LabelStudioAnnotator",
            from_env=True,
            credentials=(
                "FIFTYONE_LABELSTUDIO_URL",
                "FIFTYONE_LABELSTUDIO_API_KEY",
                "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",  # the server's root, also required
            ),
        ),
    )
}
#: Names earlier versions stored: the annotator class in the recipe, ``label_studio`` in handles.
_FORMER_NAMES = {
    "label_studio": "labelstudio",
    **{backend.class_name: backend.name for backend in BACKENDS.values()},
}


def backend(name: str) -> Backend:
    """The backend called ``name`` (alod.toml's spelling)."""
    if name not in BACKENDS:
        raise UnknownBackendError(
            f"unknown annotation backend {name!r}; the backends are {', '.join(BACKENDS)}"
        )
    return BACKENDS[name]


def canonical_backend(stored: str) -> str:
    """A stored backend name in today's spelling (earlier versions' names translated)."""
    return backend(_FORMER_NAMES.get(stored, stored)).name


def backend_of(annotator: object) -> str | None:
    """The backend ``annotator`` belongs to; None for a custom annotator."""
    return next((b.name for b in BACKENDS.values() if b.made(annotator)), None)


def batch_links(handle: str, source: SecretSource) -> list[str]:
    """Links to the pages of a stored batch, from the backend that made it (none for the
    oracle's)."""
    for server in (b for b in BACKENDS.values() if b.from_env):
        try:
            return server.links(handle, source)
        except AnnotationConfigError:
            continue
    return []
