"""Customer tokens never reach access logs: not the dev server's, not gunicorn's."""
import logging

import requests

from app.labels.log_redaction import TokenRedactingFilter, redact_tokens
from tests.support.server import LiveServer

TOKEN = "Q2xh8mZr5TqYw0bKcVd1eNf3gHj4kLp6"


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
    server = LiveServer(
        f"sqlite:///{tmp_path / 'unused.sqlite'}", tmp_path / "photos", tmp_path / "gunicorn.log",
        extra_args=("--access-logfile", str(access_log)),
    )
    server.start()
    try:
        # A token of the wrong shape is refused without the database: the request line is what matters.
        response = requests.get(f"{server.url}/r/{TOKEN}x/label.png", timeout=5, headers={"Referer": f"http://x/r/{TOKEN}"})
        assert response.status_code == 404
    finally:
        server.stop()
    log = access_log.read_text()
    assert "/r/<redacted>/label.png" in log
    assert TOKEN not in log
