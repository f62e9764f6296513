"""Data retention: personal data and photos of long-closed pickups are removed (``purge-expired``)."""
