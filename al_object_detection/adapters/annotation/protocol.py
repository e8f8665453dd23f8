"""The annotation-server contract every backend (CVAT, Label Studio, the oracle) follows.

``submit`` sends a batch of samples with pre-labels and returns a handle, ``poll`` reports
progress, ``fetch`` returns the finished labels keyed by sample id. A handle is a plain string
(JSON) that the engine persists: a backend must be able to poll and fetch from it in a new
process, after a crash. ``submit`` with the same ``key`` must never create a second batch on
the server (look the key up before creating), so a crash between "created" and "recorded" is
harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

_S = TypeVar("_S")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class AnnotationError(RuntimeError):
    """An annotation backend failed."""


class AnnotationServerUnavailable(AnnotationError):
    """Transient: the server did not answer (down, overloaded, too slow); try again later."""


class AnnotationNotReady(AnnotationError):
    """Transient: the batch is not finished (e.g. a job was reopened); keep polling."""


class AnnotationConfigError(AnnotationError):
    """Permanent: bad credentials or settings, or the batch is gone from the server."""


class AnnotationCredentialsError(AnnotationConfigError):
    """The server refused who we are (sign-in refused, 401 after signing in again, 403).

    Not a failure of the round: an operator fixes the credentials and the round resumes.
    """


def reconnect_after_refusal(
    method: Callable[Concatenate[_S, _P], _R],
) -> Callable[Concatenate[_S, _P], _R]:
    """Refused credentials drop an annotator's connection (its ``_connected``): the next call
    reads the settings again and signs in anew, so a fixed ``.env`` needs no restart."""

    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except AnnotationCredentialsError:
            self._connected = None  # type: ignore[attr-defined]
            raise

    wrapper.__doc__ = method.__doc__
    return wrapper


@dataclass(frozen=True)
class AnnotationProgress:
    """How far the humans are with one submitted batch."""

    completed: int
    total: int

    @property
    def done(self) -> bool:
        return self.completed >= self.total


class Annotator(Protocol):
    """An annotation backend."""

    def submit(self, key: str, sample_ids: Sequence[str], prelabels: Mapping[str, Any]) -> str:
        """Send samples with pre-labels (FiftyOne ``Detections`` or None, by sample id).

        ``key`` is deterministic (project, round, attempt); the same key gives the same handle.
        """
        ...

    def poll(self, handle: str) -> AnnotationProgress:
        """Progress of a submitted batch."""
        ...

    def fetch(self, handle: str) -> dict[str, Any]:
        """Finished labels (FiftyOne ``Detections``) keyed by sample id."""
        ...
