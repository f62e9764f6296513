"""Customer tokens never reach access logs: not the dev server's, not gunicorn's."""
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.labels.log_redaction import TokenRedactingFilter, redact_tokens
from tests.labels.tools import free_port

TOKEN = "Q2xh8mZr5TqYw0bKcVd1eNf3gHj4kLp6"
ROOT = Path(__file__).resolve().parents[2]


def test_redaction_keeps_the_rest_of_the_path():
    assert redact_tokens(f'"GET /r/{TOKEN}/label.png HTTP/1.1" 200') == '"GET /r/<redacted>/label.png HTTP/1.1" 200'
    assert redact_tokens("GET /l/K7QM4TZX9P") == "GET /l/K7QM4TZX9P"


def test_werkzeug_request_lines_are_redacted(app, caplog):
    logger = logging.getLogger("werkzeug")
    assert any(isinstance(f, TokenRedactingFilter) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        # Exactly how werkzeug's dev server logs a request.
        logger.info('%s - - [%s] %s', "127.0.0.1", "01/Jan/2030 10:00:00", f'"GET /r/{TOKEN} HTTP/1.1" 200 -')
    assert TOKEN not in caplog.text
    assert "/r/<redacted>" in caplog.text


def test_gunicorn_access_log_never_holds_the_token(tmp_path):
    access_log = tmp_path / "access.log"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}",
        "SECRET_KEY": "test",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--access-logfile", str(access_log), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        # A token of the wrong shape is refused without the database: the request line is what matters.
        response = requests.get(f"http://127.0.0.1:{port}/r/{TOKEN}x/label.png", timeout=5, headers={"Referer": f"http://x/r/{TOKEN}"})
        assert response.status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)
    log = access_log.read_text()
    assert "/r/<redacted>/label.png" in log
    assert TOKEN not in log
