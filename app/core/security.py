"""Response headers every page and API answer carries."""
from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request

# Nothing is loaded from another origin, ever: the PWA must work offline, and a
# customer's page must not leak its token to third parties. 'wasm-unsafe-eval'
# lets the QR decoder's WebAssembly run.
_SCRIPT_SRC = "script-src 'self' 'wasm-unsafe-eval'"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        _SCRIPT_SRC,
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


def content_security_policy_allowing(inline_script: str) -> str:
    """The policy plus the hash of one inline script (the driver shell's import map: it cannot be a file)."""
    digest = base64.b64encode(hashlib.sha256(inline_script.encode()).digest()).decode()
    return CONTENT_SECURITY_POLICY.replace(_SCRIPT_SRC, f"{_SCRIPT_SRC} 'sha256-{digest}'", 1)


# Answers with personal data (staff pages and API, a customer's page): never kept by a shared
# cache or left in the browser's disk cache. A view that chose its own Cache-Control keeps it.
PRIVATE_PREFIXES = ("/api/", "/dispatch", "/hub", "/r/", "/l/", "/login", "/logout")
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    production = app.config["BACKHAUL_ENV"] == "production"

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if "Cache-Control" not in response.headers and request.path.startswith(PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "private, no-store"
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        return response
