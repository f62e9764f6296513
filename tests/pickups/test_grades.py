"""Honest grades: the pickup records only the grade the driver chose, never a default."""
import pytest

from app.core.models import utcnow
from app.pickups import collection
from app.pickups.models import Grade, PickupStatus
from app.pickups.timeline import Evidence


def test_a_collected_item_without_a_grade_is_refused_and_nothing_is_written(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    items = [collection.CollectedItem(i.id, i.quantity, None, None, []) for i in pickup.items]
    with pytest.raises(collection.FieldActionRefused) as refused:
        collection.collect_pickup(pickup, items, driver=driver, evidence=Evidence(server_time=utcnow()))
    assert refused.value.code == "grade_required" and refused.value.keep_facts
    assert set(refused.value.fields["items"]) == {str(i.id) for i in pickup.items}
    assert pickup.status is PickupStatus.ASSIGNED
    assert all(i.grade is None and i.collected_quantity is None for i in pickup.items)


def test_an_item_left_behind_needs_no_grade_and_the_chosen_grade_is_kept(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    first, *rest = pickup.items
    items = [collection.CollectedItem(first.id, first.quantity, Grade.B, None, [])]
    items += [collection.CollectedItem(i.id, 0, None, None, []) for i in rest]
    collection.collect_pickup(pickup, items, driver=driver, evidence=Evidence(server_time=utcnow()))
    assert first.grade is Grade.B
    assert all(i.grade is None for i in rest)
