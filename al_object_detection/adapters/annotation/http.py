"""JSON over HTTP with bounded retries, shared by the annotation-server adapters.

Connection failures, timeouts, 429 and 5xx answers are retried with exponential backoff and full
jitter, then raised as :class:`AnnotationServerUnavailable`. A 401 signs in again once (an expired
session or token); a 401 after that and a 403 are :class:`AnnotationCredentialsError`, other
4xx answers :class:`AnnotationConfigError`. Requests that are not
safe to repeat (``idempotent=False``) are sent once. Sleep and randomness are injectable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationCredentialsError,
    AnnotationServerUnavailable,
)

log = structlog.get_logger()

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is tried."""

    attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    timeout_s: float = 30.0

    def delay(self, attempt: int, uniform: Callable[[], float]) -> float:
        """Full-jitter backoff before try ``attempt + 1``."""
        return uniform() * min(self.max_delay_s, self.base_delay_s * float(2 ** (attempt - 1)))


class HttpClient:
    """A requests session bound to one server, with retries and re-authentication."""

    def __init__(
        self,
        base_url: str,
        retry: RetryPolicy,
        *,
        authenticate: Callable[[HttpClient], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.session = requests.Session()
        self._authenticate = authenticate
        self._authenticated = authenticate is None
        self._sleep = sleep
        self._uniform = uniform

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        allow: tuple[int, ...] = (),
        authenticated: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Send one request; returns the response (2xx/3xx, or a status listed in ``allow``)."""
        import requests

        if authenticated and not self._authenticated:
            self.sign_in()
        attempts = self.retry.attempts if idempotent else 1
        signed_in_again = not authenticated
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, self.base_url + path, timeout=self.retry.timeout_s, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                failure = f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if status == 401 and not signed_in_again:
                    log.info("annotation_server_sign_in_again", server=self.base_url, path=path)
                    signed_in_again = True
                    self.sign_in()
                    continue
                if status < 400 or status in allow:
                    return response
                if status in (401, 403):
                    raise AnnotationCredentialsError(
                        f"{method} {self.base_url}{path} was refused with HTTP {status}: "
                        f"{response.text[:300]}"
                    )
                if status not in _TRANSIENT_STATUS:
                    raise AnnotationConfigError(
                        f"{method} {self.base_url}{path} was refused with HTTP {status}: "
                        f"{response.text[:300]}"
                    )
                failure = f"HTTP {status}"
            attempt += 1
            if attempt >= attempts:
                raise AnnotationServerUnavailable(
                    f"{method} {self.base_url}{path} failed {attempt} time(s); last: {failure}"
                )
            delay = self.retry.delay(attempt, self._uniform)
            log.warning(
                "annotation_server_retry",
                server=self.base_url,
                method=method,
                path=path,
                attempt=attempt,
                delay_s=round(delay, 3),
                error=failure,
            )
            self._sleep(delay)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body (None when it has none)."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise AnnotationServerUnavailable(
                f"{method} {self.base_url}{path} answered HTTP {response.status_code} "
                f"with a body that is not JSON: {response.text[:200]!r}"
            ) from error

    def pages(
        self, path: str, params: Mapping[str, Any], page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every result of a ``count/next/results`` list, asking for page 1, 2, ... in turn."""
        page = 1
        while True:
            body = self.json("GET", path, params={**params, "page": page, "page_size": page_size})
            yield from body["results"]
            if not body.get("next"):
                return
            page += 1

    def sign_in(self) -> None:
        """Run the server's sign-in (again); a refusal is a configuration error."""
        if self._authenticate is not None:
            self._authenticate(self)
        self._authenticated = True
