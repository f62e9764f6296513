"""Static files are named by their content hash and kept for a year; any other static URL is revalidated."""
import hashlib
import os
import re
from pathlib import Path

import brotli
from flask import url_for

from app.core.static_files import IMMUTABLE

STATIC = Path(__file__).parents[2] / "app" / "static"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def test_pages_name_their_stylesheets_by_content_hash(client):
    html = client.get("/login").get_data(as_text=True)
    expected = content_hash((STATIC / "css/app.css").read_bytes())
    assert f'href="/static/css/app.css?v={expected}"' in html
    # No static URL in the page is left without its hash.
    assert not re.search(r"""(?:href|src)="/static/[^"?]+\"""", html)


def test_a_hashed_url_is_cached_for_a_year_and_still_compressed(client):
    path = "css/dispatch.css"
    url = f"/static/{path}?v={content_hash((STATIC / path).read_bytes())}"
    with client.get(url, headers={"Accept-Encoding": "br"}) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "br"
        assert brotli.decompress(response.data) == (STATIC / path).read_bytes()


def test_an_unhashed_or_stale_url_is_revalidated_every_time(client):
    for url in ("/static/css/dispatch.css", "/static/css/dispatch.css?v=000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "no-cache", url
            assert "immutable" not in response.headers["Cache-Control"]
            etag = response.headers["ETag"]
        with client.get(url, headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304


def test_a_changed_file_gets_a_new_url_and_the_old_url_is_no_longer_kept(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: black }")
    with app.test_request_context():
        first = url_for("static", filename="site.css")
    sheet.write_text("body { color: darkgreen }")
    os.utime(sheet, ns=(sheet.stat().st_atime_ns, sheet.stat().st_mtime_ns + 1_000_000))
    with app.test_request_context():
        second = url_for("static", filename="site.css")
    assert first != second
    assert second == f"/static/site.css?v={content_hash(b'body { color: darkgreen }')}"
    with client.get(second) as response:
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.data == b"body { color: darkgreen }"
    # A page of the previous release asking for its old URL gets today's file, never pinned under that URL.
    with client.get(first) as response:
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.data == b"body { color: darkgreen }"


def test_a_missing_file_gets_a_plain_url_and_a_404(app, client):
    with app.test_request_context():
        assert url_for("static", filename="css/no-such.css") == "/static/css/no-such.css"
    assert client.get("/static/css/no-such.css").status_code == 404
