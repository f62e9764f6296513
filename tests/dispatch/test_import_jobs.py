"""Big CSV imports off the request: checked in full, queued, created by the worker chunk by chunk."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.errors import InvalidInput
from app.core.models import utcnow
from app.dispatch import imports
from app.dispatch.models import CsvImport
from app.outbox.services import work
from app.pickups.models import Pickup
from tests.dispatch.conftest import import_row, make_csv


@pytest.fixture
def small_jobs(app):  # type: ignore[no-untyped-def]
    """Files of more than 4 pickups go to the background, 3 pickups a chunk."""
    app.config.update(IMPORT_BACKGROUND_PICKUPS=4, IMPORT_CHUNK_PICKUPS=3)
    return app


def _references(db) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(db.session.scalars(select(Pickup.reference)))


def _queue(db, dispatcher, hub, count: int) -> CsvImport:  # type: ignore[no-untyped-def]
    rows = [import_row(reference=f"RMA-{n:02d}", sku=f"S{n}") for n in range(count)]
    csv_import = imports.store_import(make_csv(rows).encode(), filename="big.csv", uploader=dispatcher, hub=hub)
    result = imports.commit_import(csv_import.id, actor=dispatcher)
    db.session.commit()
    assert result.queued and result.pickups == []
    return csv_import


def test_a_big_file_is_queued_and_the_worker_creates_it_in_chunks(small_jobs, hub, dispatcher, db):
    csv_import = _queue(db, dispatcher, hub, 8)
    assert _references(db) == []  # nothing in the request
    import_id = imports.claim_import_job()
    assert import_id == csv_import.id
    assert imports.run_import_chunk(import_id) is True
    db.session.expire_all()
    job = imports.job_status(db.session.get(CsvImport, import_id))
    assert (job["status"], job["pickups_done"], job["pickups_total"]) == ("running", 3, 8)
    assert len(_references(db)) == 3  # committed: drivers and pulls see the first part already
    while imports.run_import_chunk(import_id):
        pass
    db.session.expire_all()
    job = imports.job_status(db.session.get(CsvImport, import_id))
    assert (job["status"], job["pickups_done"], job["error"]) == ("done", 8, None)
    assert _references(db) == [f"RMA-{n:02d}" for n in range(8)]
    assert imports.claim_import_job() is None


def test_the_outbox_worker_runs_waiting_import_jobs(small_jobs, hub, dispatcher, db):
    _queue(db, dispatcher, hub, 5)
    work(once=True)
    assert len(_references(db)) == 5


def test_a_big_file_with_bad_rows_is_refused_in_its_request_and_never_queued(small_jobs, hub, dispatcher, db):
    rows = [import_row(reference=f"RMA-{n}") for n in range(8)]
    rows[6]["quantity"] = "0"
    csv_import = imports.store_import(make_csv(rows).encode(), filename="big.csv", uploader=dispatcher, hub=hub)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        imports.commit_import(csv_import.id, actor=dispatcher)
    assert "Row 8, quantity" in refused.value.message
    db.session.rollback()
    assert imports.claim_import_job() is None
    assert db.session.get(CsvImport, csv_import.id).job_status is None and _references(db) == []


class Crash(BaseException):
    """The worker process dying mid-chunk (not an error it could catch and record)."""


def test_a_worker_dying_mid_chunk_leaves_no_half_chunk_and_the_job_resumes_after_the_last_one(small_jobs, hub, dispatcher, db, monkeypatch):
    csv_import = _queue(db, dispatcher, hub, 8)
    import_id = imports.claim_import_job()
    assert imports.run_import_chunk(import_id)
    import app.pickups.services as pickup_services

    real_insert_items = pickup_services._insert_items

    def die_after_the_pickups_are_written(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Crash

    monkeypatch.setattr(pickup_services, "_insert_items", die_after_the_pickups_are_written)
    with pytest.raises(Crash):
        imports.run_import_chunk(import_id)
    db.session.rollback()  # the connection of a dead process: its transaction is gone
    assert len(_references(db)) == 3  # the first chunk only, with every item
    items_of = db.session.scalars(select(func.count(Pickup.id)).where(~Pickup.items.any())).one()
    assert items_of == 0
    monkeypatch.setattr(pickup_services, "_insert_items", real_insert_items)
    assert imports.claim_import_job() is None  # its lease still holds
    db.session.execute(update(CsvImport).where(CsvImport.id == import_id).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert imports.run_import_jobs() == 1
    db.session.expire_all()
    assert db.session.get(CsvImport, csv_import.id).job_status == "done"
    assert _references(db) == [f"RMA-{n:02d}" for n in range(8)]  # each once


def test_a_reference_taken_meanwhile_stops_the_job_keeping_the_chunks_before_it(small_jobs, hub, dispatcher, create_pickup, db):
    csv_import = _queue(db, dispatcher, hub, 8)
    create_pickup(reference="RMA-04")  # in the second chunk, created after the file was checked
    db.session.commit()
    assert imports.run_import_jobs() == 1
    db.session.expire_all()
    job = imports.job_status(db.session.get(CsvImport, csv_import.id))
    assert job["status"] == "failed" and job["pickups_done"] == 3
    assert "Stopped after 3 of 8 pickups" in job["error"] and "RMA-04" in job["error"]
    assert _references(db) == ["RMA-00", "RMA-01", "RMA-02", "RMA-04"]


def test_api_answers_202_with_a_job_for_a_big_file_and_the_job_url_shows_its_progress(small_jobs, api_client, dispatcher, hub, db):
    api = api_client(dispatcher)
    text = make_csv([import_row(reference=f"RMA-{n}") for n in range(6)])
    answer = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(text.encode()), "r.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.json
    job = answer.json["job"]
    assert (answer.json["pickups"], answer.json["pickup_ids"], job["status"], job["pickups_done"]) == (6, [], "queued", 0)
    imports.run_import_jobs()
    progress = api.get(job["status_url"])
    assert progress.status_code == 200
    assert (progress.json["status"], progress.json["pickups_done"], progress.json["pickups_total"]) == ("done", 6, 6)
    small = make_csv([import_row(reference=f"S-{n}") for n in range(2)])
    answer = api.post("/api/v1/pickups/import", data={"file": (io.BytesIO(small.encode()), "s.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 201 and len(answer.json["pickup_ids"]) == 2 and "job" not in answer.json


def test_console_shows_a_queued_import_progressing_and_then_done(small_jobs, console, dispatcher, hub, db):
    text = make_csv([import_row(reference=f"RMA-{n}") for n in range(6)])
    data = {"hub_id": hub.id, "file": (io.BytesIO(text.encode()), "r.csv"), "csrf_token": console.token}
    upload = console.raw.post("/dispatch/import", data=data, content_type="multipart/form-data")
    preview_url = upload.location
    commit = console.post(preview_url + "/commit")
    assert commit.status_code == 303 and commit.location.endswith(preview_url)
    page = console.get(preview_url).get_data(as_text=True)
    assert "is being imported" in page and "0 of 6 pickups created" in page and "import-progress.js" in page
    status = console.get(preview_url + "/status")
    assert status.json["status"] == "queued"
    imports.run_import_jobs()
    done = console.get(preview_url + "/status").json
    assert (done["status"], done["pickups_done"], done["pickups_total"]) == ("done", 6, 6) and done["finished_at"]
    page = console.get(preview_url).get_data(as_text=True)
    assert "is imported" in page and "6 pickups were created" in page


def test_a_stopping_worker_gives_the_job_back_between_chunks_and_the_next_one_finishes_it(small_jobs, hub, dispatcher, db):
    csv_import = _queue(db, dispatcher, hub, 8)
    asked = []

    def stop_after_the_first_chunk() -> bool:
        asked.append(1)
        return len(asked) > 1

    assert imports.run_import_jobs(stop_after_the_first_chunk) == 1
    db.session.expire_all()
    job = db.session.get(CsvImport, csv_import.id)
    assert (job.job_status, job.pickups_done) == ("running", 3)
    assert imports.run_import_jobs() == 1  # its lease was given back: no wait for it to run out
    db.session.expire_all()
    assert db.session.get(CsvImport, csv_import.id).job_status == "done" and len(_references(db)) == 8
