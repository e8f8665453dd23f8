"""The round state machine, declared as tables: the states with what each means to the daemon
(``STATE_TABLE``), and the transitions between them (``TRANSITIONS``).

A round walks ``pending → predicting → sampling → annotating → importing → training →
evaluating → completed``. A project with no model yet bootstraps round 0 straight from
``pending`` to ``sampling`` (random or zero-shot picks). Any working state can ``fail``
(retryable: ``retry`` returns to the state that failed) or be ``cancel``-led."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PENDING = "pending"
PREDICTING = "predicting"
SAMPLING = "sampling"
ANNOTATING = "annotating"
IMPORTING = "importing"
TRAINING = "training"
EVALUATING = "evaluating"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class StateRow:
    """One state and what the daemon needs to know about it."""

    name: str
    working: bool  # a round under way: it can fail or be cancelled, and retry returns to it
    in_worker: bool  # its step runs in the worker process (the ML stack), not in the daemon
    prestart: bool  # the worker is needed soon: the daemon starts it together with itself
    pool_closed: bool  # new samples wait: they would have no predictions when sampling reads
    terminal: bool  # nothing follows


Y, N = True, False
# state                 working  in_worker  prestart  pool_closed  terminal
STATE_TABLE = (
    StateRow(PENDING,     Y,       N,         Y,        N,           N),
    StateRow(PREDICTING,  Y,       Y,         Y,        Y,           N),
    StateRow(SAMPLING,    Y,       Y,         Y,        Y,           N),
    StateRow(ANNOTATING,  Y,       N,         N,        N,           N),
    StateRow(IMPORTING,   Y,       Y,         Y,        N,           N),
    StateRow(TRAINING,    Y,       Y,         Y,        N,           N),
    StateRow(EVALUATING,  Y,       Y,         Y,        N,           N),
    StateRow(COMPLETED,   N,       N,         N,        N,           Y),
    StateRow(FAILED,      N,       N,         N,        N,           N),
    StateRow(CANCELLED,   N,       N,         N,        N,           Y),
)  # fmt: skip

STATES = tuple(row.name for row in STATE_TABLE)
WORKING = tuple(row.name for row in STATE_TABLE if row.working)
TERMINAL = tuple(row.name for row in STATE_TABLE if row.terminal)
IN_WORKER = tuple(row.name for row in STATE_TABLE if row.in_worker)
PRESTART = tuple(row.name for row in STATE_TABLE if row.prestart)
POOL_CLOSED = tuple(row.name for row in STATE_TABLE if row.pool_closed)

# trigger        source                dest
TRANSITIONS: tuple[tuple[str, str | tuple[str, ...], str], ...] = (
    ("start",      PENDING,     PREDICTING),
    ("bootstrap",  PENDING,     SAMPLING),
    ("predicted",  PREDICTING,  SAMPLING),
    ("sampled",    SAMPLING,    ANNOTATING),
    ("annotated",  ANNOTATING,  IMPORTING),
    ("imported",   IMPORTING,   TRAINING),
    ("trained",    TRAINING,    EVALUATING),
    ("evaluated",  EVALUATING,  COMPLETED),
    ("fail",       WORKING,     FAILED),
    ("cancel",     (*WORKING, FAILED), CANCELLED),
    # ("retry", FAILED, <the state that failed>): one row per working state, see below
)  # fmt: skip


class IllegalTransition(ValueError):
    """A trigger that the table does not allow from the current state."""


@dataclass
class RoundState:
    """The machine's model: the state, and where a failed round failed."""

    state: str = PENDING
    failed_in: str | None = None


def _retry_rows() -> list[dict[str, Any]]:
    return [
        {"trigger": "retry", "source": FAILED, "dest": state, "conditions": _failed_in(state)}
        for state in WORKING
    ]


def _failed_in(state: str) -> Any:
    return lambda event: event.model.failed_in == state


def _machine(model: RoundState) -> Any:
    from transitions import Machine

    rows = [{"trigger": t, "source": list(s) if isinstance(s, tuple) else s, "dest": d}
            for t, s, d in TRANSITIONS]  # fmt: skip
    return Machine(
        model=model,
        states=list(STATES),
        transitions=rows + _retry_rows(),
        initial=model.state,
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
    )


def next_state(state: str, trigger: str, *, failed_in: str | None = None) -> str:
    """The state ``trigger`` leads to from ``state``; IllegalTransition if the table forbids it."""
    if state not in STATES:
        raise IllegalTransition(f"unknown state {state!r} (states: {', '.join(STATES)})")
    from transitions import MachineError

    model = RoundState(state=state, failed_in=failed_in)
    allowed = _machine(model).get_triggers(state)
    if trigger not in allowed:
        raise IllegalTransition(
            f"cannot {trigger!r} from {state!r}; "
            f"allowed from {state!r}: {', '.join(allowed) or 'nothing'}"
        )
    try:
        fired = bool(getattr(model, trigger)())
    except MachineError as error:
        raise IllegalTransition(str(error)) from error
    if not fired:
        raise IllegalTransition(f"cannot {trigger!r} from {state!r} (failed in {failed_in!r})")
    return model.state


def triggers_from(state: str) -> list[str]:
    """The triggers the table allows from ``state``."""
    return sorted(_machine(RoundState(state=state)).get_triggers(state))


def trigger_for(source: str, dest: str) -> str | None:
    """The trigger that leads from ``source`` to ``dest``, if the table has one."""
    if source == FAILED and dest in WORKING:
        return "retry"
    for trigger, sources, target in TRANSITIONS:
        if target == dest and source in (sources if isinstance(sources, tuple) else (sources,)):
            return trigger
    return None
