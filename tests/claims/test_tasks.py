"""Celery tasks: expiry of unanswered proposals and info requests, reminders, recompute on a real worker."""

from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from claims import services, tasks
from claims.models import Claim, ClaimEvent, ClaimNotification, ClaimState
from tests.factories import Flow, IncidentFactory, hit_session


@pytest.mark.django_db
def test_beat_schedule_has_the_claim_tasks():
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"claims.tasks.expire_claims", "claims.tasks.send_expiry_reminders"} <= tasks_scheduled


@pytest.mark.django_db
def test_defaults_30_and_14_days(proposed, flow, merchant):
    assert proposed.expires_at - proposed.created_at <= timedelta(days=30, seconds=1)
    asked = flow.info_requested(
        services.propose(incident=IncidentFactory(external_id="T-0"), merchant=merchant, amount="1", currency="CNY")
    )
    assert asked.expires_at - asked.info_requested_at == timedelta(days=14)


@pytest.mark.django_db
def test_expire_only_past_deadline(proposed, flow, merchant):
    other = flow.info_requested(
        services.propose(incident=IncidentFactory(external_id="T-1"), merchant=merchant, amount="1", currency="CNY")
    )
    fresh = services.propose(incident=IncidentFactory(external_id="T-2"), merchant=merchant, amount="1", currency="CNY")
    past = timezone.now() - timedelta(minutes=1)
    Claim.objects.filter(pk__in=[proposed.pk, other.pk]).update(expires_at=past)
    assert tasks.expire_claims() == 2
    assert Claim.objects.get(pk=proposed.pk).state == ClaimState.EXPIRED
    assert Claim.objects.get(pk=other.pk).state == ClaimState.EXPIRED
    assert Claim.objects.get(pk=fresh.pk).state == ClaimState.PROPOSED
    assert ClaimEvent.objects.filter(claim=proposed, action="expire", reason_code="no_response").exists()
    assert tasks.expire_claims() == 0


def _events(claim, action="expire"):
    return ClaimEvent.objects.filter(claim=claim, action=action).count()


@pytest.mark.django_db
def test_task_path_expires_a_due_claim_but_not_one_whose_deadline_is_ahead_under_the_lock(proposed, merchant):
    """The task selected both as due; under the row lock only the one really past its deadline expires."""
    ahead = services.propose(incident=IncidentFactory(external_id="T-3"), merchant=merchant, amount="1", currency="CNY")
    Claim.objects.filter(pk=proposed.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert ahead.expires_at > timezone.now()
    # The task's selection runs "later" than the service's re-check: both claims look due to it.
    later = timezone.now() + timedelta(days=60)
    with mock.patch.object(tasks, "timezone", SimpleNamespace(now=lambda: later)):
        assert tasks.expire_claims() == 1
    assert Claim.objects.get(pk=proposed.pk).state == ClaimState.EXPIRED and _events(proposed) == 1
    ahead.refresh_from_db()
    assert ahead.state == ClaimState.PROPOSED and ahead.expires_at is not None and _events(ahead) == 0
    assert not ClaimNotification.objects.filter(claim=ahead, subject__contains="expired").exists()


@pytest.mark.django_db
def test_merchant_who_acted_after_the_selection_is_not_expired(flow, proposed, merchant, merchant_user):
    """The task holds the pk of a due claim; the merchant submits (or answers and is asked again) first."""
    past = timezone.now() - timedelta(minutes=1)
    Claim.objects.filter(pk=proposed.pk).update(expires_at=past)
    services.submit(claim=proposed, by=merchant_user)
    assert services.expire_if_due(claim=proposed.pk) is False
    assert services.expire(claim=proposed).state == ClaimState.SUBMITTED  # no StateConflict either
    assert _events(proposed) == 0

    asked = flow.info_requested(
        services.propose(incident=IncidentFactory(external_id="T-4"), merchant=merchant, amount="1", currency="CNY")
    )
    Claim.objects.filter(pk=asked.pk).update(expires_at=past)
    answered = services.answer(claim=asked, by=merchant_user, message="Here.")
    asked_again = services.request_info(
        claim=answered, by=flow.s, reason="missing_information", message="And the ad invoices."
    )
    assert services.expire_if_due(claim=asked.pk) is False
    assert Claim.objects.get(pk=asked.pk).state == ClaimState.INFO_REQUESTED and _events(asked) == 0
    assert asked_again.expires_at > timezone.now()


@pytest.mark.django_db
def test_reminder_three_days_before_once(proposed, merchant_user, django_capture_on_commit_callbacks):
    Claim.objects.filter(pk=proposed.pk).update(expires_at=timezone.now() + timedelta(days=4))
    assert tasks.send_expiry_reminders() == 0
    Claim.objects.filter(pk=proposed.pk).update(expires_at=timezone.now() + timedelta(days=2, hours=23))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_expiry_reminders() == 1
    assert tasks.send_expiry_reminders() == 0  # once
    assert ClaimNotification.objects.filter(recipient=merchant_user, subject__contains="expires soon").count() == 1
    assert any("expires soon" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_answered_request_does_not_expire(flow, proposed, merchant_user):
    claim = flow.info_requested(proposed)
    claim = services.answer(claim=claim, by=merchant_user, message="Here.")
    assert claim.expires_at is None
    assert tasks.expire_claims() == 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_recompute_task_on_a_real_worker(celery_worker_thread, merchant, merchant_user, support_user, support_user_2):
    incident = IncidentFactory(external_id="W-1")
    hit_session(incident, merchant)
    result = tasks.recompute_incident_claims.delay(incident.pk)
    assert result.get(timeout=30)["proposed"] == 1
    claim = Claim.objects.get(incident=incident)
    assert claim.state == ClaimState.PROPOSED and claim.computed_amount > 0
    Flow(merchant_user, support_user, support_user_2).submitted(claim)


@pytest.mark.django_db
def test_no_reminder_once_the_merchant_has_answered(flow, proposed, merchant_user):
    """The task picked the claim, then the merchant answered before the reminder was recorded."""
    asked = flow.info_requested(proposed)
    services.answer(claim=asked, by=merchant_user, message="Here.")
    assert services.record_reminder(claim=asked) is False  # asked is the stale instance the task would hold
    assert not ClaimEvent.objects.filter(claim=proposed, kind="reminder").exists()
