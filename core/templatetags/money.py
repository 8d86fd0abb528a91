"""``{% load money %}`` ``{{ value|money }}``: an amount as the pages show it, "12,345.60".

Web pages group thousands like the issued PDFs do, in the active language's separators
(``core/formats``), but only where this filter is used: ``USE_THOUSAND_SEPARATOR`` stays off
because it would also group the values of form inputs and CSV cells, which must stay parseable.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import numberformat
from django.utils.formats import get_format

register = template.Library()

CENT = Decimal("0.01")


def format_money(value, places: int = 2) -> str:
    """The grouped text of ``value`` rounded half-up to ``places`` decimals; "" for no value.

    Decimal throughout: a float is read through its shortest repr, never multiplied.
    """
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return ""
    if not amount.is_finite():
        return ""
    places = max(0, int(places))
    amount = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if amount == 0:
        amount = abs(amount)  # no "-0.00"
    return numberformat.format(
        amount,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=get_format("NUMBER_GROUPING"),
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )


@register.filter
def money(value, places=2):
    """``{{ claim.amount|money }}`` -> "12,345.60"; ``{{ rate|money:4 }}`` for other precisions."""
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 2
    return format_money(value, places)
