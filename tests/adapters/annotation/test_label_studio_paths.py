"""Label Studio can only show images below its document root: checked before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_object_detection.adapters.annotation.http import RetryPolicy
from al_object_detection.adapters.annotation.label_studio.annotator import (
    LabelStudioAnnotator,
    LabelStudioSettings,
)
from al_object_detection.adapters.annotation.protocol import AnnotationConfigError
from al_object_detection.adapters.dataset.store import FiftyOneStore

from .conftest import VirtualTime

pytestmark = pytest.mark.integration


def annotator(store: FiftyOneStore, root: Path, time: VirtualTime) -> LabelStudioAnnotator:
    settings = LabelStudioSettings(
        url="http://127.0.0.1:9", api_key="k", document_root=root, retry=RetryPolicy()
    )
    return LabelStudioAnnotator(store, settings, sleep=time.sleep)


def test_images_outside_the_document_root_are_refused(
    store: FiftyOneStore, tmp_path: Path, virtual_time: VirtualTime
) -> None:
    with pytest.raises(AnnotationConfigError, match="not under Label Studio's document root"):
        annotator(store, tmp_path, virtual_time).submit("k", store.ids("pool")[:1], {})
    assert virtual_time.sleeps == []


def test_images_in_the_document_root_itself_are_refused(
    store: FiftyOneStore, virtual_time: VirtualTime
) -> None:
    (sample_id,) = store.ids("pool")[:1]
    root = Path(store.filepaths([sample_id])[0]).parent
    with pytest.raises(AnnotationConfigError, match="subfolders"):
        annotator(store, root, virtual_time).submit("k", [sample_id], {})
