"""Loaded at start-up by every Python process of a kill campaign (it is put on PYTHONPATH).

Only when ``ALOD_CAMPAIGN_LEDGER`` is set. Then the daemon and its worker report the fault
points of :mod:`fault_points` (``step:<round>:<state>`` before each engine step,
``submitted:<round>``, ``imported:<round>``, ``trained:<round>`` right after those side effects,
before the engine records them), so the campaign can kill the daemon at a chosen one. The
ledger gets a line for every ``submit`` call and for every recorded annotation batch; the oracle
answers with no boxes for images it has no hidden labels for (images dropped during the
campaign).
"""

from __future__ import annotations

import os
import sys

if os.environ.get("ALOD_CAMPAIGN_LEDGER"):
    import json
    from pathlib import Path
    from typing import Any

    sys.path.append(os.environ["ALOD_CAMPAIGN_SUPPORT"])
    from fault_points import reached

    from al_object_detection.adapters.annotation import oracle
    from al_object_detection.adapters.dataset import store as fiftyone_store
    from al_object_detection.adapters.detection import yolo as ultralytics_detector
    from al_object_detection.states import engine, store

    _LEDGER = Path(os.environ["ALOD_CAMPAIGN_LEDGER"])
    _submit, _step = oracle.OracleAnnotator.submit, engine.Engine.step
    _intent, _complete_intent = store.RoundStore.intent, store.RoundStore.complete_intent
    _batches: set[str] = set()  # this process's annotation intents
    _set_labels = fiftyone_store.FiftyOneStore.set_labels
    _train = ultralytics_detector.YOLOv8_ALObjectDetector.train

    def _note(event: str, key: str) -> None:
        with _LEDGER.open("a") as ledger:
            ledger.write(json.dumps({"event": event, "key": key, "pid": os.getpid()}) + "\n")

    def _ledger_submit(self: Any, key: str, sample_ids: Any, prelabels: Any) -> str:
        _note("submit", key)
        handle = str(_submit(self, key, sample_ids, prelabels))
        reached(f"submitted:{key.rsplit('-r', 1)[1].split('-')[0]}")
        return handle

    def _noted_intent(self: Any, key: str, **details: Any) -> Any:
        if details["kind"] == "annotate":
            _batches.add(key)
        return _intent(self, key, **details)

    def _noted_complete_intent(self: Any, key: str, result: Any) -> None:
        _complete_intent(self, key, result)
        if key in _batches:
            _note("recorded", key)

    def _lenient_fetch(self: Any, handle: str) -> dict[str, Any]:
        labels = self.store.hidden_labels(json.loads(handle)["sample_ids"])
        empty = fiftyone_store.import_fiftyone().Detections()
        return {i: empty.copy() if v is None else v for i, v in labels.items()}

    def _step_at_boundary(self: Any) -> Any:
        current = self.store.current()
        reached("step:none" if current is None else f"step:{current.round}:{current.state}")
        return _step(self)

    def _set_labels_then_report(self: Any, labels: Any, *, round_index: int) -> None:
        _set_labels(self, labels, round_index=round_index)
        reached(f"imported:{round_index}")

    def _train_then_report(self: Any, data_yaml: Any, *, round_index: int) -> Any:
        trained = _train(self, data_yaml, round_index=round_index)
        reached(f"trained:{round_index}")
        return trained

    oracle.OracleAnnotator.submit = _ledger_submit  # type: ignore[method-assign]
    oracle.OracleAnnotator.fetch = _lenient_fetch  # type: ignore[method-assign]
    store.RoundStore.intent = _noted_intent  # type: ignore[method-assign]
    store.RoundStore.complete_intent = _noted_complete_intent  # type: ignore[method-assign]
    engine.Engine.step = _step_at_boundary  # type: ignore[method-assign]
    fiftyone_store.FiftyOneStore.set_labels = _set_labels_then_report  # type: ignore[method-assign]
    ultralytics_detector.YOLOv8_ALObjectDetector.train = _train_then_report  # type: ignore[method-assign]
