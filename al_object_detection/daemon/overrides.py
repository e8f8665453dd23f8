"""Operator overrides: move, retry or cancel a round, pause or resume the whole daemon.

Round moves go through the same transition table as the engine; a move the table forbids
needs ``force`` and is written as a forced transition. Every override applied is an audit
row (who, when, why, from, to) in the daemon's file, and its transition names the operator.
A running daemon reads the round store and the pause flag on every poll, so it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from al_object_detection.daemon.daemondb import PAUSED, DaemonDB, Override
from al_object_detection.daemon.locks import pool_lock
from al_object_detection.paths import ProjectPaths
from al_object_detection.states import machine as m
from al_object_detection.states.store import Round, RoundStore, now

ROUND_ACTIONS = ("move", "retry", "cancel")
DAEMON_ACTIONS = ("pause", "resume")
ACTIONS = ROUND_ACTIONS + DAEMON_ACTIONS


class OverrideError(ValueError):
    """An override that cannot be applied; the message says why and what is allowed."""


@dataclass(frozen=True)
class OverridePlan:
    """What an override would do."""

    action: str
    who: str
    reason: str
    round: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    trigger: str | None = None
    forced: bool = False

    def describe(self) -> str:
        """One sentence for the operator."""
        if self.action in DAEMON_ACTIONS:
            return f"{self.action} the daemon (by {self.who}: {self.reason})"
        how = "forced, outside the table" if self.forced else f"trigger {self.trigger!r}"
        return (
            f"round {self.round}: {self.from_state} -> {self.to_state} ({how}; "
            f"by {self.who}: {self.reason})"
        )


def plan_override(
    rounds: RoundStore,
    daemon: DaemonDB,
    *,
    action: str,
    who: str,
    reason: str,
    round_index: int | None = None,
    to_state: str | None = None,
    force: bool = False,
) -> OverridePlan:
    """Check an override against the table and the daemon's state; nothing is written."""
    if action not in ACTIONS:
        raise OverrideError(f"unknown override {action!r}; allowed: {', '.join(ACTIONS)}")
    if not reason.strip():
        raise OverrideError("every override needs a --reason")
    if action in DAEMON_ACTIONS:
        return _plan_daemon(daemon, action, who, reason)
    current = _round(rounds, round_index)
    target = _target(action, current, to_state)
    if target == current.state:
        raise OverrideError(f"round {current.round} is already {target!r}")
    trigger = _legal_trigger(current, target)
    if trigger is None and not force:
        allowed = ", ".join(m.triggers_from(current.state)) or "nothing"
        raise OverrideError(
            f"round {current.round} cannot go from {current.state!r} to {target!r}: the table "
            f"allows {allowed} from {current.state!r}; --force moves it anyway (audited)"
        )
    return OverridePlan(
        action, who, reason, current.round, current.state, target, trigger, trigger is None
    )


def apply_override(plan: OverridePlan, rounds: RoundStore, daemon: DaemonDB) -> Round | None:
    """Apply a plan made by :func:`plan_override` and write its audit row."""
    at = now()
    if plan.action == "pause":
        daemon.put(PAUSED, {"who": plan.who, "at": at, "reason": plan.reason})
    elif plan.action == "resume":
        daemon.put(PAUSED, None)
    result = None
    if plan.round is not None and plan.to_state is not None:
        actor = f"override:{plan.who}"
        if plan.forced:
            result = rounds.force(plan.round, plan.to_state, actor=actor, reason=plan.reason)
        else:
            assert plan.trigger is not None
            result = rounds.fire(
                plan.round, plan.trigger, actor=actor, reason=plan.reason, expect=plan.from_state
            )
    daemon.record(
        Override(
            at, plan.who, plan.action, plan.round, plan.from_state, plan.to_state, plan.reason,
            plan.forced,
        )
    )  # fmt: skip
    return result


def override(paths: ProjectPaths, *, apply: bool, **options: Any) -> str:
    """Preview (or, with ``apply``, apply) one override of the project at ``paths``."""
    if options["action"] in ROUND_ACTIONS and not paths.state_file.is_file():
        raise OverrideError(f"no state file at {paths.state_file}: the project has not run yet")
    rounds, daemon = RoundStore(paths.state_file), DaemonDB(paths.daemon_db)
    try:
        plan = plan_override(rounds, daemon, **options)
        if not apply:
            return f"would {plan.describe()}\nrun again with --yes to apply"
        with pool_lock(paths.pool_lock):  # the daemon's steps wait meanwhile
            plan = plan_override(rounds, daemon, **options)  # again, under the lock
            apply_override(plan, rounds, daemon)
        return f"applied: {plan.describe()}"
    finally:
        rounds.close()
        daemon.close()


def _plan_daemon(daemon: DaemonDB, action: str, who: str, reason: str) -> OverridePlan:
    paused = daemon.paused()
    if action == "pause" and paused is not None:
        raise OverrideError(
            f"already paused by {paused['who']} at {paused['at']}: {paused['reason']}"
        )
    if action == "resume" and paused is None:
        raise OverrideError("the daemon is not paused")
    return OverridePlan(action, who, reason)


def _round(rounds: RoundStore, round_index: int | None) -> Round:
    if round_index is None:
        current = rounds.current()
        if current is None:
            raise OverrideError("there is no round yet")
        return current
    try:
        return rounds.get(round_index)
    except KeyError as error:
        raise OverrideError(f"there is no round {round_index}") from error


def _target(action: str, current: Round, to_state: str | None) -> str:
    if action == "cancel":
        return m.CANCELLED
    if action == "retry":
        if current.state != m.FAILED or current.failed_in is None:
            raise OverrideError(
                f"round {current.round} is {current.state!r}: only a failed round can be retried"
            )
        return current.failed_in
    if to_state not in m.STATES:
        raise OverrideError(f"unknown state {to_state!r}; states: {', '.join(m.STATES)}")
    return to_state


def _legal_trigger(current: Round, target: str) -> str | None:
    trigger = m.trigger_for(current.state, target)
    if trigger is None:
        return None
    try:
        reached = m.next_state(current.state, trigger, failed_in=current.failed_in)
    except m.IllegalTransition:
        return None
    return trigger if reached == target else None
