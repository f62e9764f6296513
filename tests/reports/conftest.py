from tests.labels.conftest import collected_pickup  # noqa: F401  (shared factories)
