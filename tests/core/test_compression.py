"""Responses are compressed for browsers that take it, and compressing a static file never leaks its file."""
import gc
import warnings
from pathlib import Path

import brotli
import pytest

BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends
STATIC = Path(__file__).parents[2] / "app" / "static"


@pytest.mark.parametrize("path", ["css/portal.css", "driver/app.js"])
def test_a_static_file_is_sent_with_brotli_and_its_file_is_closed(client, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        response = client.get(f"/static/{path}", headers={"Accept-Encoding": BROWSER_ACCEPT_ENCODING})
        body = response.data
        response.close()
        gc.collect()  # an unclosed file warns when it is collected
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert int(response.headers["Content-Length"]) == len(body)
    assert brotli.decompress(body) == (STATIC / path).read_bytes()


def test_a_client_that_takes_no_compression_gets_the_file_as_it_is(client):
    response = client.get("/static/css/portal.css", headers={"Accept-Encoding": "identity"})
    body = response.data
    response.close()
    assert "Content-Encoding" not in response.headers
    assert body == (STATIC / "css/portal.css").read_bytes()
