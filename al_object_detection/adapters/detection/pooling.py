"""Pool a feature map into one image embedding: over the whole map, or over predicted boxes.

A whole-image embedding is dominated by what fills most of the image (the background); pooled
over the cells under the ``top_k`` most confident predicted boxes (their union) it describes
the objects instead. An image with no predicted box falls back to the whole map.
"""

from __future__ import annotations

import torch


def pool_map(cells: torch.Tensor, how: str) -> torch.Tensor:
    """``(C, ...)`` -> ``(C,)``: the mean or the max over every axis but the first."""
    flat = cells.reshape(cells.shape[0], -1)
    return flat.amax(dim=1) if how == "max" else flat.mean(dim=1)


def box_mask(
    boxes_xyxy: torch.Tensor, map_hw: tuple[int, int], input_hw: tuple[int, int]
) -> torch.Tensor:
    """``(H, W)`` bool: the map cells any box (input-pixel xyxy) touches, at least one per box."""
    h, w = map_hw
    sy, sx = input_hw[0] / h, input_hw[1] / w
    mask = torch.zeros((h, w), dtype=torch.bool)
    for x1, y1, x2, y2 in boxes_xyxy.detach().float().cpu().tolist():
        c0, r0 = _cell(x1 / sx, w), _cell(y1 / sy, h)
        c1, r1 = max(_cell(x2 / sx - 1e-6, w), c0), max(_cell(y2 / sy - 1e-6, h), r0)
        mask[r0 : r1 + 1, c0 : c1 + 1] = True
    return mask


def foreground_embedding(
    maps: torch.Tensor,
    boxes_xyxy: torch.Tensor,
    confidences: torch.Tensor,
    *,
    input_hw: tuple[int, int],
    how: str,
    top_k: int,
) -> torch.Tensor:
    """``(C, H, W)`` -> ``(C,)``: pooled over the ``top_k`` most confident boxes' cells (all
    cells when ``top_k`` is 0 or no box is given)."""
    if top_k <= 0 or len(boxes_xyxy) == 0:
        return pool_map(maps, how)
    top = torch.argsort(confidences.detach().float().cpu(), descending=True, stable=True)[:top_k]
    mask = box_mask(boxes_xyxy.detach().cpu()[top], (maps.shape[1], maps.shape[2]), input_hw)
    return pool_map(maps[:, mask.to(maps.device)], how)


def _cell(coordinate: float, size: int) -> int:
    return min(max(int(coordinate), 0), size - 1)
