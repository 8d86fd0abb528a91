"""Writes of the finance app: settlements (batches, payments), exports, documents."""

from django.utils.translation import gettext as _

from accounts import roles
from accounts.types import AnyUser
from core.errors import ApplicationError, InvalidInput, NotPermitted, StateConflict

__all__ = ["require_finance", "InvalidInput", "NotPermitted", "StateConflict", "ApplicationError"]


def require_finance(*, user: AnyUser) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotPermitted(_("Sign in first."))
    if not roles.is_finance(user):
        raise NotPermitted(_("Only finance staff may run settlements."))
