"""Chunked squared Euclidean distances in float32, run on all cores.

Distances use the BLAS form ``||x||² - 2 x·c + ||c||²`` over row blocks, keeping one
running minimum per row (never an N-by-k matrix), so memory stays at a few blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from al_object_detection.strategies.arrays import Array

ROW_BLOCK = 4096
CENTER_BLOCK = 1024
EXACT_CENTERS = 512  # at most this many centers: exact nearest distances, no cells


@dataclass(frozen=True)
class RowBlock:
    """Contiguous rows, their squared norms and a view of their running minimum."""

    x: Array
    sq_norms: Array
    min_d2: Array


def as_float32(x: Array) -> Array:
    """C-contiguous float32 view of ``x`` (copies only when needed)."""
    return np.ascontiguousarray(x, dtype=np.float32)


def sq_norms(x: Array) -> Array:
    """Squared L2 norm of each row, float32."""
    return np.asarray(np.einsum("ij,ij->i", x, x, dtype=np.float32))


def split_rows(x: Array, norms: Array, min_d2: Array, size: int = ROW_BLOCK) -> list[RowBlock]:
    """Cut rows into blocks that share memory with ``x``, ``norms`` and ``min_d2``."""
    return [
        RowBlock(x[s : s + size], norms[s : s + size], min_d2[s : s + size])
        for s in range(0, len(x), size)
    ]


def _update_block(block: RowBlock, neg2c: Array, c_norms: Array) -> None:
    for s in range(0, len(neg2c), CENTER_BLOCK):
        d2 = neg2c[s : s + CENTER_BLOCK] @ block.x.T
        d2 += c_norms[s : s + CENTER_BLOCK, None]
        nearest = d2.min(axis=0)
        nearest += block.sq_norms
        np.maximum(nearest, 0.0, out=nearest)
        np.minimum(block.min_d2, nearest, out=block.min_d2)


def update_min_d2(pool: Executor, blocks: Sequence[RowBlock], centers: Array) -> None:
    """Lower each block's running minimum to its squared distance to ``centers``, in place."""
    if len(centers) == 0 or not blocks:
        return
    centers = as_float32(centers)
    neg2c = -2.0 * centers
    c_norms = sq_norms(centers)
    for _ in pool.map(lambda b: _update_block(b, neg2c, c_norms), blocks):
        pass


def min_d2(pool: Executor, x: Array, norms: Array, centers: Array) -> Array:
    """Squared distance from each row of ``x`` to its nearest center (inf if none)."""
    out = np.full(len(x), np.inf, dtype=np.float32)
    update_min_d2(pool, split_rows(x, norms, out), centers)
    return out


def min_d2_serial(x: Array, norms: Array, centers: Array) -> Array:
    """Like :func:`min_d2` in the calling thread only."""
    out = np.full(len(x), np.inf, dtype=np.float32)
    c = as_float32(centers)
    neg2c, c_norms = -2.0 * c, sq_norms(c)
    for block in split_rows(x, norms, out):
        _update_block(block, neg2c, c_norms)
    return out


def farthest_first(x: Array, k: int) -> Array:
    """Plain farthest-first traversal of a small set, starting at row 0 (for cell pivots)."""
    norms = sq_norms(x)
    picks = np.zeros(k, dtype=np.int64)
    d2 = norms + norms[0] - 2.0 * (x @ x[0])
    for i in range(1, k):
        picks[i] = int(np.argmax(d2))
        np.minimum(d2, norms + norms[picks[i]] - 2.0 * (x @ x[picks[i]]), out=d2)
    return picks


def _nearest_pivots(x: Array, pivots: Array, nprobe: int) -> Array:
    """Indices of the ``nprobe`` pivots nearest each row (in no particular order)."""
    d2 = sq_norms(pivots)[None, :] - 2.0 * (x @ pivots.T)
    if nprobe >= pivots.shape[0]:
        return np.argsort(d2, axis=1)
    return np.argpartition(d2, nprobe - 1, axis=1)[:, :nprobe]


def _group(labels: Array, n_groups: int) -> list[Array]:
    """For each label ``0..n_groups-1``, the positions holding it."""
    order = np.argsort(labels, kind="stable")
    edges = np.searchsorted(labels[order], np.arange(n_groups + 1))
    return [order[edges[g] : edges[g + 1]] for g in range(n_groups)]


def nearest_d2_upper_bound(
    pool: Executor, x: Array, norms: Array, centers: Array, nprobe: int = 3
) -> Array:
    """An upper bound on each row's squared distance to its nearest center.

    Small center sets give the exact value. Larger ones are split into cells around
    farthest-first pivots; each row gets its exact distance to the nearest center found in
    its ``nprobe`` closest cells, which is never below the true nearest distance.
    """
    centers = as_float32(centers)
    if len(centers) <= EXACT_CENTERS:
        return min_d2(pool, x, norms, centers)
    n_cells = int(np.sqrt(len(centers)))
    pivots = centers[farthest_first(centers, n_cells)]
    members = [centers[i] for i in _group(_nearest_pivots(centers, pivots, 1)[:, 0], n_cells)]
    probes = np.empty((len(x), min(nprobe, n_cells)), dtype=np.int64)

    def find_cells(start: int) -> None:
        rows = slice(start, start + ROW_BLOCK)
        probes[rows] = _nearest_pivots(x[rows], pivots, nprobe)

    for _ in pool.map(find_cells, range(0, len(x), ROW_BLOCK)):
        pass
    bound = np.full(len(x), np.inf, dtype=np.float32)

    def search(job: tuple[int, Array]) -> None:
        cell, rows = job
        if len(members[cell]):
            found = min_d2_serial(x[rows], norms[rows], members[cell])
            bound[rows] = np.minimum(bound[rows], found)

    for column in probes.T:  # each row once per pass, so no two jobs share a row
        jobs = [
            (cell, rows[s : s + 4 * ROW_BLOCK])
            for cell, rows in enumerate(_group(column, n_cells))
            for s in range(0, len(rows), 4 * ROW_BLOCK)
        ]
        for _ in pool.map(search, jobs):
            pass
    return bound
