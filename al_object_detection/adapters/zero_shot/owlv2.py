"""The zero-shot detector adapter: OWLv2 finds the classes it is told by name (or example box).

It pre-labels a first batch when there is no trained detector yet. Its predictions have the
YOLO adapter's shape: pixel boxes, labels, confidences, a class-score vector per box (for each
class, the sigmoid of the box's best logit over that class's prompts and example boxes) and an
image embedding, so every sampling strategy works on either model. There is nothing to train.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from al_object_detection.adapters.detection.config import ConfigError
from al_object_detection.adapters.detection.protocol import ImagePrediction
from al_object_detection.adapters.zero_shot.config import ExampleBox, Owl2Config, load_owl2_config
from al_object_detection.adapters.zero_shot.prompts import class_prompts, resolve_classes
from al_object_detection.adapters.zero_shot.weights import ZeroShotError, load_owlv2, locate_weights

if TYPE_CHECKING:
    import torch

    from al_object_detection.adapters.zero_shot.engine import Owlv2Engine


class ZeroShot_ALObjectDetector:
    """An OWLv2 detector whose classes are text prompts (and optional example boxes)."""

    def __init__(
        self,
        config: str | Path | Owl2Config | None = None,
        *,
        classes: Sequence[str] | None = None,
    ) -> None:
        self.config = config if isinstance(config, Owl2Config) else load_owl2_config(config)
        self._classes = resolve_classes(self.config, classes)
        self.prompts = class_prompts(self.config, self._classes)
        self._engine: Owlv2Engine | None = None
        self._queries: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, indexed by ``label_ids``."""
        return self._classes

    @property
    def model_id(self) -> str:
        """Identifies the weights and prompts (predictions made otherwise are stale)."""
        return f"owlv2:{self.config.weights}:{'|'.join(self.classes)}"

    @property
    def engine(self) -> Owlv2Engine:
        """The loaded model on its device (loaded on first use)."""
        if self._engine is None:
            from al_object_detection.adapters.zero_shot.engine import Owlv2Engine

            folder = locate_weights(self.config.weights, self.config.base_dir)
            parts = load_owlv2(folder)
            image_size = self.config.predict.image_size
            patch = int(parts.model.config.vision_config.patch_size)
            if image_size is not None and image_size % patch:
                raise ConfigError(
                    f"{self.config.source}: [predict] image_size = {image_size} must be a "
                    f"multiple of the model's patch size {patch}"
                )
            self._engine = Owlv2Engine(parts, device=self.config.device, image_size=image_size)
        return self._engine

    def predict(
        self, filepaths: Sequence[str], *, progress: bool = True
    ) -> Iterator[ImagePrediction]:
        """Stream predictions for ``filepaths`` in order, batched, with a progress bar.

        An unreadable image stops the stream with a ``ZeroShotError`` naming it, after every
        image before it has been yielded.
        """
        if not filepaths:
            return
        from tqdm import tqdm

        from al_object_detection.adapters.zero_shot.postprocess import to_prediction

        engine = self.engine
        queries, query_class = self._query_embeddings(engine)
        settings = self.config.predict
        paths = [str(p) for p in filepaths]
        with tqdm(total=len(paths), disable=not progress, desc="zero-shot predict") as bar:
            for start in range(0, len(paths), settings.batch):
                batch = paths[start : start + settings.batch]
                images, error = _read_batch(batch)
                if images:
                    output = engine.detect(
                        engine.pixel_values(images), queries, query_class, len(self._classes)
                    )
                    for i, image in enumerate(images):
                        yield to_prediction(
                            batch[i],
                            image.size,
                            output.class_logits[i],
                            output.boxes_cxcywh[i],
                            output.embeddings[i],
                            settings,
                        )
                    bar.update(len(images))
                if error is not None:
                    raise error

    def _query_embeddings(self, engine: Owlv2Engine) -> tuple[torch.Tensor, torch.Tensor]:
        """All queries (Q, D) and each one's class index (Q,), computed once."""
        if self._queries is None:
            import torch

            prompts = [p for group in self.prompts for p in group]
            owners = [c for c, group in enumerate(self.prompts) for _ in group]
            parts = [engine.text_queries(prompts)] if prompts else []
            for i, example in enumerate(self.config.examples):
                parts.append(self._example_query(engine, example, i)[None])
                owners.append(self._classes.index(example.class_name))
            owner_ids = torch.tensor(owners, dtype=torch.int64, device=engine.device)
            self._queries = (torch.cat(parts), owner_ids)
        return self._queries

    def _example_query(self, engine: Owlv2Engine, example: ExampleBox, i: int) -> torch.Tensor:
        where = f"{self.config.source}: [[examples]] #{i + 1}"
        try:
            image = read_image(example.image)
        except ZeroShotError as error:
            raise ZeroShotError(f"{where}: {error}") from error
        width, height = image.size
        x_max, y_max = example.box_xyxy[2:]
        if x_max > width or y_max > height:
            raise ConfigError(
                f"{where}: box {list(example.box_xyxy)} lies outside the {width}x{height} image"
            )
        return engine.example_query(image, example.box_xyxy)


def read_image(path: str | Path) -> Any:
    """The image at ``path`` as an upright RGB ``PIL.Image``; a ``ZeroShotError`` names it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        raise ZeroShotError(f"{path}: cannot read the image ({error})") from error


def _read_batch(paths: Sequence[str]) -> tuple[list[Any], ZeroShotError | None]:
    """The images up to the first unreadable one, and that one's error."""
    images = []
    for path in paths:
        try:
            images.append(read_image(path))
        except ZeroShotError as error:
            return images, error
    return images, None
