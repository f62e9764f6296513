"""Photo tests run on both stores (a folder and SeaweedFS over S3) and drive the sync protocol."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.sync.conftest import phone  # noqa: F401  (the simulated phone fixture)


@pytest.fixture(params=["file", "s3"])
def photo_backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "file":
        return {}
    # One bucket for the session, a prefix per test: nothing leaks from one test to the next.
    return request.getfixturevalue("seaweedfs").settings(f"t-{uuid.uuid4().hex[:12]}")
