"""The chain-of-custody certificate per pickup, the driver's photos on the hub page, the one-page report PDF."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from app.accounts.services import create_user as create_account
from app.extensions import db as _db
from app.hubs.services import create_hub
from app.pickups.models import Grade
from app.receiving import services
from tests.dispatch.test_evidence import collected  # noqa: F401  (a collected pickup with a photo and a signature)
from tests.reports.test_reports import DAY, seeded_day  # noqa: F401


def _text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


@pytest.fixture
def received(collected, create_user):  # type: ignore[no-untyped-def]  # noqa: F811
    pickup, condition, signature, hashes, taken = collected
    clerk = create_user("hub", name="Hugo Hub")
    phone, cable = pickup.items
    services.receive_pickup(pickup, [services.ItemCheck(phone.id, 1, Grade.C, "refurbish"), services.ItemCheck(cable.id, 2, Grade.B, "recycle")], actor=clerk)
    _db.session.commit()
    return pickup, clerk, condition, signature, hashes


def test_the_custody_certificate_names_every_hand_over(api_client, dispatcher, driver, received):
    pickup, clerk, _, signature, hashes = received
    text = _text(api_client(dispatcher).raw.get(f"/dispatch/pickups/{pickup.id}/custody.pdf"))
    assert f"Chain of custody: pickup {pickup.reference}" in text
    assert "Sanne de Vries" in text  # the customer, and the name given at the door
    assert f"Collected by {driver.name}" in text and "52.37520, 4.88400" in text  # the driver, where by the phone
    assert hashes[str(signature)] in text  # the signature's hash beside its image
    assert f"by {clerk.name}" in text and "Test Hub (TST)" in text  # the hub, who
    assert "disposition refurbish of 1, decided by Hugo Hub" in text and "disposition recycle of 2" in text
    assert "Difference (grade)" in text  # the door said B, the hub C


def test_the_clerk_checks_against_the_drivers_photos_before_receiving(api_client, create_user, collected):  # noqa: F811
    pickup, condition, signature, _, _ = collected
    page = api_client(create_user("hub")).raw.get(f"/hub/?code={pickup.label_code}").get_data(as_text=True)
    row = page.split('id="quantity-', 1)[0].rsplit("<tr>", 1)[-1]  # the first item's row, before its count field
    assert f"/api/v1/photos/{condition}/thumb" in row and "iPhone 13" in row
    assert f"/api/v1/photos/{signature}/thumb" in page.split("<table", 1)[0]  # the signature above the items


def test_clerks_of_the_hub_get_the_certificate_and_the_photos_others_do_not(api_client, received, db):
    pickup, clerk, condition, signature, _ = received
    own = api_client(clerk).raw
    page = own.get(f"/hub/?code={pickup.label_code}").get_data(as_text=True)
    assert f"/hub/pickups/{pickup.id}/custody.pdf" in page
    assert f"/api/v1/photos/{condition}/thumb" in page and f"/api/v1/photos/{signature}/thumb" in page
    assert own.get(f"/api/v1/photos/{condition}/thumb").status_code == 200  # the photos API lets this clerk see it
    assert "Chain of custody" in _text(own.get(f"/hub/pickups/{pickup.id}/custody.pdf"))

    elsewhere = create_hub(code="FAR", name="Far Hub", timezone="UTC")
    db.session.commit()
    far_clerk = create_account(email="far@example.test", password="far-password-123", role="hub", name="Far clerk", hub_id=elsewhere.id)
    _db.session.commit()
    stranger = api_client(far_clerk, password="far-password-123").raw
    page = stranger.get(f"/hub/?code={pickup.label_code}").get_data(as_text=True)
    assert "/thumb" not in page and "custody.pdf" not in page
    assert stranger.get(f"/api/v1/photos/{condition}/thumb").status_code == 404
    assert stranger.get(f"/hub/pickups/{pickup.id}/custody.pdf").status_code == 403


def test_a_driver_reaches_no_hub_settings_report_or_custody_page(api_client, driver, received):
    pickup = received[0]
    client = api_client(driver).raw
    for url in (
        "/hub/", f"/hub/?code={pickup.label_code}", "/hub/rules", "/dispatch/setup", "/dispatch/reports",
        f"/dispatch/reports.pdf?from={DAY}&to={DAY}", f"/dispatch/pickups/{pickup.id}/custody.pdf", f"/hub/pickups/{pickup.id}/custody.pdf",
    ):
        assert client.get(url).status_code == 403, url


def test_the_report_pdf_is_one_page_with_the_figures(api_client, dispatcher, hub, seeded_day):  # noqa: F811
    client = api_client(dispatcher).raw
    response = client.get(f"/dispatch/reports.pdf?from={DAY}&to={DAY}&hub={hub.id}")
    text = _text(response)
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1
    assert "Test Hub (TST)" in text and "401.00" in text and "0.5 kg" in text and "0.1 kg" in text and "66.7 %" in text
    assert "Pickups per day" in text and "Disposition mix" in text
    year = client.get(f"/dispatch/reports.pdf?from={DAY - timedelta(days=365)}&to={DAY}")
    assert len(PdfReader(io.BytesIO(year.data)).pages) == 1  # a long range makes thinner columns, never a second page
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=year.data, capture_output=True, check=True).stdout.decode()
        assert re.search(r"^Pages:\s+1$", info, re.M), info
    assert client.get(f"/dispatch/reports.pdf?from=yesterday&to={DAY}").status_code == 422
    assert client.get(f"/dispatch/reports.pdf?from={DAY}&to={date(2029, 1, 1)}").status_code == 422
