"""The log stream: JSON lines with the bound context, third-party records, no secrets."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from al_object_detection.daemon.logstream import LogContext, Sink, configure, engine_log
from al_object_detection.daemon.prettylog import read_lines, render, render_line
from al_object_detection.daemon.redact import MASK, redactor, secret_values


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[tuple[Path, LogContext]]:
    read, write = os.pipe()
    os.set_blocking(read, False)
    context = LogContext()
    copy = tmp_path / "alod.log.jsonl"
    sink = Sink(fd=write, copy_to=copy)
    configure(sink, context=context, secrets={"s3cr3t-value"})
    yield copy, context
    sink.close()
    os.close(read)
    os.close(write)
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_line_carries_the_context_and_third_party_records_too(
    stream: tuple[Path, LogContext],
) -> None:
    copy, context = stream
    context.bind(project="trees", round=3, state="training", attempt=2)
    structlog.get_logger("alod.test").info("step done", images=4)
    logging.getLogger("fiftyone.core.dataset").warning("merged %d files", 2)
    engine_log(structlog.get_logger("alod.engine"))("round 3: picked 4 of 9\n")
    first, second, third = lines(copy)
    for line in (first, second, third):
        assert {k: line[k] for k in ("project", "round", "state", "attempt")} == {
            "project": "trees", "round": 3, "state": "training", "attempt": 2,
        }  # fmt: skip
        assert str(line["timestamp"]).endswith("Z")
    assert (first["event"], first["images"], first["level"]) == ("step done", 4, "info")
    assert (second["event"], second["logger"]) == ("merged 2 files", "fiftyone.core.dataset")
    assert third["event"] == "round 3: picked 4 of 9"


def test_secrets_never_printed(stream: tuple[Path, LogContext]) -> None:
    copy, _ = stream
    log = structlog.get_logger("alod.test")
    log.info("login", password="hunter2", url="https://bob:pw123@cvat.example/api")
    log.info("oops s3cr3t-value leaked", detail={"api_key": "k", "note": "x s3cr3t-value"})
    logging.getLogger("urllib3").info("Authorization: s3cr3t-value")
    text = copy.read_text()
    assert "hunter2" not in text
    assert "pw123" not in text
    assert "s3cr3t-value" not in text
    first, second, third = lines(copy)
    assert first["password"] == MASK
    assert first["url"] == f"https://{MASK}@cvat.example/api"
    assert second["detail"] == {"api_key": MASK, "note": f"x {MASK}"}
    assert third["event"] == f"Authorization: {MASK}"


def test_secret_values_come_from_the_environment_and_credentials(tmp_path: Path) -> None:
    (tmp_path / "FIFTYONE_CVAT_PASSWORD").write_text("from-a-file\n")
    env = {
        "FIFTYONE_CVAT_PASSWORD": "from-env",
        "LABEL_STUDIO_API_KEY": "key-value",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "CREDENTIALS_DIRECTORY": str(tmp_path),
    }
    assert secret_values(env) == {"from-env", "key-value", "from-a-file"}


def test_redactor_keeps_harmless_keys() -> None:
    redact = redactor(set())
    event = {"checks_passed": 3, "tokens_per_s": 9.5, "token": "abc", "passwd": ""}
    assert redact(None, "info", dict(event)) == {
        "checks_passed": 3, "tokens_per_s": 9.5, "token": MASK, "passwd": "",
    }  # fmt: skip


def test_pretty_lines_for_people() -> None:
    transition = {
        "event": "transition", "round": 2, "from": "training", "to": "evaluating",
        "actor": "worker", "reason": "", "timestamp": "2026-01-02T03:04:05.678Z",
        "level": "info", "project": "trees", "state": "evaluating", "attempt": 1,
    }  # fmt: skip
    assert render(transition) == (
        "2026-01-02 03:04:05 INFO    [trees r2 evaluating a1] "
        "round 2: training -> evaluating by worker"
    )
    line = json.dumps({"event": "ingest_rejected", "level": "warning", "reason": "empty"})
    assert render_line(line).endswith("] ingest_rejected  reason=empty")
    assert render_line("plain text\n") == "plain text"


def test_read_lines_follows_appends_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("one\ntw")
    seen: list[str] = []

    def keep_going() -> bool:
        if len(seen) == 1:
            with path.open("a") as handle:
                handle.write("o\n")
        elif len(seen) == 2:
            path.rename(tmp_path / "log.jsonl.1")
            path.write_text("three\n")
        return len(seen) < 3

    for line in read_lines(path, follow=True, poll_s=0.01, keep_going=keep_going):
        seen.append(line)
    assert seen == ["one\n", "two\n", "three\n"]
