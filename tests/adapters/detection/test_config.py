from __future__ import annotations

from pathlib import Path

import pytest

from al_object_detection.adapters.detection.config import (
    ConfigError,
    load_yolo_config,
    parse_yolo_config,
)


def test_shipped_defaults_load() -> None:
    config = load_yolo_config()
    assert config.train["epochs"] > 0
    assert config.predict.imgsz == 320
    assert 0 < config.predict.conf < 0.5


def test_unknown_train_key_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown key in \[train\] 'epoch' \(did you mean 'epo"):
        parse_yolo_config({"train": {"epoch": 3}}, source="cfg.toml")


def test_unknown_section_lists_allowed() -> None:
    with pytest.raises(
        ConfigError, match=r"cfg.toml: unknown section 'trian'.*allowed: train, predict"
    ):
        parse_yolo_config({"trian": {}}, source="cfg.toml")


@pytest.mark.parametrize(
    ("predict", "message"),
    [
        ({"imgsz": "big"}, r"\[predict\] imgsz = 'big' must be an integer"),
        ({"conf": True}, r"\[predict\] conf = True must be a number"),
        ({"conf": 1.5}, r"\[predict\] conf = 1.5 must lie in \[0, 1\]"),
        ({"batch": 0}, r"\[predict\] batch = 0 must be >= 1"),
    ],
)
def test_bad_predict_values(predict: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_yolo_config({"predict": predict})


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[train\nepochs = 3\n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        load_yolo_config(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent.toml: cannot read the config file"):
        load_yolo_config(tmp_path / "absent.toml")


def test_embedding_pooling_is_mean_or_max() -> None:
    assert (
        parse_yolo_config({"predict": {"embedding_pooling": "mean"}}).predict.embedding_pooling
        == "mean"
    )
    with pytest.raises(ConfigError, match=r"embedding_pooling = 'sum'; allowed: mean, max"):
        parse_yolo_config({"predict": {"embedding_pooling": "sum"}})


def test_embedding_boxes_is_a_non_negative_count() -> None:
    assert parse_yolo_config({"predict": {"embedding_boxes": 3}}).predict.embedding_boxes == 3
    with pytest.raises(ConfigError, match=r"embedding_boxes.* must be >= 0"):
        parse_yolo_config({"predict": {"embedding_boxes": -1}})
