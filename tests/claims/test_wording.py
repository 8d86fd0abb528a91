"""Wording that says what happened: the partial-approval message by amount, durations in days and
hours, only the possible incident moves, ongoing incidents first, a favicon."""

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim
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


def test_approval_above_the_computed_amount_is_labelled_approved(client, proposed, flow, support_user, support_user_2):
    claim = flow.under_review(proposed)
    client.force_login(support_user)
    _partial(client, claim, "5000.00")
    client.force_login(support_user_2)
    client.post(reverse("claims_console:action", args=[claim.pk, "confirm_approval"]))
    claim.refresh_from_db()
    assert claim.state == "approved" and str(claim.approved_amount) == "5000.00"
    page = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    assert "Partially approved" not in page.split('id="claim-state"', 1)[1].split("</span>", 1)[0]
    assert "5,000.00" in page


def test_an_amount_between_computed_and_claimed_is_partial(proposed, flow, support_user, support_user_2):
    from claims import services

    claim = flow.under_review(proposed)
    Claim.objects.filter(pk=claim.pk).update(claimed_amount=claim.computed_amount + 1000)
    above = claim.computed_amount + 500
    services.partially_approve(
        claim=claim, by=support_user, amount=above, reason="partial_evidence", message="Part of the receipts."
    )
    claim = services.confirm_approval(claim=claim, by=support_user_2)
    assert claim.state == "partially_approved" and claim.approved_amount == above


def test_minutes_as_days_hours_minutes():
    assert minutes_span(47961) == "33 d 7 h 21 min"
    assert minutes_span(45) == "45 min"
    assert minutes_span(120) == "2 h"
    assert minutes_span(0) == "0 min"
    assert minutes_span(timedelta(hours=1, minutes=50)) == "1 h 50 min"


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
