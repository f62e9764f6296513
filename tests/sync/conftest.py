"""A simulated phone for sync tests: its own client id and a counter of mutation ids."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest


class Phone:
    """What the driver app does on the wire: number mutations from 1, push them, pull changes."""

    def __init__(self, api: Any, client_id: str | None = None):
        self.api = api
        self.client_id = client_id or str(uuid.uuid4())
        self.next_id = 1
        self.cursor: int | None = None

    def mutation(self, name: str, base_version: int | None = None, **args: Any) -> dict[str, Any]:
        mutation = {
            "id": self.next_id,
            "name": name,
            "args": args,
            "base_version": base_version,
            "device_time": datetime.now(timezone.utc).isoformat(),
            "location": {"lat": 52.3752, "lon": 4.884, "accuracy_m": 8.5},
        }
        self.next_id += 1
        return mutation

    def push(self, *mutations: dict[str, Any], expect: int = 200, **envelope: Any) -> Any:
        body = {"client_id": self.client_id, "schema_version": 1, "mutations": list(mutations), **envelope}
        response = self.api.post("/api/v1/sync/push", json=body)
        assert response.status_code == expect, response.json
        return response

    def pull(self, cursor: Any = "keep", expect: int = 200) -> dict[str, Any]:
        cursor = self.cursor if cursor == "keep" else cursor
        url = f"/api/v1/sync/pull?client_id={self.client_id}" + (f"&cursor={cursor}" if cursor is not None else "")
        response = self.api.get(url)
        assert response.status_code == expect, response.json
        body = response.json
        if expect == 200:
            self.cursor = body["cursor"]
        return body


def collect_all(pickup: Any, grade: str = "A") -> list[dict[str, Any]]:
    """Every item of the pickup, collected in full."""
    return [{"item_id": item.id, "quantity": item.quantity, "grade": grade, "notes": "", "photo_ids": []} for item in pickup.items]


@pytest.fixture
def phone(api_client, driver):  # type: ignore[no-untyped-def]
    """A logged-in phone of ``driver``: ``phone()`` makes one, ``phone(user)`` one of another driver."""

    def make(user: Any = None, client_id: str | None = None) -> Phone:
        return Phone(api_client(user or driver), client_id)

    return make
