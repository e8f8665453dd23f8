"""Operator overrides: the table decides, --force audits the exception, pause and resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_object_detection.daemon.daemondb import DaemonDB
from al_object_detection.daemon.overrides import OverrideError, apply_override, plan_override
from al_object_detection.states import machine as m
from al_object_detection.states.store import RoundStore


@pytest.fixture
def stores(tmp_path: Path) -> tuple[RoundStore, DaemonDB]:
    rounds = RoundStore(tmp_path / "p.sqlite")
    rounds.open_round(0, 4, actor="engine")
    rounds.fire(0, "bootstrap", actor="engine")
    rounds.fire(0, "sampled", actor="engine", picked=["a"])
    return rounds, DaemonDB(tmp_path / "p.daemon.sqlite")


def plan(stores: tuple[RoundStore, DaemonDB], action: str, **options: object) -> object:
    rounds, daemon = stores
    args = {"who": "alice", "reason": "fix it", **options}
    return plan_override(rounds, daemon, action=action, **args)  # type: ignore[arg-type]


def test_a_legal_move_goes_through_the_table_and_is_audited(
    stores: tuple[RoundStore, DaemonDB],
) -> None:
    rounds, daemon = stores
    preview = plan_override(rounds, daemon, action="cancel", who="alice", reason="wrong data")
    assert preview.describe() == (
        "round 0: annotating -> cancelled (trigger 'cancel'; by alice: wrong data)"
    )
    assert rounds.current().state == m.ANNOTATING  # type: ignore[union-attr]  # preview only
    apply_override(preview, rounds, daemon)
    assert rounds.current().state == m.CANCELLED  # type: ignore[union-attr]
    last = rounds.transitions(0)[-1]
    assert (last.actor, last.reason, last.from_state) == (
        "override:alice",
        "wrong data",
        "annotating",
    )
    (row,) = daemon.overrides()
    assert (row.who, row.action, row.from_state, row.to_state, row.forced) == (
        "alice", "cancel", "annotating", "cancelled", False,
    )  # fmt: skip
    assert row.reason == "wrong data"


def test_an_illegal_move_needs_force_and_is_marked(stores: tuple[RoundStore, DaemonDB]) -> None:
    rounds, daemon = stores
    with pytest.raises(OverrideError, match=r"cannot go from 'annotating' to 'training'.*--force"):
        plan_override(rounds, daemon, action="move", who="bob", reason="r", to_state="training")
    forced = plan_override(
        rounds, daemon, action="move", who="bob", reason="r", to_state="training", force=True
    )
    assert forced.forced
    assert forced.trigger is None
    apply_override(forced, rounds, daemon)
    assert rounds.current().state == m.TRAINING  # type: ignore[union-attr]
    assert rounds.transitions(0)[-1].reason == "forced: r"
    assert daemon.overrides()[-1].forced


def test_retry_only_a_failed_round_and_back_to_where_it_failed(
    stores: tuple[RoundStore, DaemonDB],
) -> None:
    rounds, daemon = stores
    with pytest.raises(OverrideError, match="only a failed round can be retried"):
        plan_override(rounds, daemon, action="retry", who="a", reason="r")
    rounds.fire(0, "fail", actor="engine", reason="boom")
    retry = plan_override(rounds, daemon, action="retry", who="a", reason="server back")
    assert (retry.to_state, retry.trigger) == (m.ANNOTATING, "retry")
    apply_override(retry, rounds, daemon)
    assert (rounds.current().state, rounds.current().attempt) == (m.ANNOTATING, 2)  # type: ignore[union-attr]
    rounds.fire(0, "fail", actor="engine", reason="boom")
    with pytest.raises(OverrideError, match="cannot go from 'failed' to 'training'"):
        plan_override(rounds, daemon, action="move", who="a", reason="r", to_state="training")


def test_pause_and_resume_are_audited_and_checked(stores: tuple[RoundStore, DaemonDB]) -> None:
    rounds, daemon = stores
    with pytest.raises(OverrideError, match="not paused"):
        plan_override(rounds, daemon, action="resume", who="a", reason="r")
    apply_override(
        plan_override(rounds, daemon, action="pause", who="a", reason="cvat down"), rounds, daemon
    )
    paused = daemon.paused()
    assert paused is not None
    assert (paused["who"], paused["reason"]) == ("a", "cvat down")
    with pytest.raises(OverrideError, match="already paused by a"):
        plan_override(rounds, daemon, action="pause", who="b", reason="r")
    apply_override(
        plan_override(rounds, daemon, action="resume", who="b", reason="ok"), rounds, daemon
    )
    assert daemon.paused() is None
    assert [(o.action, o.who) for o in daemon.overrides()] == [("pause", "a"), ("resume", "b")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"action": "cancel", "reason": " "}, "needs a --reason"),
        ({"action": "move", "to_state": "nowhere"}, "unknown state 'nowhere'"),
        ({"action": "move", "to_state": "annotating"}, "already 'annotating'"),
        ({"action": "cancel", "round_index": 7}, "there is no round 7"),
        ({"action": "explode"}, "unknown override 'explode'"),
    ],
)
def test_mistakes(
    stores: tuple[RoundStore, DaemonDB], options: dict[str, object], message: str
) -> None:
    rounds, daemon = stores
    args: dict[str, object] = {"who": "a", "reason": "r", **options}
    with pytest.raises(OverrideError, match=message):
        plan_override(rounds, daemon, **args)  # type: ignore[arg-type]
