"""The real-browser suite: Debian's chromium driven by Playwright against the real app.

Each test gets its own live server (werkzeug in a thread, on a free port, with
its own SQLite file and demo data) so service workers, caches and IndexedDB of
one test never meet another's. In CI a missing chromium is an error, not a skip.
"""
from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.demo.data import DEMO_PASSWORD, load_demo_data
from app.extensions import db
from tests.support.browser import serve_app

PHONE = {"width": 390, "height": 844}
DRIVER_EMAIL = "driver1@backhaul.test"


@dataclass
class LiveServer:
    app: Any
    url: str
    port: int

    def query(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in an app context (a fresh session) and return its result."""
        with self.app.app_context():
            try:
                return work()
            finally:
                db.session.remove()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "browser-test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite'}",
            "PHOTO_STORAGE_DIR": str(tmp_path / "photos"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        db.create_all()
        load_demo_data(drivers=2, pickups=10)
        db.session.commit()
        db.session.remove()
    try:
        with serve_app(app) as url:
            app.config["PUBLIC_BASE_URL"] = url
            yield LiveServer(app=app, url=url, port=int(url.rsplit(":", 1)[1]))
    finally:
        with app.app_context():
            db.engine.dispose()
        # A browser closed mid-download leaves the dev server's file wrapper to the
        # garbage collector; collect it here, not as a warning in some later test.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture
def browser(chromium: Any) -> Any:
    return chromium


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, service_workers="allow", timezone_id="Europe/Amsterdam", locale="en-GB")
    yield context
    context.close()


def wait_until(page: Any, expression: str, *, timeout: float = 15.0, arg: Any = None, message: str = "") -> Any:
    """Poll ``page.evaluate(expression)`` until it is truthy (async expressions are awaited)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message or expression!r}; last value {last!r}")


def wait_for_service_worker(page: Any) -> None:
    """Until the shell is controlled by an activated worker: only then may we go offline."""
    wait_until(
        page,
        "async () => { const r = await navigator.serviceWorker.ready; return Boolean(r.active && navigator.serviceWorker.controller); }",
        timeout=30,
        message="service worker ready and controlling",
    )


def log_in(page: Any, server: LiveServer, email: str = DRIVER_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{server.url}/driver/")
    page.wait_for_selector("#login-email")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("form button[type=submit]")
    page.wait_for_selector("ol.stops li.stop", timeout=15000)


def log_in_to_the_console(page: Any, server: LiveServer, email: str) -> None:
    """Staff log in on the console's page (dispatchers, hub clerks, admins); the page lands on their home."""
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def idb(page: Any, store: str) -> list[dict[str, Any]]:
    """Everything in one IndexedDB store of the app (ArrayBuffers come back as byte lengths)."""
    return page.evaluate(
        """async (store) => {
            const { db } = await import('/static/driver/db.js');
            const rows = await (await db()).getAll(store);
            return rows.map((row) => row.bytes ? { ...row, bytes: row.bytes.byteLength } : row);
        }""",
        store,
    )


def badge(page: Any) -> str:
    return page.inner_text("#sync-text")
