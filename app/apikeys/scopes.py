"""Which scope each part of the API needs: one table, so a new endpoint is closed to keys until it is listed."""
from __future__ import annotations

PICKUPS_READ = "pickups:read"
PICKUPS_WRITE = "pickups:write"
WEBHOOKS_MANAGE = "webhooks:manage"
SCOPES = (PICKUPS_READ, PICKUPS_WRITE, WEBHOOKS_MANAGE)

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

# (path prefix, scope for reading, scope for writing), longest prefix first.
_RULES: tuple[tuple[str, str, str], ...] = (
    ("/api/v1/webhooks", WEBHOOKS_MANAGE, WEBHOOKS_MANAGE),
    ("/api/v1/pickups", PICKUPS_READ, PICKUPS_WRITE),
    ("/api/v1/routes", PICKUPS_READ, PICKUPS_WRITE),
    # Choosing a driver to assign needs the list of drivers.
    ("/api/v1/users", PICKUPS_READ, PICKUPS_WRITE),
)


def required_scope(method: str, path: str) -> str | None:
    """The scope a key needs for this request; None: no key may make it (sync, photos, login are people's)."""
    for prefix, read, write in _RULES:
        if path == prefix or path.startswith(prefix + "/"):
            return read if method.upper() in _SAFE else write
    return None
