import pytest

from app.pickups.models import PickupStatus as S
from app.pickups.states import TRANSITIONS, InvalidTransition, can_transition, check_transition


def test_every_status_has_a_rule():
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.UNASSIGNED, S.ASSIGNED),
        (S.ASSIGNED, S.COLLECTED),
        (S.ASSIGNED, S.PARTIALLY_COLLECTED),
        (S.ASSIGNED, S.FAILED),
        (S.FAILED, S.ASSIGNED),
        (S.COLLECTED, S.RECEIVED),
        (S.PARTIALLY_COLLECTED, S.RECEIVED),
        (S.ASSIGNED, S.CANCELLED),
    ],
)
def test_allowed_moves(current, target):
    assert can_transition(current, target)
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.UNASSIGNED, S.COLLECTED),
        (S.CANCELLED, S.ASSIGNED),
        (S.RECEIVED, S.CANCELLED),
        (S.COLLECTED, S.CANCELLED),
        (S.COLLECTED, S.ASSIGNED),
        (S.UNASSIGNED, S.RECEIVED),
    ],
)
def test_illegal_moves_raise_a_conflict_with_plain_words(current, target):
    with pytest.raises(InvalidTransition) as raised:
        check_transition(current, target)
    assert raised.value.status == 409
    assert "cannot become" in raised.value.message


def test_final_statuses_lead_nowhere():
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert TRANSITIONS[S.RECEIVED] == frozenset()
