"""Serves the PWA shell at ``/driver/``, its manifest and its service worker.

None of these carry user data or a CSRF token: the shell is the same for every
driver so the service worker can cache it and start the app with no signal.
"""
from __future__ import annotations

import json
import mimetypes

from flask import Blueprint, Response, current_app, render_template, url_for

from app.core.security import content_security_policy_allowing
from app.driver.shell import SHELL_MODULES, SHELL_STYLES, STATIC_FILES, shell_version

# The QR decoder's WebAssembly must be served as application/wasm to be compiled
# while it streams in; older mimetypes tables do not know the extension.
mimetypes.add_type("application/wasm", ".wasm")

bp = Blueprint("driver", __name__, url_prefix="/driver")


def _version() -> str:
    # DRIVER_RELEASE (optional, e.g. the deployed commit) forces a new version.
    release = current_app.config.get("DRIVER_RELEASE", "")
    if current_app.debug:  # files change under a developer's hands
        return shell_version.__wrapped__(release)
    return shell_version(release)


def _import_map() -> str:
    # Modules import each other by relative path ("./db.js"); the import map sends each of those
    # to the file's content-hashed URL, so a module is fetched (and precached) under one URL only
    # and the browser keeps it for good. Keys are URLs, so they match relative imports too.
    modules = [name for name in STATIC_FILES if name.endswith(".js")]
    imports = {url_for("static", filename=name, v=None): url_for("static", filename=name) for name in modules}
    return json.dumps({"imports": imports}, separators=(",", ":"))


@bp.get("/")
def shell():  # type: ignore[no-untyped-def]
    import_map = _import_map()
    response = Response(
        render_template(
            "driver/shell.html",
            version=_version(),
            import_map=import_map,
            modules=[url_for("static", filename=name) for name in SHELL_MODULES],
            styles=[url_for("static", filename=name) for name in SHELL_STYLES],
        )
    )
    # Always revalidated: the service worker is what serves it offline.
    response.headers["Cache-Control"] = "no-cache"
    # An import map cannot be a file (browsers read only inline ones): its own hash allows it.
    response.headers["Content-Security-Policy"] = content_security_policy_allowing(import_map)
    return response


@bp.get("/manifest.webmanifest")
def manifest():  # type: ignore[no-untyped-def]
    response = Response(render_template("driver/manifest.webmanifest"), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():  # type: ignore[no-untyped-def]
    version = _version()
    precache = [url_for("driver.shell"), url_for("driver.manifest")]
    precache += [url_for("static", filename=name) for name in STATIC_FILES]
    response = Response(
        render_template("driver/sw.js", version=version, precache=precache),
        mimetype="text/javascript",
    )
    # Browsers must see a new version at once; the worker scope is /driver/ by its path.
    response.headers["Cache-Control"] = "no-cache"
    return response
