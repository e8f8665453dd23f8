from __future__ import annotations

import torch

from al_object_detection.adapters.detection.pooling import box_mask, foreground_embedding


def maps_with_object() -> torch.Tensor:
    """A (2, 8, 8) map: background 0 everywhere, an object (channel 0 = 5) at rows/cols 2-3."""
    maps = torch.zeros((2, 8, 8))
    maps[0, 2:4, 2:4] = 5.0
    maps[1] = 1.0
    return maps


def test_box_mask_covers_the_cells_under_the_box_at_the_map_stride() -> None:
    mask = box_mask(torch.tensor([[16.0, 16.0, 32.0, 32.0]]), (8, 8), (64, 64))
    assert mask.sum() == 4
    assert mask[2:4, 2:4].all()


def test_a_box_smaller_than_a_cell_still_takes_its_cell() -> None:
    mask = box_mask(torch.tensor([[17.0, 9.0, 18.0, 10.0]]), (8, 8), (64, 64))
    assert mask.sum() == 1
    assert mask[1, 2]


def test_boxes_reaching_past_the_image_are_clipped_to_the_map() -> None:
    mask = box_mask(torch.tensor([[-10.0, 60.0, 100.0, 90.0]]), (8, 8), (64, 64))
    assert mask[7].all()
    assert mask.sum() == 8


def test_foreground_mean_describes_the_object_not_the_background() -> None:
    box = torch.tensor([[16.0, 16.0, 32.0, 32.0]])
    fg = foreground_embedding(
        maps_with_object(), box, torch.tensor([0.9]), input_hw=(64, 64), how="mean", top_k=3
    )
    whole = foreground_embedding(
        maps_with_object(), box, torch.tensor([0.9]), input_hw=(64, 64), how="mean", top_k=0
    )
    assert torch.allclose(fg, torch.tensor([5.0, 1.0]))
    assert torch.allclose(whole, torch.tensor([5.0 * 4 / 64, 1.0]))


def test_no_predicted_box_falls_back_to_the_whole_map() -> None:
    none = torch.zeros((0, 4))
    fg = foreground_embedding(
        maps_with_object(), none, torch.zeros(0), input_hw=(64, 64), how="max", top_k=3
    )
    assert torch.allclose(fg, torch.tensor([5.0, 1.0]))


def test_only_the_top_k_most_confident_boxes_count() -> None:
    boxes = torch.tensor([[48.0, 48.0, 56.0, 56.0], [16.0, 16.0, 32.0, 32.0]])
    confidences = torch.tensor([0.1, 0.8])
    top1 = foreground_embedding(
        maps_with_object(), boxes, confidences, input_hw=(64, 64), how="mean", top_k=1
    )
    both = foreground_embedding(
        maps_with_object(), boxes, confidences, input_hw=(64, 64), how="mean", top_k=2
    )
    assert torch.allclose(top1, torch.tensor([5.0, 1.0]))
    assert torch.allclose(both, torch.tensor([5.0 * 4 / 5, 1.0]))


def test_the_map_stride_follows_a_non_square_input() -> None:
    mask = box_mask(torch.tensor([[0.0, 0.0, 8.0, 16.0]]), (4, 8), (32, 64))
    assert mask.sum() == 2
    assert mask[0:2, 0].all()
