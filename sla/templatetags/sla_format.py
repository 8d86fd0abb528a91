"""Template filters of the SLA pages."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def wall_time(value):
    """An ISO 8601 time of an evaluation snapshot (already in the contract's time zone) as
    ``YYYY-MM-DD HH:MM`` (``:SS`` when not on the minute); anything else unchanged."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second or moment.microsecond else "%Y-%m-%d %H:%M")
