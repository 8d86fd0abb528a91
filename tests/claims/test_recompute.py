"""Recomputation after incident changes: proposals for hit merchants, updates, notes on decided claims."""

from datetime import timedelta
from decimal import Decimal

import pytest

from claims import services
from claims.models import Claim, ClaimEvent, ClaimState
from claims.recompute import sync_incident_claims
from incidents.signals import incident_changed
from tests.factories import Flow, IncidentFactory, hit_session

from .conftest import hit, make_incident

pytestmark = pytest.mark.django_db


def test_resolved_incident_proposes_claims_for_hit_merchants(merchant, other_merchant, merchant_user):
    incident = IncidentFactory(external_id="R-1")
    hit_session(incident, merchant)
    summary = sync_incident_claims(incident)
    assert summary["proposed"] == 1
    claim = Claim.objects.get(incident=incident)
    assert claim.merchant == merchant and claim.state == ClaimState.PROPOSED and claim.computed_amount > 0
    assert claim.currency == "CNY"
    # Idempotent: nothing changes on a second run.
    assert sync_incident_claims(incident) == {"proposed": 0, "updated": 0, "noted": 0, "unchanged": 1}


def test_undecided_claim_takes_new_amount_decided_claim_gets_a_note(
    merchant, merchant_user, support_user, support_user_2
):
    incident = IncidentFactory(external_id="R-2")
    hit_session(incident, merchant)
    sync_incident_claims(incident)
    claim = Claim.objects.get(incident=incident)
    first = claim.computed_amount
    # The incident turns out shorter: it was resolved 20 minutes earlier.
    type(incident).objects.filter(pk=incident.pk).update(resolved_at=incident.resolved_at - timedelta(minutes=20))
    incident.refresh_from_db()
    assert sync_incident_claims(incident)["updated"] == 1
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.computed_amount != first
    assert ClaimEvent.objects.filter(claim=claim, kind="recomputed").count() == 1

    claim = Flow(merchant_user, support_user, support_user_2).approved(claim)
    decided_amount = claim.approved_amount
    # ... and started 10 minutes later than first reported.
    type(incident).objects.filter(pk=incident.pk).update(
        started_at=incident.started_at + timedelta(minutes=10), detected_at=incident.detected_at + timedelta(minutes=10)
    )
    incident.refresh_from_db()
    assert sync_incident_claims(incident)["noted"] == 1
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.state == ClaimState.APPROVED and claim.approved_amount == decided_amount
    assert claim.computed_amount == decided_amount  # not changed silently
    assert claim.recomputed_amount is not None and claim.recomputed_amount != decided_amount
    note = ClaimEvent.objects.filter(claim=claim, kind="note").get()
    assert "not changed" in note.message
    assert sync_incident_claims(incident)["unchanged"] == 1  # the same differing figure: no second note

    # The start time is corrected back: the note about a different figure must go.
    type(incident).objects.filter(pk=incident.pk).update(
        started_at=incident.started_at - timedelta(minutes=10), detected_at=incident.detected_at - timedelta(minutes=10)
    )
    incident.refresh_from_db()
    assert sync_incident_claims(incident)["noted"] == 1
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.recomputed_amount is None and claim.approved_amount == decided_amount
    assert "matches" in ClaimEvent.objects.filter(claim=claim, kind="note").last().message


def test_merchant_no_longer_hit_gets_zero_on_undecided_claim(merchant):
    incident = IncidentFactory(external_id="R-3")
    proposal = services.propose(incident=incident, merchant=merchant, amount="50", currency="CNY")
    assert sync_incident_claims(incident)["updated"] == 1
    assert Claim.objects.get(pk=proposal.pk).computed_amount == Decimal("0.00")


def test_receiver_dispatches_task_on_commit(merchant, django_capture_on_commit_callbacks, settings, monkeypatch):
    calls = []
    monkeypatch.setattr("claims.tasks.recompute_incident_claims.delay", lambda pk: calls.append(pk))
    incident = IncidentFactory(external_id="R-4")
    with django_capture_on_commit_callbacks(execute=True):
        incident_changed.send(sender=type(incident), incident=incident, fields=["resolved_at"])
    assert calls == [incident.pk]
    calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident_changed.send(sender=type(incident), incident=incident, fields=["title"])
    assert calls == []


def test_task_skips_an_incident_that_hit_no_session_and_not_one_that_did(merchant, merchant_user):
    from claims.tasks import recompute_incident_claims
    from losses.models import LossAssessment

    quiet, loud = make_incident("R-QUIET", resolved_ago=timedelta(days=3)), make_incident("R-LOUD")
    hit(loud, merchant)
    assert recompute_incident_claims.apply(args=[quiet.pk]).get() == {"skipped": quiet.pk}
    assert not LossAssessment.objects.filter(incident=quiet).exists()
    assert recompute_incident_claims.apply(args=[loud.pk]).get()["proposed"] == 1


def test_only_changes_the_loss_depends_on_recompute_claims(merchant, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    monkeypatch.setattr("claims.tasks.recompute_incident_claims.delay", lambda pk: calls.append(pk))
    incident = make_incident("R-5")
    for fields, expected in ((["impact"], 0), (["acknowledged_at"], 0), (["cause"], 1), (["regions"], 1)):
        with django_capture_on_commit_callbacks(execute=True):
            incident_changed.send(sender=type(incident), incident=incident, fields=fields)
        assert len(calls) == expected, fields
        calls.clear()
