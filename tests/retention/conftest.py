"""Retention tests run on both photo stores (a folder and SeaweedFS over S3)."""
from tests.photos.conftest import photo_backend  # noqa: F401  (folder and S3)
from tests.sync.conftest import phone  # noqa: F401  (the simulated phone fixture)
