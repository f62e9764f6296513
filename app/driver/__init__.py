"""The driver PWA: its shell page, web manifest and service worker.

The app itself is plain JavaScript under ``app/static/driver/``; it talks to the
JSON API (``/api/v1/auth``, ``/api/v1/sync``, ``/api/v1/photos``) only.
"""
