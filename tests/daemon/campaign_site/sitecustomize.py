"""Loaded at start-up by every Python process of a kill campaign (it is put on PYTHONPATH).

Only when ``ALOD_CAMPAIGN_LEDGER`` is set: the oracle records every batch it creates in that
ledger (once per key, as a server that looks a key up before creating would), answers with
no boxes for images it has no hidden labels for (images dropped during the campaign), and
the short steps take ``ALOD_CAMPAIGN_STEP_S`` so that a kill can land in every state.
"""

from __future__ import annotations

import os

if os.environ.get("ALOD_CAMPAIGN_LEDGER"):
    import json
    import time
    from pathlib import Path
    from typing import Any

    from al_object_detection.adapters import oracle
    from al_object_detection.states import engine, machine

    _LEDGER = Path(os.environ["ALOD_CAMPAIGN_LEDGER"])
    _STEP_S = float(os.environ.get("ALOD_CAMPAIGN_STEP_S", "0"))
    _submit, _step = oracle.OracleAnnotator.submit, engine.Engine.step

    def _ledger_submit(self: Any, key: str, sample_ids: Any, prelabels: Any) -> str:
        lines = _LEDGER.read_text().splitlines() if _LEDGER.exists() else []
        if key not in {json.loads(line)["key"] for line in lines}:
            entry = {"key": key, "sample_ids": list(sample_ids), "pid": os.getpid()}
            with _LEDGER.open("a") as ledger:
                ledger.write(json.dumps(entry) + "\n")
        return str(_submit(self, key, sample_ids, prelabels))

    def _lenient_fetch(self: Any, handle: str) -> dict[str, Any]:
        from al_object_detection.adapters.fiftyone_store import import_fiftyone

        labels = self.store.hidden_labels(json.loads(handle)["sample_ids"])
        empty = import_fiftyone().Detections()
        return {i: empty.copy() if v is None else v for i, v in labels.items()}

    def _slow_short_steps(self: Any) -> Any:
        current = self.store.current()
        if current is not None and current.state in (machine.PENDING, machine.ANNOTATING,
                                                     machine.COMPLETED):  # fmt: skip
            time.sleep(_STEP_S)
        return _step(self)

    oracle.OracleAnnotator.submit = _ledger_submit  # type: ignore[method-assign]
    oracle.OracleAnnotator.fetch = _lenient_fetch  # type: ignore[method-assign]
    engine.Engine.step = _slow_short_steps  # type: ignore[method-assign]
