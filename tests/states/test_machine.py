from __future__ import annotations

import itertools

import pytest

from al_object_detection.states import machine as m

LEGAL = {
    (m.PENDING, "start"): m.PREDICTING,
    (m.PENDING, "bootstrap"): m.SAMPLING,
    (m.PREDICTING, "predicted"): m.SAMPLING,
    (m.SAMPLING, "sampled"): m.ANNOTATING,
    (m.ANNOTATING, "annotated"): m.IMPORTING,
    (m.IMPORTING, "imported"): m.TRAINING,
    (m.TRAINING, "trained"): m.EVALUATING,
    (m.EVALUATING, "evaluated"): m.COMPLETED,
    **{(state, "fail"): m.FAILED for state in m.WORKING},
    **{(state, "cancel"): m.CANCELLED for state in (*m.WORKING, m.FAILED)},
}
TRIGGERS = sorted({t for _, t in LEGAL} | {"retry"})


@pytest.mark.parametrize(("state", "trigger"), sorted(LEGAL))
def test_every_legal_transition(state: str, trigger: str) -> None:
    assert m.next_state(state, trigger) == LEGAL[state, trigger]


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (s, t)
        for s, t in itertools.product(m.STATES, TRIGGERS)
        if (s, t) not in LEGAL and not (s == m.FAILED and t == "retry")
    ],
)
def test_every_illegal_transition_is_rejected(state: str, trigger: str) -> None:
    with pytest.raises(m.IllegalTransition, match=f"cannot '{trigger}' from '{state}'"):
        m.next_state(state, trigger)


@pytest.mark.parametrize("failed_in", m.WORKING)
def test_retry_returns_to_the_state_that_failed(failed_in: str) -> None:
    assert m.next_state(m.FAILED, "retry", failed_in=failed_in) == failed_in


def test_retry_without_a_failed_state_is_rejected() -> None:
    with pytest.raises(m.IllegalTransition):
        m.next_state(m.FAILED, "retry", failed_in=None)


def test_unknown_state_is_rejected() -> None:
    with pytest.raises(m.IllegalTransition, match="unknown state 'flying'"):
        m.next_state("flying", "start")


def test_trigger_lookup_matches_the_table() -> None:
    for (state, trigger), target in LEGAL.items():
        if trigger not in ("fail", "cancel"):
            assert m.trigger_for(state, target) == trigger
    assert m.trigger_for(m.FAILED, m.TRAINING) == "retry"
    assert m.trigger_for(m.PENDING, m.COMPLETED) is None
    assert m.triggers_from(m.PENDING) == ["bootstrap", "cancel", "fail", "start"]


def test_the_state_columns_agree_with_the_transitions() -> None:
    for state in m.STATES:
        assert (state in m.TERMINAL) == (m.triggers_from(state) == [])
    assert set(m.POOL_CLOSED) <= set(m.IN_WORKER) <= set(m.PRESTART) <= set(m.WORKING)


def test_the_daemon_reads_its_state_sets_from_the_table() -> None:
    assert m.IN_WORKER == (m.PREDICTING, m.SAMPLING, m.IMPORTING, m.TRAINING, m.EVALUATING)
    assert (m.PENDING, *m.IN_WORKER) == m.PRESTART
    assert m.POOL_CLOSED == (m.PREDICTING, m.SAMPLING)
