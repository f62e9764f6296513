"""The exceptions list: failed pickups, facts to review, refused driver actions, each with its action."""
from __future__ import annotations

from app.core.models import utcnow
from app.sync.exceptions import open_exceptions
from tests.sync.conftest import collect_all


def test_failed_review_and_rejected_actions_are_listed_with_their_action(api_client, phone, driver, dispatcher, create_pickup, db):  # type: ignore[no-untyped-def]
    from app.pickups.services import cancel_pickup

    failed = create_pickup(driver=driver)
    cancelled = create_pickup(driver=driver)
    p = phone()
    p.push(p.mutation("fail_pickup", pickup_id=failed.id, reason="not_home", notes="Nobody opened", photo_ids=[]))
    cancel_pickup(cancelled, "Customer called", actor=dispatcher)
    db.session.commit()
    # Collected on a pickup dispatch had cancelled: refused, the facts kept for review.
    p.push(p.mutation("collect_items", pickup_id=cancelled.id, items=collect_all(cancelled)))
    p.push(p.mutation("arrive", pickup_id=999999))

    found = open_exceptions(utcnow())
    assert [x.id for x in found.failed] == [failed.id]
    assert any(e.pickup_id == cancelled.id for e in found.review)
    assert {m.code for m, _ in found.rejected} >= {"not_your_pickup"}

    page = api_client(dispatcher).raw.get("/dispatch/exceptions").get_data(as_text=True)
    assert failed.reference in page and "Rebook" in page and "Nobody opened" in page
    assert cancelled.reference in page and "not_your_pickup" in page


def test_exceptions_are_for_dispatch_only(api_client, driver, db):  # type: ignore[no-untyped-def]
    assert api_client(driver).raw.get("/dispatch/exceptions").status_code == 403
