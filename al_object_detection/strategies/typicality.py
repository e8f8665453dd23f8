"""TypiClust (Hacohen, Dekel & Weinshall, ICML 2022): typical images of uncovered clusters.

Embeddings (pool and labeled, L2-normalised) are clustered by k-means into
``labeled + budget`` clusters. Each pick comes from the cluster holding the fewest labeled or
picked images, the largest such cluster first, and is that cluster's most *typical* image:
``typicality = 1 / (mean distance to its K nearest neighbours in the cluster)``. At low budgets
this covers the dense regions of the data instead of its outliers.

As in the reference implementation, the clusters are capped (``MAX_CLUSTERS``): a large budget
then takes several picks per cluster, least covered first, instead of fragmenting the density
estimate into thousands of tiny clusters; k-means is fitted on a seeded sample of at most
``FIT_SAMPLE`` rows and assigns every row, so a million-image pool stays tractable.
"""

from __future__ import annotations

import numpy as np

from al_object_detection.strategies.arrays import Array
from al_object_detection.strategies.distances import as_float32

ROW_BLOCK = 1024
KMEANS_INIT = 3  # seedings of k-means (up to 50 clusters)
# mini-batch k-means (more clusters) is seeded once: with 500 clusters, k-means++ seeding is
# most of its time (10k rows x 256: 37 s of CPU with 3 seedings, 11 s with 1)
MINIBATCH_INIT = 1
MAX_CLUSTERS = 500
FIT_SAMPLE = 100_000


def typicality(points: Array, k_neighbors: int) -> Array:
    """``1 / mean distance to the k nearest other rows`` per row (inf for a lone row)."""
    x = as_float32(points)
    n = len(x)
    k = min(k_neighbors, n - 1)
    if k < 1:
        return np.full(n, np.inf)
    norms = np.einsum("ij,ij->i", x, x)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, ROW_BLOCK):
        block = x[start : start + ROW_BLOCK]
        d2 = norms[start : start + ROW_BLOCK, None] - 2 * block @ x.T + norms[None, :]
        rows = np.arange(len(block))
        d2[rows, rows + start] = np.inf  # a point is not its own neighbour
        nearest = np.partition(d2, k - 1, axis=1)[:, :k]
        mean = np.sqrt(np.maximum(nearest, 0)).mean(axis=1)
        out[start : start + len(block)] = 1.0 / np.maximum(mean, 1e-12)
    return out


def normalized(x: Array) -> Array:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    x = as_float32(x)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def cluster(points: Array, n_clusters: int, *, rng: np.random.Generator) -> Array:
    """k-means labels of ``points`` (seeded by ``rng``; above 50 clusters mini-batch, seeded
    once; fitted on a sample of ``FIT_SAMPLE`` rows when there are more)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    seed = int(rng.integers(2**31 - 1))
    n_clusters = max(1, min(n_clusters, len(points)))
    if n_clusters <= 50:
        model = KMeans(n_clusters, n_init=KMEANS_INIT, random_state=seed)
    else:
        model = MiniBatchKMeans(
            n_clusters, n_init=MINIBATCH_INIT, random_state=seed, batch_size=4096
        )
    if len(points) <= FIT_SAMPLE:
        return np.asarray(model.fit_predict(points), dtype=np.int64)
    sample = rng.choice(len(points), FIT_SAMPLE, replace=False)
    model.fit(points[sample])
    return np.asarray(model.predict(points), dtype=np.int64)


def typiclust(
    embeddings: Array,
    budget: int,
    *,
    rng: np.random.Generator,
    labeled: Array | None = None,
    taken: Array | None = None,
    k_neighbors: int = 20,
) -> tuple[Array, Array, Array]:
    """Up to ``budget`` pool positions, their typicality and their cluster's size.

    ``labeled`` rows and ``taken`` positions count as covering their clusters.
    """
    pool = normalized(embeddings)
    known = np.zeros((0, pool.shape[1]), np.float32) if labeled is None else normalized(labeled)
    taken_pos = np.zeros(0, np.int64) if taken is None else np.asarray(taken, np.int64)
    free = np.ones(len(pool), dtype=bool)
    free[taken_pos] = False
    want = min(budget, int(free.sum()))
    if want == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    n_known = len(known) + len(taken_pos)
    n_clusters = min(n_known + want, MAX_CLUSTERS)
    labels = cluster(np.concatenate([pool, known]), n_clusters, rng=rng)
    pool_labels = labels[: len(pool)]
    n_clusters = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=n_clusters)
    covered = np.bincount(labels[len(pool) :], minlength=n_clusters)
    covered += np.bincount(pool_labels[taken_pos], minlength=n_clusters)
    typical = np.zeros(len(pool))
    by_cluster = cluster_members(pool_labels, n_clusters)
    queues: list[Array] = []  # each cluster's free members, most typical first
    for members in by_cluster:
        typical[members] = typicality(pool[members], k_neighbors) if len(members) else 0.0
        free_members = members[free[members]]
        queues.append(free_members[np.argsort(-typical[free_members], kind="stable")])
    taken_from = np.zeros(n_clusters, dtype=np.int64)
    left = np.array([len(q) for q in queues], dtype=np.int64)
    picks: list[int] = []
    for _ in range(want):
        order = np.lexsort((np.arange(n_clusters), -sizes, covered))
        c = int(next(i for i in order if left[i] > 0))
        picks.append(int(queues[c][taken_from[c]]))
        taken_from[c] += 1
        left[c] -= 1
        covered[c] += 1
    pos = np.asarray(picks, dtype=np.int64)
    return pos, typical[pos], sizes[pool_labels[pos]]


def cluster_members(labels: Array, n_clusters: int) -> list[Array]:
    """The row positions of each cluster, in one sort."""
    order = np.argsort(labels, kind="stable")
    bounds = np.cumsum(np.bincount(labels, minlength=n_clusters))[:-1]
    return np.split(order, bounds)
