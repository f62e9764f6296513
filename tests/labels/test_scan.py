"""resolve_scan: the contract the driver app's scan_label mutation and the hub page rely on."""
import pytest

from app.core.errors import DomainError
from app.labels.codes import ALPHABET, check_symbol, format_label_code
from app.labels.services import resolve_scan
from app.pickups.models import PickupStatus
from app.pickups.services import cancel_pickup, change_status


def _typo(code: str) -> str:
    # Change one body symbol: the check symbol no longer adds up.
    replacement = ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)]
    return replacement + code[1:]


def _refusal(text: str, scanner) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        resolve_scan(text, scanner=scanner)
    return caught.value


@pytest.mark.parametrize(
    "variant",
    [
        lambda c: c,
        lambda c: c.lower(),
        lambda c: format_label_code(c),
        lambda c: " " + format_label_code(c).lower().replace("-", " ") + "\n",
        lambda c: f"http://backhaul.test/l/{format_label_code(c)}",
        lambda c: f"https://returns.example.com/l/{c.lower()}?utm_source=qr",
        lambda c: f"https://elsewhere.example/track/{c}",
    ],
)
def test_driver_scans_their_pickup_in_any_reasonable_form(create_pickup, driver, variant):
    pickup = create_pickup(driver=driver)
    assert resolve_scan(variant(pickup.label_code), scanner=driver).id == pickup.id


def test_wrong_check_character_is_refused_before_any_lookup(create_pickup, driver):
    pickup = create_pickup(driver=driver)
    error = _refusal(_typo(pickup.label_code), driver)
    assert (error.code, error.status) == ("bad_check_character", 422)
    assert "mistyped" in error.message


@pytest.mark.parametrize("text", ["", "ABC", "K7QM4TZX9PQ", "hello world!", "Z" * 10, "x" * 5000])
def test_things_that_are_not_label_codes_say_so(driver, text):
    error = _refusal(text, driver)
    assert error.code == "not_a_label" and error.status == 422


def test_valid_but_never_issued_code_is_unknown(driver):
    body = "K7QM4TYX9"
    error = _refusal(body + check_symbol(body), driver)
    assert (error.code, error.status) == ("unknown_label", 404)


def test_another_drivers_pickup_is_refused_without_personal_data(create_pickup, driver, other_driver):
    pickup = create_pickup(driver=other_driver)
    error = _refusal(pickup.label_code, driver)
    assert (error.code, error.status) == ("not_your_pickup", 403)
    assert "another driver" in error.message
    for private in (other_driver.name, pickup.customer_name, pickup.address_line1, pickup.reference):
        assert private not in error.message


def test_unassigned_pickup_is_not_on_the_drivers_route(create_pickup, driver):
    pickup = create_pickup()
    assert _refusal(pickup.label_code, driver).code == "not_your_pickup"


@pytest.mark.parametrize("status", [PickupStatus.COLLECTED, PickupStatus.PARTIALLY_COLLECTED])
def test_already_collected_pickup_is_refused(create_pickup, driver, db, status):
    pickup = create_pickup(driver=driver)
    change_status(pickup, status, actor=None, kind="collected")
    db.session.commit()
    error = _refusal(pickup.label_code, driver)
    assert (error.code, error.status) == ("already_collected", 409)


def test_cancelled_pickup_is_refused(create_pickup, driver, db):
    pickup = create_pickup(driver=driver)
    cancel_pickup(pickup, "Customer kept it", actor=None)
    db.session.commit()
    assert _refusal(pickup.label_code, driver).code == "pickup_cancelled"


def test_failed_pickup_can_be_scanned_again_on_the_retry(create_pickup, driver, db):
    pickup = create_pickup(driver=driver)
    change_status(pickup, PickupStatus.FAILED, actor=None, kind="failed")
    change_status(pickup, PickupStatus.ASSIGNED, actor=None, kind="assigned")
    db.session.commit()
    assert resolve_scan(pickup.label_code, scanner=driver).id == pickup.id


@pytest.mark.parametrize("role", ["hub", "dispatcher", "admin"])
def test_hub_and_office_staff_resolve_any_pickup(create_pickup, create_user, driver, db, role):
    pickup = create_pickup(driver=driver)
    change_status(pickup, PickupStatus.COLLECTED, actor=None, kind="collected")
    db.session.commit()
    assert resolve_scan(format_label_code(pickup.label_code).lower(), scanner=create_user(role)).id == pickup.id
