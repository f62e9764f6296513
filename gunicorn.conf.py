"""gunicorn reads this file from the working directory: checks before any worker starts."""
import os


def on_starting(server):  # type: ignore[no-untyped-def]
    from app.config import check_shared_limits

    check_shared_limits(server.cfg.workers, os.environ)
