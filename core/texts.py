"""System sentences kept as a code and parameters and written in the reader's language when shown.

A sentence the system writes into a history (a payment failed, an estimate was recomputed, a
reminder) is stored as ``code`` + ``params``, not as prose: prose would stay in the language of
whoever caused the event. ``render`` formats the parameters for the active language: keys ending
in ``_at`` are ISO date-times (shown in the local time zone), keys ending in ``amount`` are
amounts (grouped as the pages show them); other values are shown as they are.
"""

from collections.abc import Mapping

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from core.templatetags.money import format_money


def render(templates: Mapping, code: str, params: Mapping | None, *, blank: Mapping | None = None) -> str:
    """The sentence ``templates[code]`` in the active language, or "" for an unknown code;
    ``blank`` gives the words for a parameter left empty (a bank that gave no reason)."""
    template = templates.get(code)
    if template is None:
        return ""
    values = {}
    for key, value in (params or {}).items():
        if value in ("", None) and blank and key in blank:
            values[key] = str(blank[key])
        elif key.endswith("_at") and isinstance(value, str):
            moment = parse_datetime(value)
            values[key] = formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else value
        elif key.endswith("amount"):
            values[key] = format_money(value)
        else:
            values[key] = value
    return str(template) % values
