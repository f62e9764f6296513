"""Receiving that checks: hub count and grade, discrepancies, rules, value and landfill, the receive API."""
from decimal import Decimal

import pytest

from app.pickups.models import DiscrepancyKind, Grade, ItemDiscrepancy, Pickup, PickupItem, PickupStatus
from app.receiving import rules, services, valuation
from app.receiving.events import dispositions_set
from app.receiving.models import Disposition, DispositionRule, ItemDisposition
from tests.labels.tools import csrf_from


@pytest.fixture
def clerk(create_user):  # type: ignore[no-untyped-def]
    return create_user("hub", name="Hugo Hub")


@pytest.fixture
def clerk_api(api_client, clerk):  # type: ignore[no-untyped-def]
    return api_client(clerk)


def _valued(pickup, db):  # type: ignore[no-untyped-def]
    phone, cable = pickup.items
    phone.value, phone.weight_kg = Decimal("400.00"), Decimal("0.200")
    cable.value, cable.weight_kg = Decimal("10.00"), Decimal("0.050")
    db.session.commit()
    return phone, cable


# --- rules ---------------------------------------------------------------------------------------


def test_the_first_matching_rule_wins_and_names_itself(db):
    table = rules.rules_for(None)  # nothing stored: the defaults
    toner = rules.suggest(table, reason="Recycling", grade=Grade.A)
    assert toner.disposition is Disposition.RECYCLE and toner.because == "Rule 1: reason recycling → recycle"
    mind = rules.suggest(table, reason="Changed mind", grade=Grade.A)
    assert mind.disposition is Disposition.RESTOCK and mind.rule.number == 2
    assert rules.suggest(table, reason="Changed mind", grade=Grade.C).because == "Rule 5: grade C → refurbish"
    assert rules.suggest(table, reason="", grade=Grade.D).disposition is Disposition.RECYCLE
    assert rules.suggest(table, reason="", grade=None).because == "Rule 7: any item → refurbish"


def test_a_stored_rule_replaces_the_defaults_and_a_hub_rule_goes_first(db, hub):
    rules.add_rule(disposition="resell", category="phone")
    rules.add_rule(disposition="dispose", grade="D", hub_id=hub.id)
    db.session.commit()
    table = rules.rules_for(hub.id)
    assert table[0].disposition is Disposition.DISPOSE and table[0].hub_id == hub.id
    # The defaults were stored first so the admin's rule comes after them, in order.
    assert [r.disposition for r in table[1:]] == [r.disposition for r in rules.DEFAULT_RULES] + [Disposition.RESELL]
    assert rules.suggest(table, reason="", grade=Grade.D).because == "Rule 1 (this hub): grade D → dispose"
    last = db.session.query(DispositionRule).filter_by(category="phone").one()
    for _ in range(len(rules.DEFAULT_RULES)):
        rules.move_rule(last.id, -1)
    db.session.commit()
    phone = rules.suggest(rules.rules_for(None), reason="Recycling", category="Phone", grade=Grade.A)
    assert phone.disposition is Disposition.RESELL and phone.because.startswith("Rule 1: category phone")


def test_a_rule_with_a_made_up_disposition_is_refused(db):
    from app.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        rules.add_rule(disposition="burn")
    assert "disposition" in refused.value.fields
    assert db.session.query(DispositionRule).count() == 0


# --- the service ----------------------------------------------------------------------------------


def test_a_corrected_grade_and_a_missing_item_each_give_a_discrepancy_with_both_sides(collected_pickup, clerk, db):
    pickup = collected_pickup()  # phone x1 graded A, cable x2 graded D at the door
    phone, cable = pickup.items
    result = services.receive_pickup(
        pickup,
        [services.ItemCheck(phone.id, 1, Grade.C, "refurbish"), services.ItemCheck(cable.id, 0, None, None)],
        actor=clerk,
        version=pickup.version,
    )
    db.session.commit()
    found = {(d.item_id, d.kind, d.door, d.hub, d.recorded_by_id, d.driver_id) for d in db.session.query(ItemDiscrepancy)}
    assert found == {
        (phone.id, DiscrepancyKind.GRADE, "A", "C", clerk.id, pickup.driver_id),
        (cable.id, DiscrepancyKind.MISSING, "2", "0", clerk.id, pickup.driver_id),
    }
    assert all(d.recorded_at is not None for d in result.discrepancies)
    item = db.session.get(PickupItem, phone.id)
    # The door's record stays; the hub's is written beside it.
    assert (item.grade, item.received_grade, item.collected_quantity, item.received_quantity) == (Grade.A, Grade.C, 1, 1)
    # Only what arrived is decided; the rule is the one for the hub's grade.
    [decision] = result.dispositions
    assert decision.pickup_item_id == phone.id and decision.rule_text == "Rule 5: grade C → refurbish"
    assert db.session.get(Pickup, pickup.id).events[-1].data["discrepancies"][0]["kind"] in ("grade", "missing")


def test_an_unexpected_item_is_added_as_extra_with_its_decision(collected_pickup, clerk, db):
    pickup = collected_pickup()
    lines = [services.ItemCheck(i.id, i.collected_quantity, i.grade, "recycle") for i in pickup.items]
    extra = services.ExtraCheck("", "Charger, white", 1, Grade.B, "resell", value=Decimal("20"), weight_kg=Decimal("0.1"))
    result = services.receive_pickup(pickup, lines, [extra], actor=clerk)
    db.session.commit()
    added = db.session.query(PickupItem).filter_by(unexpected=True).one()
    assert (added.description, added.received_quantity, added.quantity) == ("Charger, white", 1, 0)
    assert [(d.kind, d.door, d.hub) for d in result.discrepancies] == [(DiscrepancyKind.EXTRA, None, "1")]
    decision = db.session.query(ItemDisposition).filter_by(pickup_item_id=added.id).one()
    assert (decision.disposition, decision.recovered_value, decision.kept_from_landfill_kg) == (Disposition.RESELL, Decimal("12.00"), Decimal("0.100"))


def test_recovered_value_is_value_times_count_times_rate_and_disposal_keeps_nothing(collected_pickup, clerk, db):
    pickup = collected_pickup()
    phone, cable = _valued(pickup, db)
    services.receive_pickup(
        pickup, [services.ItemCheck(phone.id, 1, Grade.A, "resell"), services.ItemCheck(cable.id, 2, Grade.D, "dispose")], actor=clerk
    )
    db.session.commit()
    by_item = {d.pickup_item_id: d for d in db.session.query(ItemDisposition)}
    assert (by_item[phone.id].recovered_value, by_item[phone.id].kept_from_landfill_kg) == (Decimal("240.00"), Decimal("0.200"))
    assert (by_item[cable.id].recovered_value, by_item[cable.id].kept_from_landfill_kg) == (Decimal("0.00"), Decimal("0.000"))
    assert by_item[cable.id].overridden  # grade D suggested recycle; the clerk chose dispose


def test_an_admins_rate_applies_to_decisions_from_then_on(collected_pickup, clerk, db):
    valuation.set_rate("resell", "0,5", True)
    db.session.commit()
    pickup = collected_pickup()
    phone, cable = _valued(pickup, db)
    services.receive_pickup(pickup, [services.ItemCheck(phone.id, 1, Grade.A, "resell"), services.ItemCheck(cable.id, 2, Grade.D, "recycle")], actor=clerk)
    assert db.session.query(ItemDisposition).filter_by(pickup_item_id=phone.id).one().recovered_value == Decimal("200.00")
    with pytest.raises(Exception, match="between 0 and 1"):
        valuation.set_rate("resell", "1.5", True)


def test_return_to_customer_needs_a_reason_and_nothing_is_half_written(collected_pickup, clerk, db):
    from app.core.errors import InvalidInput

    pickup = collected_pickup()
    phone, cable = pickup.items
    lines = [services.ItemCheck(phone.id, 1, Grade.A, "return_to_customer"), services.ItemCheck(cable.id, 1, Grade.D, "recycle")]
    with pytest.raises(InvalidInput) as refused:
        services.receive_pickup(pickup, lines, actor=clerk)
    assert f"reason-{phone.id}" in refused.value.fields
    db.session.rollback()
    assert db.session.query(ItemDiscrepancy).count() == 0 and db.session.query(ItemDisposition).count() == 0
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_dispositions_set_is_announced_once_with_every_item(collected_pickup, clerk, db):
    heard = []

    def listen(sender, events):  # type: ignore[no-untyped-def]
        heard.append(events)

    dispositions_set.connect(listen)
    try:
        pickup = collected_pickup()
        services.receive_pickup(pickup, [services.ItemCheck(i.id, i.collected_quantity, i.grade, "recycle") for i in pickup.items], actor=clerk)
    finally:
        dispositions_set.disconnect(listen)
    assert len(heard) == 1 and len(heard[0]) == 1
    event = heard[0][0]
    assert event.pickup.id == pickup.id and event.actor_id == clerk.id
    assert event.dispositions == {i.id: "recycle" for i in pickup.items}
    assert sorted((i.item_id, i.disposition, i.rule) for i in event.items) == sorted(
        [(pickup.items[0].id, "recycle", "Rule 3: grade A → restock"), (pickup.items[1].id, "recycle", "Rule 6: grade D → recycle")]
    )


# --- the API ---------------------------------------------------------------------------------------


def _body(pickup, **overrides):  # type: ignore[no-untyped-def]
    phone, cable = pickup.items[:2]
    body = {
        "version": pickup.version,
        "items": [
            {"item_id": phone.id, "quantity": 1, "grade": "B", "disposition": "resell", "value": "400.00", "weight_kg": 0.2},
            {"item_id": cable.id, "quantity": 1, "grade": "D", "disposition": "recycle"},
        ],
        "extra_items": [{"description": "Phone case", "quantity": 1, "grade": "A", "disposition": "restock"}],
    }
    body.update(overrides)
    return body


def test_the_receive_api_answers_the_pickup_with_its_discrepancies(clerk_api, collected_pickup, db):
    pickup = collected_pickup()
    phone, cable = pickup.items
    response = clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "received" and body["already_received"] is False
    assert "customer_url" not in body  # its token can cancel: clerks work from the label code
    extra_id = next(i["id"] for i in body["items"] if i["unexpected"])
    assert sorted(body["discrepancies"], key=lambda d: (d["item_id"], d["kind"])) == sorted(
        [
            {"item_id": phone.id, "kind": "grade", "door": "A", "hub": "B"},
            {"item_id": cable.id, "kind": "quantity", "door": "2", "hub": "1"},
            {"item_id": extra_id, "kind": "extra", "door": None, "hub": "1"},
        ],
        key=lambda d: (d["item_id"], d["kind"]),
    )
    by_id = {i["id"]: i for i in body["items"]}
    assert by_id[phone.id]["disposition"]["disposition"] == "resell"
    assert by_id[phone.id]["disposition"]["recovered_value"] == "240.00"
    assert by_id[phone.id]["disposition"]["rule"] == "Rule 4: grade B → resell"
    assert by_id[phone.id]["value"] == "400.00"
    # Again: nothing changes, the same answer.
    again = clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup))
    assert again.status_code == 200 and again.json["already_received"] is True
    assert len(again.json["discrepancies"]) == 3
    assert db.session.query(ItemDisposition).count() == 3


def test_a_stale_version_is_a_409_and_writes_nothing(clerk_api, collected_pickup, db):
    pickup = collected_pickup()
    response = clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup, version=pickup.version - 1))
    assert response.status_code == 409 and response.json["error"]["code"] == "stale_version"
    assert db.session.query(ItemDiscrepancy).count() == 0
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


@pytest.mark.parametrize(
    "change",
    [
        {"items": [{"item_id": 1, "quantity": -1, "disposition": "resell"}]},
        {"items": [{"item_id": 1, "quantity": 1, "disposition": "throw-away"}]},
        {"extra_items": [{"description": "", "disposition": "restock"}]},
        {"version": "seven"},
        {"items": "all of them"},
    ],
)
def test_bad_input_is_a_422_naming_the_field(clerk_api, collected_pickup, db, change):
    pickup = collected_pickup()
    response = clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup, **change))
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"]
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_leaving_an_expected_item_out_or_naming_a_foreign_one_is_refused(clerk_api, collected_pickup, db):
    pickup, other = collected_pickup(), collected_pickup()
    phone, _cable = pickup.items
    only_phone = [{"item_id": phone.id, "quantity": 1, "grade": "A", "disposition": "restock"}]
    response = clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup, items=only_phone))
    assert response.status_code == 422 and "0 if it is missing" in response.json["error"]["message"]
    foreign = [*only_phone, {"item_id": other.items[0].id, "quantity": 1, "disposition": "restock"}]
    assert clerk_api.post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup, items=foreign)).status_code == 422
    assert db.session.query(PickupItem).filter_by(unexpected=True).count() == 0


@pytest.mark.parametrize("role", ["driver", "dispatcher"])
def test_drivers_and_dispatchers_cannot_use_the_receive_api(api_client, create_user, collected_pickup, db, role):
    pickup = collected_pickup()
    response = api_client(create_user(role)).post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup))
    assert response.status_code == 403
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_a_clerk_of_another_hub_is_told_to_forward_it(api_client, create_user, collected_pickup, db):
    from app.hubs.services import create_hub

    other = create_hub(code="RTM", name="Rotterdam Hub")
    db.session.commit()
    pickup = collected_pickup(hub_id=other.id)
    response = api_client(create_user("hub")).post(f"/api/v1/pickups/{pickup.id}/receive", json=_body(pickup))
    assert response.status_code == 409 and response.json["error"]["code"] == "wrong_hub"


# --- the page ----------------------------------------------------------------------------------------


def test_the_page_shows_the_rule_and_takes_a_corrected_grade(api_client, clerk, collected_pickup, db):
    client = api_client(clerk).raw
    pickup = collected_pickup()
    phone, cable = pickup.items
    page = client.get(f"/hub/?code={pickup.label_code}").text
    assert "Rule 3: grade A → restock" in page and "Rule 6: grade D → recycle" in page
    form = {
        "csrf_token": csrf_from(page), "version": str(pickup.version),
        f"quantity-{phone.id}": "1", f"grade-{phone.id}": "C", f"disposition-{phone.id}": "refurbish",
        f"quantity-{cable.id}": "2", f"grade-{cable.id}": "D", f"disposition-{cable.id}": "recycle",
    }
    response = client.post(f"/hub/pickups/{pickup.id}/receive", data=form)
    assert response.status_code == 302
    after = client.get(response.headers["Location"]).text
    assert "1 difference(s) from the door recorded" in after
    assert "Differences from the door (1)" in after and "<td>grade</td><td>A</td><td>C</td>" in after
    assert "Rule 5: grade C → refurbish" in after


def test_an_unreadable_count_is_a_422_on_the_page(api_client, clerk, collected_pickup, db):
    client = api_client(clerk).raw
    pickup = collected_pickup()
    phone, _ = pickup.items
    page = client.get(f"/hub/?code={pickup.label_code}").text
    response = client.post(f"/hub/pickups/{pickup.id}/receive", data={"csrf_token": csrf_from(page), f"quantity-{phone.id}": "lots"})
    assert response.status_code == 422 and "Not a number." in response.text
    assert db.session.get(Pickup, pickup.id).status is PickupStatus.COLLECTED


def test_only_admins_change_rules(api_client, clerk, create_user, db):
    client = api_client(clerk).raw
    page = client.get("/hub/rules")
    assert page.status_code == 200 and "Rule 1: reason recycling → recycle" in page.text
    assert client.post("/hub/rules", data={"csrf_token": csrf_from(page.text), "disposition": "dispose"}).status_code == 403
    assert api_client(create_user("driver")).raw.get("/hub/rules").status_code == 403
    admin = api_client(create_user("admin")).raw
    token = csrf_from(admin.get("/hub/rules").text)
    assert admin.post("/hub/rules", data={"csrf_token": token, "disposition": "dispose", "grade": "D"}).status_code == 302
    assert "grade D → dispose" in admin.get("/hub/rules").text
    assert admin.post("/hub/rates", data={"csrf_token": token, "rate-resell": "0.7", "landfill-resell": "on"}).status_code == 302
    assert valuation.current_rates()[Disposition.RESELL].rate == Decimal("0.7")


def test_a_receipt_queues_one_item_disposition_set_webhook_per_item(api_client, clerk, collected_pickup, db):
    from app.outbox.models import OutboxMessage
    from app.webhooks.services import create_endpoint

    create_endpoint("https://receiver.example/hooks", ["item.disposition_set"], actor=None)
    db.session.commit()
    pickup = collected_pickup()
    phone, cable = pickup.items
    response = api_client(clerk).post(f"/api/v1/pickups/{pickup.id}/receive", json={
        "version": pickup.version,
        "items": [{"item_id": phone.id, "quantity": 1, "grade": "A", "disposition": "restock"}, {"item_id": cable.id, "quantity": 0}],
    })
    assert response.status_code == 200, response.json
    queued = db.session.query(OutboxMessage).filter_by(topic="item.disposition_set").all()
    assert len(queued) == 1
    assert "restock" in str(queued[0].payload) and str(phone.id) in str(queued[0].payload)
