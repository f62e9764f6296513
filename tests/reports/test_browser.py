"""A clerk receives with one grade corrected, and a dispatcher reads the charts: in real Chromium, offline
to everything but our own origin. Screenshots go to ``HUB_SCREENSHOTS`` when it is set."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.pickups.models import Grade
from app.receiving import services
from tests.conftest import TEST_PASSWORD
from tests.support.browser import serve_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    # A page left mid-download leaves the compressing static file handler's file to the collector (as in tests/browser).
    pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning"),
]
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("HUB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)


def _logged_in(chromium: Any, url: str, email: str, landing: str) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport=DESKTOP)
    outside: list[str] = []

    def only_our_origin(route: Any) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_origin)
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**{landing}")
    return context, page, outside


def test_a_clerk_corrects_a_grade_and_the_report_charts_it(chromium, app, collected_pickup, create_user, dispatcher, db):  # type: ignore[no-untyped-def]
    clerk = create_user("hub", name="Hugo Hub")
    # One parcel received earlier today, with value and weight, so the charts have something to draw.
    earlier = collected_pickup(items=[{"sku": "PHN", "description": "Pixel 7", "quantity": 1, "reason": "Trade-in", "value": "300", "weight_kg": "0.2"}])
    services.receive_pickup(earlier, [services.ItemCheck(earlier.items[0].id, 1, Grade.A, "restock")], actor=clerk)
    db.session.commit()
    pickup = collected_pickup()
    phone, cable = pickup.items
    with serve_app(app) as url:
        context, page, outside = _logged_in(chromium, url, clerk.email, "/hub/")
        page.fill("#code", pickup.label_code)
        page.press("#code", "Enter")  # what a keyboard-wedge scanner does
        page.wait_for_selector(f"#grade-{phone.id}")
        assert "Rule 3: grade A → restock" in page.inner_text("main")
        page.select_option(f"#grade-{phone.id}", "C")
        page.select_option(f"#disposition-{phone.id}", "refurbish")
        _shot(page, "hub-receiving")
        page.click("text=Mark received")
        page.wait_for_selector("table.discrepancies")
        text = page.inner_text("main")
        assert "1 difference(s) from the door recorded" in text
        assert "Rule 5: grade C → refurbish" in text
        row = page.inner_text("table.discrepancies tbody tr")
        assert "grade" in row and "A" in row and "C" in row
        _shot(page, "hub-received")
        context.close()
        assert outside == []

        context, page, outside = _logged_in(chromium, url, dispatcher.email, "/dispatch/")
        page.goto(url + "/dispatch/reports")
        charts = page.locator("svg.chart")
        assert charts.count() == 5
        box = charts.first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("svg.chart rect").count() > 10  # bars were drawn, not only axes
        assert "300.00" in page.inner_text(".kpis")  # restock: 300 × 1.0
        _shot(page, "reports")
        context.close()
        assert outside == []
