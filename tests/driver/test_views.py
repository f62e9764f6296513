"""The PWA's shell, manifest and service worker as the server serves them."""
from __future__ import annotations

import base64
import hashlib
import json
import re

from app.driver.shell import LAZY_FILES, SHELL_MODULES, STATIC_FILES, static_import_graph
from bench.bench_driver import BUDGET_BYTES, shell_first_load


def _import_map(html: str) -> tuple[str, dict[str, str]]:
    text = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    return text, json.loads(text)["imports"]


def _precache(client) -> list[str]:
    source = client.get("/driver/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", source).group(1))


def test_shell_links_its_manifest_and_loads_only_external_scripts(client):
    response = client.get("/driver/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<link rel="manifest" href="/driver/manifest.webmanifest">' in html
    assert re.search(r'<script type="module" src="/static/driver/app\.js\?v=[0-9a-f]{12}"></script>', html)
    # The CSP forbids inline scripts and styles: the one inline script is the import map
    # (browsers read no other kind), allowed by its own hash and by nothing broader.
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert inline == ['<script type="importmap">']
    text, _ = _import_map(html)
    policy = response.headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert f"script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    assert "style=" not in html and "<style" not in html
    assert "csrf" not in html.lower()  # the same for every driver, so it can be cached


def test_import_map_sends_every_module_to_its_hashed_url(client):
    _, imports = _import_map(client.get("/driver/").get_data(as_text=True))
    modules = [name for name in STATIC_FILES if name.endswith(".js")]
    assert set(imports) == {f"/static/{name}" for name in modules}
    for plain, hashed in imports.items():
        assert re.fullmatch(re.escape(plain) + r"\?v=[0-9a-f]{12}", hashed)
        with client.get(hashed) as file:
            assert file.status_code == 200 and file.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_service_worker_precaches_exactly_the_urls_the_shell_uses(client):
    html = client.get("/driver/").get_data(as_text=True)
    _, imports = _import_map(html)
    named = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html)) | set(imports.values())
    manifest = json.loads(client.get("/driver/manifest.webmanifest").data)
    named |= {icon["src"] for icon in manifest["icons"]}
    precache = _precache(client)
    static = {url for url in precache if url.startswith("/static/")}
    assert named <= static  # everything the shell loads works offline, under the very URL it asks for
    assert {url.split("?")[0] for url in static} == {f"/static/{name}" for name in STATIC_FILES}
    assert all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in static)


def test_manifest_is_json_with_installable_fields(client):
    response = client.get("/driver/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] == "/driver/" and manifest["display"] == "standalone"
    assert {icon["purpose"] for icon in manifest["icons"]} == {"any", "maskable"}
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as png:
            assert png.status_code == 200


def test_service_worker_precaches_every_shell_file_and_never_the_api(client):
    response = client.get("/driver/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", source).group(1))
    assert "/driver/" in precache
    assert any(url.startswith("/static/vendor/zxing-wasm/zxing_reader.wasm?v=") for url in precache)
    for url in precache:
        with client.get(url) as file:
            assert file.status_code == 200, url
        assert not url.startswith("/api/")
    assert 'url.pathname.startsWith("/api/")) return;' in source


def test_service_worker_version_changes_with_the_release(app, client):
    def version() -> str:
        return re.search(r'const VERSION = "(\w+)"', client.get("/driver/sw.js").get_data(as_text=True)).group(1)

    before = version()
    app.config["DRIVER_RELEASE"] = "2026-11-25"
    assert version() != before


def test_qr_decoder_wasm_is_served_from_our_origin_as_wasm(client):
    with client.get("/static/vendor/zxing-wasm/zxing_reader.wasm") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/wasm"
        assert response.data[:4] == b"\0asm"


def test_first_load_is_the_static_import_graph_and_leaves_the_scanner_out():
    graph = static_import_graph()
    assert graph == set(SHELL_MODULES)
    assert not graph & set(LAZY_FILES)


def test_the_signature_library_is_left_out_of_the_first_load_but_precached_for_offline(client):
    assert "vendor/signature_pad/signature_pad.min.js" in LAZY_FILES
    assert not any("signature" in name for name in static_import_graph())
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", client.get("/driver/sw.js").get_data(as_text=True)).group(1))
    # Precached under its content-hashed URL, the one the signature screen imports.
    assert any(url.split("?v=")[0] == "/static/vendor/signature_pad/signature_pad.min.js" and "?v=" in url for url in precache)


def test_first_load_fits_the_100_kb_budget(client, capsys):
    sizes = shell_first_load(client)
    assert set(sizes) >= {"/driver/", "/static/driver/app.js", "/static/driver/app.css", "/static/vendor/idb/index.js"}
    assert not any("barcode" in path or "scanner" in path for path in sizes)
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\ndriver shell first load: {total / 1024:.1f} KB gzip in {len(sizes)} files (budget {BUDGET_BYTES // 1024} KB)")
    assert total <= BUDGET_BYTES


def test_drivers_land_on_the_pwa(api_client, driver):
    assert api_client(driver).get("/").headers["Location"] == "/driver/"
