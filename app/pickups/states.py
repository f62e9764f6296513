"""The pickup status state machine: the only place that says which moves are legal."""
from __future__ import annotations

from app.core.errors import Conflict
from app.pickups.models import PickupStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.UNASSIGNED: frozenset({S.ASSIGNED, S.CANCELLED}),
    # assigned → assigned is a reassignment to another driver.
    S.ASSIGNED: frozenset({S.ASSIGNED, S.UNASSIGNED, S.COLLECTED, S.PARTIALLY_COLLECTED, S.FAILED, S.CANCELLED}),
    # A failed pickup can be tried again on another day, or given up.
    S.FAILED: frozenset({S.ASSIGNED, S.UNASSIGNED, S.CANCELLED}),
    S.COLLECTED: frozenset({S.RECEIVED}),
    S.PARTIALLY_COLLECTED: frozenset({S.RECEIVED}),
    S.CANCELLED: frozenset(),
    S.RECEIVED: frozenset(),
}

# Statuses in which the pickup's goods are still at the customer's door.
OPEN_STATUSES = frozenset({S.UNASSIGNED, S.ASSIGNED, S.FAILED})
FINAL_STATUSES = frozenset({S.CANCELLED, S.RECEIVED})

_WORDS = {
    S.UNASSIGNED: "not assigned to a driver",
    S.ASSIGNED: "assigned to a driver",
    S.COLLECTED: "collected",
    S.PARTIALLY_COLLECTED: "partly collected",
    S.FAILED: "failed",
    S.CANCELLED: "cancelled",
    S.RECEIVED: "received at the hub",
}


def describe(status: S) -> str:
    return _WORDS[status]


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, current: S, target: S):
        super().__init__(
            f"This pickup is {describe(current)}, so it cannot become {describe(target)}.",
            fields={"status": [f"{current.value} → {target.value} is not allowed."]},
        )
        self.current = current
        self.target = target


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: S, target: S) -> None:
    """Raise InvalidTransition unless ``current → target`` is allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
