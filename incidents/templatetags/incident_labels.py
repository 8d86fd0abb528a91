"""Template filters turning incident codes (impact, timeline phase, edited fields) into
translated labels.

Used where a page gets plain data instead of model instances (SLA evaluation rows,
``incidents.selectors.timeline_bar`` segments, the ``changes`` JSON of a timeline entry),
so ``get_…_display`` is not available.
"""

from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from incidents import models

register = template.Library()


@register.filter
def impact_label(value):
    """``{{ row.impact|impact_label }}``: "major_outage" -> "Major outage" (translated)."""
    return models.impact_label(value)


@register.filter
def incident_state_label(value):
    """``{{ code|incident_state_label }}``: "acknowledged" -> "Acknowledged" (translated)."""
    return models.state_label(value)


@register.filter
def phase_label(value):
    """A phase of ``timeline_bar``: "started" (before detection) or the state it began with."""
    if value == "started":
        return pgettext("incident phase", "Started")
    return models.state_label(value)


# The fields an edit can change (``incidents.services._EDITABLE`` + state times + regions).
_FIELD_LABELS = {
    "title": _("Title"),
    "service": _("Service"),
    "regions": _("Regions"),
    "impact": _("Impact"),
    "cause": _("Cause"),
    "started_at": _("Started at"),
    "detected_at": _("Detected at"),
    "acknowledged_at": _("Acknowledged at"),
    "mitigated_at": _("Mitigated at"),
    "resolved_at": _("Resolved at"),
}


def _change_value(name, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name == "impact":
        return models.impact_label(value)
    if name == "cause":
        try:
            return str(models.Cause(value).label)
        except ValueError:
            return value
    if name.endswith("_at"):
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def change_rows(changes):
    """``{% for row in update.changes|change_rows %}``: the ``{"field": [old, new]}`` of an edit
    as rows with a translated ``label`` and display values (labels for codes, times in the
    current time zone)."""
    rows = []
    for name, pair in (changes or {}).items():
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        rows.append(
            {
                "label": _FIELD_LABELS.get(name, name),
                "old": _change_value(name, pair[0]),
                "new": _change_value(name, pair[1]),
            }
        )
    return rows


@register.filter
def minutes_span(value):
    """Minutes (or a timedelta) as days, hours and minutes ("33 d 7 h 21 min", "1 h 50 min"):
    47961 min or "1:50:00" is unreadable."""
    from django.utils.translation import gettext

    if isinstance(value, timedelta):
        value = round(value.total_seconds() / 60)
    try:
        total = int(value)
    except (TypeError, ValueError):
        return ""
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(gettext("%(n)d d") % {"n": days})
    if hours:
        parts.append(gettext("%(n)d h") % {"n": hours})
    if minutes or not parts:
        parts.append(gettext("%(n)d min") % {"n": minutes})
    return " ".join(parts)
