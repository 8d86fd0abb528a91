"""Wording that says what happened: the partial-approval message by amount, durations in days and
hours, only the possible incident moves, ongoing incidents first, a favicon."""

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from incidents.models import Cause, Impact, Incident, IncidentState
from incidents.templatetags.incident_labels import minutes_span

from .conftest import make_incident

pytestmark = pytest.mark.django_db


def _partial(client, claim, amount):
    response = client.post(
        reverse("claims_console:action", args=[claim.pk, "partially_approve"]),
        {"amount": amount, "reason": "baseline_adjusted", "message": "Adjusted."},
        follow=True,
    )
    return [str(m) for m in response.context["messages"]]


def test_partial_approval_message_follows_the_amount(client, proposed, flow, support_user):
    claim = flow.under_review(proposed)
    client.force_login(support_user)
    assert _partial(client, claim, "500.00") == ["Claim partially approved."]


def test_partial_approval_above_the_maximum_says_it_waits(client, proposed, flow, support_user):
    claim = flow.under_review(proposed)
    client.force_login(support_user)
    assert _partial(client, claim, "5000.00") == ["Above the computed maximum: the amount waits for a second approval."]


def test_minutes_as_days_hours_minutes():
    assert minutes_span(47961) == "33 d 7 h 21 min"
    assert minutes_span(45) == "45 min"
    assert minutes_span(120) == "2 h"
    assert minutes_span(0) == "0 min"


def test_incident_pages(client, support_user):
    resolved = make_incident("W-1")
    start = timezone.now() - timedelta(days=40)
    ongoing = Incident.objects.create(
        source="test",
        external_id="W-2",
        title="Video outage W-2",
        service=resolved.service,
        impact=Impact.MAJOR_OUTAGE,
        cause=Cause.PROVIDER,
        state=IncidentState.ACKNOWLEDGED,
        started_at=start,
        detected_at=start,
        acknowledged_at=start + timedelta(minutes=5),
    )
    client.force_login(support_user)
    listing = client.get(reverse("incidents:list")).content.decode()
    assert listing.index("W-2") < listing.index("W-1")  # the ongoing one first, though older
    detail = client.get(reverse("incidents:detail", args=[ongoing.pk])).content.decode()
    actions = detail[detail.index('name="action"') : detail.index("</select>", detail.index('name="action"'))]
    assert 'value="acknowledge"' not in actions and 'value="resolve"' in actions
    assert " d " in detail and "(ongoing)" in detail
    assert 'rel="icon"' in detail and finders.find("favicon.svg")
