from tests.labels.conftest import collected_pickup, token_of  # noqa: F401  (shared factories)
