"""Money: exact ``Decimal`` amounts, rounded once, half-up, to the cent."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import InvalidInput

CENT = Decimal("0.01")


def cents(value: Decimal | int | str) -> Decimal:
    """Round once, half-up, to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: object) -> Decimal:
    """An amount someone entered, to the cent: finite, not negative, below a trillion.

    Anything else is the person's mistake (``InvalidInput``), never a server error.
    """
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(_("Enter a valid amount."), code="bad_amount") from None
    if not amount.is_finite() or amount < 0 or amount.adjusted() >= 12:
        raise InvalidInput(_("Enter a valid amount."), code="bad_amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
