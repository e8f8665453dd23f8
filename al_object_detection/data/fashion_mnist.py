"""Load Fashion-MNIST from its IDX files (Debian package ``dataset-fashion-mnist``)."""

from __future__ import annotations

import gzip
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


class FashionMnistMissingError(FileNotFoundError):
    """The Fashion-MNIST IDX files are not where they were looked for."""


def load_fashion_mnist(
    mnist_dir: Path | str | None = None, subset: str = "train"
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) of the "train" or "t10k" subset."""
    if subset not in ("train", "t10k"):
        raise ValueError(f"subset must be 'train' or 't10k', got {subset!r}")
    return _load(Path(mnist_dir) if mnist_dir is not None else DEFAULT_DIR, subset)


@lru_cache(maxsize=2)
def _load(folder: Path, subset: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    images = _read_idx(_find(folder, f"{subset}-images-idx3-ubyte"), _IMAGES_MAGIC)
    labels = _read_idx(_find(folder, f"{subset}-labels-idx1-ubyte"), _LABELS_MAGIC)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{folder}: images {images.shape} do not match labels {labels.shape}")
    return images, labels


def _find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise FashionMnistMissingError(
        f"Fashion-MNIST file {stem}(.gz) not found in {folder}: install it with "
        "'apt-get install dataset-fashion-mnist', or point mnist_dir (--mnist-dir) "
        "at a folder holding the IDX files"
    )


def _read_idx(path: Path, magic: int) -> npt.NDArray[np.uint8]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        data = stream.read()
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise ValueError(f"{path}: not an IDX file of the expected kind (magic {found:#x})")
    n_dims = magic & 0xFF
    dims = struct.unpack(f">{n_dims}I", data[4 : 4 + 4 * n_dims])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * n_dims)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims} values, found {body.size}")
    return body.reshape(dims)
