"""Role checks for views and API functions."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user

from app.core.errors import DomainError, Forbidden

F = TypeVar("F", bound=Callable[..., Any])


class NotLoggedIn(DomainError):
    status = 401
    code = "unauthorized"


def roles_required(*roles: Any) -> Callable[[F], F]:
    """Refuse the request unless the current user is logged in with one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise Forbidden("Your account is not allowed to do this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
