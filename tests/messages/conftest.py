"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server that records webhooks."""
from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.extensions import db as _db
from app.labels.models import CustomerToken
from tests.dispatch.conftest import ConsoleClient, console, console_for, quick_password_hashing  # noqa: F401  (shared fixtures)
from tests.support.server import free_port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app) -> Iterator[_Inbox]:  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1; the app is configured to send to it."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none", MAIL_FROM="Test Hub <returns@hub.test>")
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    """Records every POST; answers ``failures`` 500s first, then 200."""

    url: str
    failures: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests.append({"headers": headers, "body": body})
            if self.failures > 0:
                self.failures -= 1
                return 500
            return 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that keeps what it receives."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = holder["r"].answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _fast_retries(app) -> None:  # type: ignore[no-untyped-def]
    # Retries are due at once, so a test can drive them without waiting (the backoff itself is tested on its numbers).
    app.config.update(OUTBOX_RETRY_BASE_SECONDS=0)


def token_of(pickup: Any) -> str:
    return _db.session.scalars(select(CustomerToken.token).where(CustomerToken.pickup_id == pickup.id, CustomerToken.revoked_at.is_(None))).one()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]
