"""Keep customer tokens out of access logs.

A token in a log file is a working key to someone's return: whoever reads the
logs (or a log shipper, or a backup) could open the customer's page. The dev
server (werkzeug) and gunicorn both log the request line, so a filter on their
loggers rewrites ``/r/<token>`` to ``/r/<redacted>`` before any handler sees it.
"""
from __future__ import annotations

import logging
import re

_TOKEN_PATH = re.compile(r"/r/[A-Za-z0-9_-]+")
REDACTED = "/r/<redacted>"
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact_tokens(text: str) -> str:
    """``GET /r/abc…/label.png`` → ``GET /r/<redacted>/label.png``."""
    return _TOKEN_PATH.sub(REDACTED, text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record's final message when it carries a customer link."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def install_token_redaction() -> None:
    """Attach the filter to the access loggers (once, however many apps are created)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, TokenRedactingFilter) for existing in logger.filters):
            logger.addFilter(TokenRedactingFilter())
