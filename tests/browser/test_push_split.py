"""A push refused with 413 is split by the phone until it fits; an action too large alone leaves the queue as a rejection."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.pickups.models import PickupEvent
from app.sync.models import SyncMutation
from tests.browser.conftest import idb, wait_until
from tests.browser.test_sync_edges import SYNCED, driver_route, open_synced

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")]

QUEUE_NOTES = """async ({ pickupId, texts }) => {
    const { enqueue } = await import('/static/driver/outbox.js');
    for (const text of texts) await enqueue('note', { pickup_id: pickupId, text, photo_ids: [] }, { pickupId });
}"""


def test_a_batch_refused_with_413_is_halved_until_it_fits_and_every_action_lands_once(context, live_server):
    pickup_id = driver_route(live_server)[0]
    page = open_synced(context, live_server)
    context.set_offline(True)
    # Eight notes of about 450 bytes each, and in the middle one that alone is over the limit
    # (2,000 two-byte characters).
    texts = [f"Note {n}: " + "gate code 4711, ring at the side door. " * 10 for n in range(1, 9)]
    texts.insert(4, "é" * 2000)
    page.evaluate(QUEUE_NOTES, {"pickupId": pickup_id, "texts": texts})
    assert len(idb(page, "outbox")) == 9

    live_server.app.config["SYNC_MAX_PUSH_BYTES"] = 3000
    pushes: list[tuple[int, list[int]]] = []
    stand_ins: list[dict] = []

    def seen(response):  # type: ignore[no-untyped-def]
        if response.url.endswith("/api/v1/sync/push"):
            sent = response.request.post_data_json or {}
            pushes.append((response.status, [m["id"] for m in sent.get("mutations", [])]))
            stand_ins.extend(m for m in sent.get("mutations", []) if "too_large" in m)

    page.on("response", seen)
    context.set_offline(False)
    wait_until(page, SYNCED, timeout=60, message="the outbox synced")

    # The first push carried all nine and was refused; halves of it followed, oldest first.
    assert pushes[0] == (413, list(range(1, 10))), pushes
    assert pushes[1] == (413, [1, 2, 3, 4, 5]), pushes
    accepted = [i for status, ids in pushes if status == 200 for i in ids]
    assert sorted(accepted) == list(range(1, 10)), pushes  # each id accepted in exactly one push
    # The long note, alone still too large, went as a stand-in without its text.
    assert [(m["id"], m["args"], m["too_large"]["bytes"] > 3000) for m in stand_ins] == [(5, {"pickup_id": pickup_id}, True)]
    assert idb(page, "outbox") == []

    def stored():  # type: ignore[no-untyped-def]
        from app.extensions import db

        records = db.session.execute(select(SyncMutation.mutation_id, SyncMutation.status, SyncMutation.code).order_by(SyncMutation.mutation_id)).all()
        per_mutation = dict(
            db.session.execute(
                select(PickupEvent.mutation_id, func.count()).where(PickupEvent.pickup_id == pickup_id, PickupEvent.mutation_id.is_not(None)).group_by(PickupEvent.mutation_id)
            ).all()
        )
        return [(m, s.value, c) for m, s, c in records], per_mutation

    records, events = live_server.query(stored)
    # Each of the nine processed exactly once, in order; the oversized one rejected with its own code.
    assert [m for m, _, _ in records] == list(range(1, 10))
    assert [s for _, s, _ in records] == ["applied"] * 4 + ["rejected"] + ["applied"] * 4
    assert records[4][2] == "payload_too_large"
    # Every applied note is on the pickup's timeline exactly once.
    assert {m: n for m, n in events.items() if m != 5} == dict.fromkeys((1, 2, 3, 4, 6, 7, 8, 9), 1)

    # The driver sees why the long note did not go, on the pickup.
    notices = idb(page, "notices")
    assert [n["code"] for n in notices] == ["payload_too_large"]
    page.goto(page.url.split("#")[0] + f"#/p/{pickup_id}")
    page.wait_for_selector("[data-notice='payload_too_large']")
    assert "too large to send" in page.inner_text("[data-notice='payload_too_large']")
