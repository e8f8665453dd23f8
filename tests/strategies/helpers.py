"""Small pools and reference implementations for the strategy tests."""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies import Pool


def random_pool(
    seed: int,
    n: int = 40,
    *,
    n_classes: int = 4,
    dim: int = 3,
    n_labeled: int = 5,
    max_boxes: int = 4,
) -> Pool:
    """A pool with random scores (some images without boxes), embeddings and labels."""
    rng = np.random.default_rng(seed)
    boxes = [rng.random((int(rng.integers(0, max_boxes + 1)), n_classes)) for _ in range(n)]
    return Pool.from_lists(
        [f"img{i:04d}" for i in range(n)],
        boxes,
        n_classes=n_classes,
        embeddings=rng.standard_normal((n, dim)),
        labeled_embeddings=rng.standard_normal((n_labeled, dim)) if n_labeled else None,
        labeled_class_counts=rng.integers(0, 50, n_classes).astype(float),
    )


def permuted(pool: Pool, perm: np.ndarray) -> Pool:
    """The same pool with its images in the order ``perm``."""
    return pool.subset(perm)


def naive_kcenter(x: np.ndarray, k: int, labeled: np.ndarray | None) -> list[int]:
    """The textbook farthest-first loop in float64."""
    x = x.astype(np.float64)
    if labeled is not None and len(labeled):
        d = ((x[:, None, :] - labeled[None, :, :].astype(np.float64)) ** 2).sum(-1).min(1)
        picks: list[int] = []
    else:
        first = int(np.argmax(((x - x.mean(0)) ** 2).sum(1)))
        picks = [first]
        d = ((x - x[first]) ** 2).sum(1)
        d[first] = -np.inf
    while len(picks) < k:
        j = int(np.argmax(d))
        picks.append(j)
        d = np.minimum(d, ((x - x[j]) ** 2).sum(1))
        d[picks] = -np.inf
    return picks
