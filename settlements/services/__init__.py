"""Writes of the finance app: settlements (batches, payments), exports, documents."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from accounts import roles
from core.errors import ApplicationError, InvalidInput, NotPermitted, StateConflict

CENT = Decimal("0.01")

__all__ = ["CENT", "cents", "require_finance", "InvalidInput", "NotPermitted", "StateConflict", "ApplicationError"]


def cents(value) -> Decimal:
    """Round once, half-up, to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def require_finance(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotPermitted(_("Sign in first."))
    if not roles.is_finance(user):
        raise NotPermitted(_("Only finance staff may run settlements."))
