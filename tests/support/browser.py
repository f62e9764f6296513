"""One way to drive Chromium and serve the app for every real-browser test.

Playwright's sync API runs its own event loop, so a test session may hold only
one at a time: every browser test takes the session-scoped ``chromium`` fixture
(tests/conftest.py) rather than starting Playwright itself.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Nothing may leave the machine: every host but loopback fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def chromium_executable() -> str:
    """Debian's chromium; in CI its absence fails the run instead of skipping."""
    path = shutil.which("chromium")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is not installed: the browser tests are required in CI.")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{server.server_port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
