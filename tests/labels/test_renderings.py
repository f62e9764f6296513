"""Every label rendering decodes back to the label code with zbar, at print resolution, and never holds the token.

PNG is decoded as served; PDF is rasterised at 203 dpi by poppler; SVG is drawn
by Chromium at its true 4×6 in size (203 dpi); ZPL is checked for its ^BQ field.
"""
import io
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from PIL import Image

from app.labels.codes import format_label_code
from app.labels.rendering import CELL, COLUMNS, HEIGHT, ROWS, SHEET_GAP, SHEET_LEFT, SHEET_TOP, WIDTH, LabelContent, label_etag, render_label
from tests.labels.tools import pdf_page_sizes, pdf_to_pngs, zbar_decode


def _fetch(client, pickup, token, fmt):  # type: ignore[no-untyped-def]
    response = client.get(f"/r/{token}/label.{fmt}")
    assert response.status_code == 200, response.text[:300]
    assert token.encode() not in response.data
    return response


def test_png_is_4x6_at_203_dpi_and_decodes_to_the_label_code(client, create_pickup, token_of, tmp_path):
    pickup = create_pickup()
    response = _fetch(client, pickup, token_of(pickup), "png")
    assert response.content_type == "image/png"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (812, 1218) == (WIDTH, HEIGHT)
        assert tuple(round(d) for d in image.info["dpi"]) == (203, 203)
    path = tmp_path / "label.png"
    path.write_bytes(response.data)
    assert zbar_decode(path) == [pickup.label_code]


def test_pdf_is_one_4x6_page_that_decodes_at_203_dpi(client, create_pickup, token_of, tmp_path):
    pickup = create_pickup()
    response = _fetch(client, pickup, token_of(pickup), "pdf")
    assert response.content_type == "application/pdf"
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(response.data)
    assert pdf_page_sizes(pdf) == [(288.0, 432.0)]  # 4 × 6 in, in points
    pages = pdf_to_pngs(pdf, 203)
    assert len(pages) == 1
    assert zbar_decode(pages[0]) == [pickup.label_code]


def test_svg_is_4x6_valid_xml_with_the_code_in_text(client, create_pickup, token_of):
    pickup = create_pickup()
    response = _fetch(client, pickup, token_of(pickup), "svg")
    assert response.content_type.startswith("image/svg+xml")
    root = ET.fromstring(response.data)
    assert (root.get("width"), root.get("height")) == ("4in", "6in")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert format_label_code(pickup.label_code) in texts
    assert pickup.reference in texts


@pytest.mark.browser
def test_svg_drawn_by_chromium_at_203_dpi_decodes(client, create_pickup, token_of, tmp_path, chromium):
    pickup = create_pickup()
    svg = _fetch(client, pickup, token_of(pickup), "svg").data.decode()
    # 4 in = 384 CSS px; a device scale of 203/96 gives exactly 812 × 1218 device pixels.
    context = chromium.new_context(viewport={"width": 384, "height": 576}, device_scale_factor=203 / 96)
    try:
        page = context.new_page()
        page.set_content(f"<!doctype html><body style='margin:0'>{svg.split('?>', 1)[1]}</body>")
        page.screenshot(path=str(tmp_path / "svg.png"))
    finally:
        context.close()
    with Image.open(tmp_path / "svg.png") as image:
        assert image.size == (812, 1218)
    assert zbar_decode(tmp_path / "svg.png") == [pickup.label_code]


def test_zpl_prints_the_code_as_a_qr_with_bq(client, create_pickup, token_of):
    pickup = create_pickup()
    zpl = _fetch(client, pickup, token_of(pickup), "zpl").data.decode()
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert "^PW812" in zpl and "^LL1218" in zpl
    bq_lines = [line for line in zpl.splitlines() if "^BQ" in line]
    assert len(bq_lines) == 1
    assert f"^FDHA,{pickup.label_code}^FS" in bq_lines[0]
    assert format_label_code(pickup.label_code) in zpl and pickup.reference in zpl


def test_no_rendering_carries_personal_data(client, create_pickup, token_of):
    pickup = create_pickup(customer={"name": "Zygmunt Uniquename", "phone": "+31 6 99999999", "email": "zu@example.com"})
    token = token_of(pickup)
    for fmt in ("svg", "zpl"):
        body = _fetch(client, pickup, token, fmt).data.decode()
        for secret in ("Zygmunt", "Uniquename", "99999999", "zu@example.com", "Prinsengracht"):
            assert secret not in body, (fmt, secret)


SAMPLE = LabelContent(
    code="K7QM4TZX9P",
    reference="RMA-1",
    hub_name='Hub <script>alert("x")</script> & ^XZ ~JA_',
    hub_address=("Kade 1", "1000 AA Amsterdam"),
    pickup_date="Mon 06 Jan 2025",
    check_url="backhaul.test/l/K7QM4TZX9P",
)


def test_svg_escapes_text_and_zpl_escapes_its_control_characters():
    svg = render_label(SAMPLE, "svg").decode()
    ET.fromstring(svg.encode())  # still well-formed XML
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    zpl = render_label(SAMPLE, "zpl").decode()
    hub_line = next(line for line in zpl.splitlines() if "Hub " in line)
    # ^, ~ and _ inside text would be commands to the printer; they are written as _XX hex.
    assert "_5EXZ" in hub_line and "_7EJA" in hub_line and "_5F" in hub_line
    assert zpl.count("^XZ") == 1


def test_long_names_are_shrunk_to_fit_and_still_decode(tmp_path):
    content = replace(SAMPLE, hub_name="Backhaul Regional Returns Consolidation Centre Noord-Holland Zuid", reference="R" * 64)
    path = tmp_path / "long.png"
    path.write_bytes(render_label(content, "png"))
    assert zbar_decode(path) == ["K7QM4TZX9P"]


def test_label_falls_back_to_pillows_font_when_dejavu_is_missing(monkeypatch, tmp_path):
    from app.labels import rendering

    monkeypatch.setattr(rendering, "_FONT_DIR", tmp_path / "nowhere")
    rendering._font.cache_clear()
    try:
        path = tmp_path / "fallback.png"
        path.write_bytes(rendering._png(rendering.layout_label(replace(SAMPLE, code="0WKX4AYMHG"))))
        assert zbar_decode(path) == ["0WKX4AYMHG"]
    finally:
        rendering._font.cache_clear()


def test_etag_is_strong_stable_and_changes_with_the_content():
    assert label_etag(SAMPLE, "png") == label_etag(replace(SAMPLE), "png")
    assert label_etag(SAMPLE, "png") != label_etag(SAMPLE, "pdf")
    assert label_etag(SAMPLE, "png") != label_etag(replace(SAMPLE, reference="RMA-2"), "png")
    # Same content, same bytes (a strong ETag promises exactly that), even for the PDF.
    render_label.cache_clear()
    first = render_label(SAMPLE, "pdf")
    render_label.cache_clear()
    assert render_label(SAMPLE, "pdf") == first


def test_label_files_revalidate_with_304_and_are_cached_privately(client, create_pickup, token_of, api_client, dispatcher):
    pickup = create_pickup()
    token = token_of(pickup)
    first = client.get(f"/r/{token}/label.png")
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    again = client.get(f"/r/{token}/label.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # An edit that changes what is printed changes the ETag.
    api_client(dispatcher).patch(f"/api/v1/pickups/{pickup.id}", json={"reference": "RMA-RENAMED"})
    changed = client.get(f"/r/{token}/label.png", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_download_links_save_a_named_file(client, create_pickup, token_of):
    pickup = create_pickup()
    response = client.get(f"/r/{token_of(pickup)}/label.pdf?download=1")
    assert response.headers["Content-Disposition"] == f'attachment; filename="return-label-{format_label_code(pickup.label_code)}.pdf"'


def test_unknown_format_is_404(client, create_pickup, token_of):
    pickup = create_pickup()
    assert client.get(f"/r/{token_of(pickup)}/label.gif").status_code == 404


# --- Staff access to the same files -----------------------------------------------------------------


def test_drivers_fetch_labels_of_their_own_pickups_only(api_client, create_pickup, driver, other_driver, tmp_path):
    mine = create_pickup(driver=driver)
    theirs = create_pickup(driver=other_driver)
    api = api_client(driver)
    response = api.get(f"/api/v1/pickups/{mine.id}/label.png")
    assert response.status_code == 200
    (tmp_path / "mine.png").write_bytes(response.data)
    assert zbar_decode(tmp_path / "mine.png") == [mine.label_code]
    refused = api.get(f"/api/v1/pickups/{theirs.id}/label.png")
    assert refused.status_code == 404 and refused.json["error"]["code"] == "not_found"
    assert api_client().get(f"/api/v1/pickups/{mine.id}/label.png").status_code == 401


# --- The dispatcher's A4 sheet ---------------------------------------------------------------------


def test_dispatcher_prints_an_a4_sheet_where_every_label_decodes(api_client, dispatcher, create_pickup, tmp_path):
    pickups = [create_pickup() for _ in range(9)]
    ids = ",".join(str(p.id) for p in pickups)
    response = api_client(dispatcher).get(f"/dispatch/labels.pdf?ids={ids}")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.data)
    assert pdf_page_sizes(pdf) == [(595.2, 841.92)] * 2  # A4, eight labels a page
    # One label at a time, as a scanner sees it: zbar is unreliable with many same-sized QR codes
    # aligned on one page (it pairs finder patterns across symbols), which says nothing about a label.
    found = []
    for page in pdf_to_pngs(pdf, 300):
        with Image.open(page) as image:
            for index in range(COLUMNS * ROWS):
                row, column = divmod(index, COLUMNS)
                x, y = SHEET_LEFT + column * (CELL[0] + SHEET_GAP), SHEET_TOP + row * CELL[1]
                cell = tmp_path / f"cell-{len(found)}.png"
                image.crop((x, y, x + CELL[0], y + CELL[1])).save(cell)
                found.append(zbar_decode(cell))
    assert found == [[p.label_code] for p in pickups] + [[]] * 7


def test_sheet_form_post_needs_csrf(app, api_client, dispatcher, create_pickup):
    pickup = create_pickup()
    api = api_client(dispatcher)
    assert api.post("/dispatch/labels.pdf", data={"ids": [str(pickup.id)]}, headers={"X-CSRFToken": ""}).status_code == 400
    response = api.post("/dispatch/labels.pdf", data={"ids": [str(pickup.id)]})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


@pytest.mark.parametrize(("query", "status"), [("", 422), ("?ids=1,abc", 422), ("?ids=999999", 404), ("?ids=" + ",".join(map(str, range(1, 402))), 422)])
def test_sheet_refuses_bad_selections_with_a_reason(api_client, dispatcher, query, status):
    response = api_client(dispatcher).get(f"/dispatch/labels.pdf{query}", headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.json["error"]["message"]


@pytest.mark.parametrize("role", ["driver", "hub"])
def test_only_dispatchers_print_sheets(api_client, create_user, create_pickup, role):
    pickup = create_pickup()
    assert api_client(create_user(role)).get(f"/dispatch/labels.pdf?ids={pickup.id}").status_code == 403
