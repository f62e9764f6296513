"""The public label check ``/l/<code>``: valid or not, and where to send the parcel; nothing personal."""
import pytest

from app.labels.codes import ALPHABET, check_symbol, format_label_code

BODY = "K7QM4TYX9"
WRONG_CHECK = next(symbol for symbol in ALPHABET if symbol != check_symbol(BODY))


def test_valid_label_says_where_to_send_the_parcel_and_nothing_else(client, create_pickup, hub):
    pickup = create_pickup()
    response = client.get(f"/l/{format_label_code(pickup.label_code).lower()}")
    assert response.status_code == 200
    page = response.text
    assert "This is a Backhaul return label" in page
    assert format_label_code(pickup.label_code) in page and hub.name in page
    for private in (pickup.customer_name, pickup.address_line1, pickup.postcode, pickup.reference, "iPhone", "+31"):
        assert private not in page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("K7QM4", "A label code has 10 letters and digits"),
        (BODY + WRONG_CHECK, "does not add up"),
        (BODY + check_symbol(BODY), "is not a label Backhaul has issued"),
    ],
)
def test_invalid_or_unknown_codes_are_404_with_the_reason(client, hub, code, message):
    response = client.get(f"/l/{code}")
    assert response.status_code == 404
    assert message in response.text
    assert 'name="code"' in response.text  # the form to try again


def test_the_check_form_leads_to_the_code_page(client):
    response = client.get("/l/?code=k7qm4-tzx9p")
    assert response.status_code == 302 and response.headers["Location"].endswith("/l/k7qm4-tzx9p")
    assert client.get("/l/").status_code == 200
