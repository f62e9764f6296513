"""Photo tests also drive the sync protocol (photos linked by mutations)."""
from tests.sync.conftest import phone  # noqa: F401  (the simulated phone fixture)
