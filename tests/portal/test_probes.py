"""Guessing links or label codes ends in 429 with zero hits; customers using their own link are never limited."""
from app.labels.codes import check_symbol, new_label_code
from app.labels.services import new_customer_token


def _limit(app, value="30 per minute"):  # type: ignore[no-untyped-def]
    assert app.config["CUSTOMER_LOOKUP_LIMIT"] == value


def test_hundreds_of_token_probes_end_in_429_with_no_hits(app, client, create_pickup):
    _limit(app)
    create_pickup()
    statuses = [client.get(f"/r/{new_customer_token()}/label.png").status_code for _ in range(300)]
    assert statuses[:30] == [404] * 30
    assert set(statuses[30:]) == {429}
    last = client.get(f"/r/{new_customer_token()}")
    assert last.status_code == 429 and "Please wait a minute" in last.text


def test_code_probes_and_token_probes_share_one_allowance(app, client, hub):
    _limit(app)
    statuses = []
    for n in range(200):
        body = new_label_code()[:9]
        path = f"/l/{body}{check_symbol(body)}" if n % 2 else f"/r/{new_customer_token()}"
        statuses.append(client.get(path).status_code)
    assert 200 not in statuses
    assert statuses.count(404) == 30 and statuses[30:] == [429] * 170


def test_probes_are_counted_per_address(app, client, hub):
    for _ in range(40):
        client.get(f"/r/{new_customer_token()}")
    assert client.get(f"/r/{new_customer_token()}").status_code == 429
    other = client.get(f"/r/{new_customer_token()}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 404


def test_a_customer_reloading_their_page_is_never_limited(client, create_pickup, token_of):
    token = token_of(create_pickup())
    for _ in range(80):
        assert client.get(f"/r/{token}").status_code == 200
    assert client.get(f"/r/{token}/label.png").status_code == 200
