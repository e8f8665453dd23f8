"""TypiClust: typical images of the largest uncovered clusters."""

from __future__ import annotations

import numpy as np
import pytest

from al_object_detection.strategies import Pool, TypiClustSampler
from al_object_detection.strategies.typicality import typicality, typiclust


def _blobs(sizes: list[int], seed: int = 0, dim: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs far apart on the unit sphere's axes, with their blob index."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[: len(sizes)] * 10
    points = np.concatenate(
        [c + rng.normal(0, 0.3, (n, dim)) for c, n in zip(centers, sizes, strict=False)]
    )
    blob = np.repeat(np.arange(len(sizes)), sizes)
    return points.astype(np.float32), blob


def test_typicality_is_highest_at_the_dense_centre() -> None:
    line = np.array([[0.0], [1.0], [1.1], [1.2], [5.0]])
    t = typicality(line, 2)
    assert int(np.argmax(t)) == 2
    assert int(np.argmin(t)) == 4
    assert typicality(np.zeros((1, 3)), 5).tolist() == [np.inf]


def test_typicality_matches_a_plain_loop() -> None:
    x = np.random.default_rng(3).normal(size=(30, 5))
    want = []
    for i in range(30):
        d = np.sort(np.linalg.norm(x - x[i], axis=1))[1:6]
        want.append(1 / d.mean())
    assert typicality(x, 5) == pytest.approx(want, rel=1e-4)


def test_picks_cover_the_largest_uncovered_clusters_first() -> None:
    points, blob = _blobs([40, 25, 10])
    pos, _, sizes = typiclust(points, 3, rng=np.random.default_rng(0))
    assert sorted(blob[pos].tolist()) == [0, 1, 2]
    assert sizes.tolist() == sorted(sizes.tolist(), reverse=True)


def test_a_labeled_cluster_is_covered() -> None:
    points, blob = _blobs([40, 25, 10])
    labeled = points[blob == 0][:2] + 0.01
    pos, _, _ = typiclust(points, 1, rng=np.random.default_rng(0), labeled=labeled)
    assert blob[pos].tolist() == [1]  # the largest cluster no labeled image covers


def test_picks_are_typical_not_outliers() -> None:
    points, _ = _blobs([60])
    points[1] += 3.0  # an outlier
    pos, _, _ = typiclust(points, 1, rng=np.random.default_rng(0))
    from_centre = np.linalg.norm(points - np.median(points, axis=0), axis=1)
    assert from_centre[pos[0]] <= np.quantile(from_centre, 0.25)


def test_sampler_reasons_and_missing_embeddings() -> None:
    points, _ = _blobs([10, 10])
    pool = Pool.from_lists(
        [f"i{k}" for k in range(20)], [np.zeros((0, 1))] * 20, n_classes=1, embeddings=points
    )
    sel = TypiClustSampler(k_neighbors=3).choose(pool, 2, rng=np.random.default_rng(0))
    assert all("most typical of a cluster of 10 images" in r for r in sel.reasons)
    bare = Pool.from_lists(["a"], [np.zeros((0, 1))], n_classes=1)
    with pytest.raises(ValueError, match="needs image embeddings"):
        TypiClustSampler().choose(bare, 1, rng=np.random.default_rng(0))


def test_a_budget_above_the_cluster_cap_takes_several_per_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from al_object_detection.strategies import typicality as module

    monkeypatch.setattr(module, "MAX_CLUSTERS", 3)
    points, blob = _blobs([40, 25, 10])
    pos, _, _ = typiclust(points, 7, rng=np.random.default_rng(0))
    assert len(set(pos.tolist())) == 7
    assert sorted(np.bincount(blob[pos], minlength=3).tolist()) == [2, 2, 3]  # least covered first


def test_k_means_fitted_on_a_sample_still_assigns_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from al_object_detection.strategies import typicality as module

    monkeypatch.setattr(module, "FIT_SAMPLE", 30)
    points, blob = _blobs([40, 25, 10])
    labels = module.cluster(points, 3, rng=np.random.default_rng(0))
    assert len(labels) == len(points)
    assert len({(b, c) for b, c in zip(blob.tolist(), labels.tolist(), strict=True)}) == 3
