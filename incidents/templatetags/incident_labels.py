"""Template filters turning incident codes (impact, timeline phase) into translated labels.

Used where a page gets plain dicts instead of model instances (SLA evaluation rows,
``incidents.selectors.timeline_bar`` segments), so ``get_…_display`` is not available.
"""

from django import template
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
