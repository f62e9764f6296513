"""The customer's link in a real phone-sized Chromium: it reads well, loads only our files, and prints one clean 4×6 label."""
import pytest

from app.labels.codes import format_label_code
from tests.labels.tools import pdf_page_sizes, pdf_to_pngs, zbar_decode
from tests.support.browser import serve_app

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(app, chromium):  # type: ignore[no-untyped-def]
    with serve_app(app) as base_url:
        context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
        page = context.new_page()
        page.problems = []  # type: ignore[attr-defined]
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))  # type: ignore[attr-defined]
        page.on("request", lambda r: r.url.startswith(base_url) or page.problems.append(f"foreign request {r.url}"))  # type: ignore[attr-defined]
        page.base_url = base_url  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()


def test_customer_page_fits_a_phone_and_saves_notes(phone, create_pickup, driver, token_of, tmp_path):
    pickup = create_pickup(driver=driver)
    phone.goto(f"{phone.base_url}/r/{token_of(pickup)}")
    assert phone.get_by_role("heading", level=1).inner_text() == "A driver will come to collect your return."
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    label = phone.locator(".label-preview img")
    assert label.evaluate("img => img.complete && img.naturalWidth") == 812
    assert phone.get_by_role("link", name="Print label").is_visible()
    phone.screenshot(path=str(tmp_path / "customer.png"), full_page=True)

    phone.get_by_label("Notes for the driver").fill("Gate code 4711, third floor")
    phone.get_by_role("button", name="Save notes").click()
    assert phone.get_by_role("status").inner_text() == "Thank you. Your driver will see these notes."
    assert phone.get_by_label("Notes for the driver").input_value() == "Gate code 4711, third floor"
    assert phone.problems == []


def test_print_page_prints_exactly_one_4x6_label_that_scans(phone, create_pickup, token_of, tmp_path):
    pickup = create_pickup()
    phone.goto(f"{phone.base_url}/r/{token_of(pickup)}/print")
    phone.wait_for_load_state("networkidle")
    assert phone.get_by_role("img", name=f"Return label {format_label_code(pickup.label_code)}").evaluate("img => img.naturalWidth") > 0
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    pdf = tmp_path / "printed.pdf"
    phone.pdf(path=str(pdf), prefer_css_page_size=True)
    assert pdf_page_sizes(pdf) == [(288.0, 432.0)]  # one page, 4 × 6 in: the toolbar does not print
    [page] = pdf_to_pngs(pdf, 203)
    assert zbar_decode(page) == [pickup.label_code]
    assert phone.problems == []
