"""The annotation cost model: priors without data, the annotators' rates with enough of it."""

from __future__ import annotations

import pytest

from al_object_detection.report.costs import PRIORS, CostObservation, fit_cost_model


def observe(images: int, added: int, corrected: int, prelabels: int) -> CostObservation:
    seconds = 4.0 * images + 12.0 * added + 2.0 * corrected  # the annotators' true rates
    return CostObservation(seconds, images, added, corrected, prelabels)


def test_without_recorded_time_the_model_is_the_priors() -> None:
    model = fit_cost_model([])
    assert (model.per_image, model.per_new_box, model.per_corrected) == pytest.approx(
        (PRIORS.per_image, PRIORS.per_new_box, PRIORS.per_corrected)
    )
    assert model.rounds == 0
    assert "priors" in model.describe()
    assert float(model.image_seconds(0.0)) == pytest.approx(PRIORS.per_image)


ROUNDS = [
    observe(images, added, corrected, prelabels)
    for images, added, corrected, prelabels in [
        (32, 100, 40, 150), (32, 60, 80, 200), (16, 90, 10, 30), (48, 40, 120, 300),
        (24, 150, 20, 60), (40, 30, 90, 260), (32, 120, 60, 180), (20, 50, 30, 90),
    ]
]  # fmt: skip


def test_rounds_with_a_weak_prior_recover_the_annotators_rates() -> None:
    model = fit_cost_model(ROUNDS, prior_weight=1e-4)
    assert model.per_image == pytest.approx(4.0, rel=0.01)
    assert model.per_new_box == pytest.approx(12.0, rel=0.01)
    assert model.per_corrected == pytest.approx(2.0, rel=0.01)
    assert model.rounds == 8


def test_more_rounds_pull_the_rates_closer_to_the_annotators() -> None:
    def error(rounds: int) -> float:
        model = fit_cost_model(ROUNDS[:rounds])
        return abs(model.per_new_box - 12.0) + abs(model.per_image - 4.0)

    assert error(8) < error(4) < error(1)


def test_one_round_moves_the_rates_towards_the_data_but_not_all_the_way() -> None:
    one = [observe(32, 100, 40, 150)]
    model = fit_cost_model(one)
    assert PRIORS.per_new_box < model.per_new_box < 12.0


def test_behaviour_ratios_come_from_rounds_with_prelabels() -> None:
    model = fit_cost_model([observe(32, 300, 600, 1000)])
    assert model.corrected_ratio == pytest.approx((600 + 0.3 * 10) / 1010)
    assert model.added_ratio == pytest.approx((300 + 0.3 * 10) / 1010)
    expected = model.per_image + 5 * (
        model.corrected_ratio * model.per_corrected + model.added_ratio * model.per_new_box
    )
    assert float(model.image_seconds(5.0)) == pytest.approx(expected)
