"""The shared HTTP client: which failures are retried, how long it waits, what it raises."""

from __future__ import annotations

import subprocess
import sys

import pytest

from al_object_detection.adapters.annotation.http import HttpClient, RetryPolicy
from al_object_detection.adapters.annotation.protocol import (
    AnnotationConfigError,
    AnnotationServerUnavailable,
)

from .conftest import VirtualTime
from .fake_cvat import FakeCvat


def client(fake: FakeCvat, time: VirtualTime, uniform: float = 1.0) -> HttpClient:
    retry = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=3.0, timeout_s=2.0)
    return HttpClient(fake.url, retry, sleep=time.sleep, uniform=lambda: uniform)


def test_backoff_is_jittered_doubling_and_capped(
    fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    fake_cvat.stop()
    with pytest.raises(AnnotationServerUnavailable, match="failed 5 time"):
        client(fake_cvat, virtual_time, uniform=0.5).request("GET", "/api/server/about")
    assert virtual_time.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_a_request_that_is_not_safe_to_repeat_is_sent_once(
    fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    fake_cvat.inject("POST", "/api/tasks", status=503, times=5)
    with pytest.raises(AnnotationServerUnavailable, match="HTTP 503"):
        client(fake_cvat, virtual_time).request("POST", "/api/tasks", json={}, idempotent=False)
    assert fake_cvat.count("POST", "/api/tasks") == 1
    assert virtual_time.sleeps == []


def test_a_refusal_is_a_config_error_with_the_server_s_reason(
    fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    with pytest.raises(AnnotationConfigError, match=r"HTTP 401.*credentials were not provided"):
        client(fake_cvat, virtual_time).request("GET", "/api/tasks")
    assert virtual_time.sleeps == []


def test_a_body_that_is_not_json_is_transient(
    fake_cvat: FakeCvat, virtual_time: VirtualTime
) -> None:
    fake_cvat.inject("GET", "/api/server/about", status=200)
    with pytest.raises(AnnotationServerUnavailable, match="not JSON"):
        client(fake_cvat, virtual_time).json("GET", "/api/server/about")


def test_importing_the_adapters_loads_no_heavy_library() -> None:
    code = (
        "import sys, al_object_detection.adapters.annotation.cvat.annotator;"
        "import al_object_detection.adapters.annotation.label_studio.annotator;"
        "print(sorted({'requests', 'fiftyone', 'numpy', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
