"""Loading, storing, finalizing and correcting evaluations; credit claims; the incident signal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from core.errors import StateConflict
from incidents.signals import incident_changed
from sla import selectors, services
from sla.models import ContractLocked, CreditClaimState, ProviderCreditClaim, SLAEvaluation

from .conftest import sh

pytestmark = pytest.mark.django_db
DEC = sh(2026, 12, 5)  # "now": October and November are over (past the grace days)


def test_only_covered_provider_caused_not_voided_incidents_count(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))  # counts: 60
    make_incident(sh(2026, 10, 3, 10), sh(2026, 10, 3, 11), service="rtc-audio")  # counts: 60
    make_incident(sh(2026, 10, 4, 10), sh(2026, 10, 4, 11), service="cdn-live")  # not covered
    make_incident(sh(2026, 10, 5, 10), sh(2026, 10, 5, 11), cause="platform")  # platform's fault
    make_incident(sh(2026, 10, 6, 10), None, state="voided")  # false alarm
    make_incident(sh(2026, 9, 6, 10), sh(2026, 9, 6, 11))  # other month
    computed = selectors.compute_one(code="RTC-2026", period="2026-10", now=DEC)
    assert computed.result.downtime_minutes == Decimal("120.00")
    assert {row["service"] for row in computed.result.incidents} == {"rtc-video", "rtc-audio"}


def test_ongoing_incident_from_previous_month_counts(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 9, 30, 23), None, state="acknowledged")
    now = sh(2026, 10, 1, 2)
    r = selectors.compute_one(code="RTC-2026", period="2026-10", now=now).result
    assert r.downtime_minutes == Decimal("120.00")
    assert r.provisional


def test_maintenance_from_the_database(make_contract, make_incident, make_maintenance):
    make_contract()
    make_incident(sh(2026, 10, 2, 1), sh(2026, 10, 2, 5))
    make_maintenance(sh(2026, 10, 2, 2), sh(2026, 10, 2, 3), announced=sh(2026, 9, 1))  # in time
    make_maintenance(sh(2026, 10, 2, 3), sh(2026, 10, 2, 4), announced=sh(2026, 10, 1))  # 26 h: late
    make_maintenance(sh(2026, 10, 9, 3), sh(2026, 10, 9, 4), announced=sh(2026, 9, 1), service="cdn-live")
    r = selectors.compute_one(code="RTC-2026", period="2026-10", now=DEC).result
    assert r.excluded_minutes == Decimal("60.00")
    assert r.downtime_minutes == Decimal("180.00")
    assert r.eligible_minutes == Decimal(31 * 1440 - 60)


def test_queries_are_constant_in_the_number_of_contracts(make_contract, make_incident, django_assert_num_queries):
    for n in range(6):
        make_contract(code=f"C-{n}")
        make_incident(sh(2026, 10, n + 1, 10), sh(2026, 10, n + 1, 11))
    with django_assert_num_queries(4):
        one = selectors.compute(pairs=[("C-0", "2026-10")], now=DEC)
    with django_assert_num_queries(4):
        many = selectors.compute(pairs=[(f"C-{n}", "2026-10") for n in range(6)], now=DEC)
    assert one[0].result.downtime == many[0].result.downtime
    assert len(many) == 6


def test_version_in_effect_on_the_first_day_applies(make_contract, make_incident):
    make_contract(effective_to=date(2026, 10, 31))
    make_contract(version=2, effective_from=date(2026, 11, 1), monthly_fee=Decimal("300000.00"))
    make_incident(sh(2026, 11, 2, 10), sh(2026, 11, 2, 12))
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 12))
    assert selectors.compute_one(code="RTC-2026", period="2026-11", now=DEC).contract.version == 2
    oct_ = selectors.compute_one(code="RTC-2026", period="2026-10", now=DEC)
    assert oct_.contract.version == 1
    assert oct_.result.credit_amount == Decimal("30000.00")  # (10 % tier + 5 % recovery) of v1 fee
    with pytest.raises(selectors.ContractNotFound):
        selectors.compute_one(code="RTC-2026", period="2025-12", now=DEC)


def test_contract_starting_mid_month_counts_from_its_start(make_contract):
    make_contract(effective_from=date(2026, 10, 16))
    r = selectors.compute_one(code="RTC-2026", period="2026-10", now=DEC).result
    assert r.eligible_minutes == Decimal(16 * 1440)


def test_recompute_creates_then_finalizes_and_opens_a_claim(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    [running] = services.recompute(pairs=[("RTC-2026", "2026-10")], now=sh(2026, 10, 20))
    assert running.provisional and not running.is_final
    assert not ProviderCreditClaim.objects.exists()
    make_incident(sh(2026, 10, 25, 10), sh(2026, 10, 25, 11))
    [updated] = services.recompute(pairs=[("RTC-2026", "2026-10")], now=sh(2026, 10, 26))
    assert updated.pk == running.pk and updated.downtime_minutes == Decimal("120.00")
    [final] = services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    assert final.is_final and not final.provisional
    assert final.credit_amount == Decimal("20000.00")
    claim = ProviderCreditClaim.objects.get()
    assert claim.state == CreditClaimState.DUE
    assert claim.amount_claimed == Decimal("20000.00")
    assert claim.claim_deadline == date(2026, 11, 30)


def test_open_incident_holds_finalization(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 10, 31, 23), None)
    [e] = services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    assert e.provisional and not e.is_final


def test_finalized_evaluation_never_changes_and_correction_is_a_revision(make_contract, make_incident, finance_user):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    [final] = services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    make_incident(sh(2026, 10, 3, 10), sh(2026, 10, 3, 20))  # late report: 10 hours more
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC + timedelta(days=1))
    final.refresh_from_db()
    assert final.downtime_minutes == Decimal("60.00")
    assert final.outdated is True
    new = services.correct_evaluation(
        evaluation=final, reason="Late incident report T-x", by=finance_user, now=DEC + timedelta(days=2)
    )
    assert (new.revision, new.is_current, new.reason) == (2, True, "Late incident report T-x")
    assert new.downtime_minutes == Decimal("660.00")
    final.refresh_from_db()
    assert not final.is_current and final.downtime_minutes == Decimal("60.00")
    claim = ProviderCreditClaim.objects.get()
    assert claim.evaluation == new and claim.amount_claimed == new.credit_amount == Decimal(
        "60000.00"
    )  # 25 % tier + 5 % recovery
    assert SLAEvaluation.objects.filter(contract_code="RTC-2026").count() == 2
    with pytest.raises(ValueError):
        services.correct_evaluation(evaluation=final, reason="again")


def test_contract_used_by_finalized_evaluation_is_locked(make_contract):
    contract = make_contract()
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    contract.monthly_fee = Decimal("1.00")
    with pytest.raises(ContractLocked):
        contract.save()


def test_claim_lifecycle_is_logged(make_contract, make_incident, finance_user):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    claim = ProviderCreditClaim.objects.get()
    with pytest.raises(StateConflict):
        services.credit_claim(claim=claim, by=finance_user, amount=Decimal("1"))
    claim = services.file_claim(claim=claim, by=finance_user, reference="ACME-T-1", amount_claimed=claim.amount_claimed)
    claim = services.acknowledge_claim(claim=claim, by=finance_user)
    claim = services.credit_claim(claim=claim, by=finance_user, amount=Decimal("19999.995"))
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.CREDITED
    assert claim.amount_received == Decimal("20000.00")
    assert claim.provider_reference == "ACME-T-1"
    logs = list(claim.events.order_by("at", "id"))
    assert [(log.from_state, log.to_state) for log in logs] == [
        ("due", "filed"),
        ("filed", "acknowledged"),
        ("acknowledged", "credited"),
    ]
    assert all(log.actor == finance_user for log in logs)
    assert logs[0].message == "Filed with the provider"


def test_reject_needs_a_reason(make_contract, make_incident, finance_user):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    due = ProviderCreditClaim.objects.get()
    claim = services.acknowledge_claim(
        claim=services.file_claim(claim=due, by=finance_user, reference="ACME-T-3", amount_claimed=due.amount_claimed),
        by=None,
    )
    with pytest.raises(ValueError):
        services.reject_claim(claim=claim, by=finance_user, reason=" ")
    claim = services.reject_claim(claim=claim, by=finance_user, reason="outside the SLA scope")
    assert claim.state == "rejected" and claim.outstanding == 0


def test_deadline_warning(make_contract, make_incident, settings):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    claim = ProviderCreditClaim.objects.get()
    claim.claim_deadline = date.today() + timedelta(days=8)
    assert not claim.deadline_warning
    claim.claim_deadline = date.today() + timedelta(days=7)
    assert claim.deadline_warning
    claim.save()
    assert selectors.warning_claims() == [claim]


def test_incident_change_signal_recomputes_on_commit(make_contract, make_incident, django_capture_on_commit_callbacks):
    make_contract()
    incident = make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        incident_changed.send(sender=type(incident), incident=incident, fields=["resolved_at"])
    mine = [cb for cb in callbacks if cb.__qualname__.startswith("on_incident_changed")]  # other apps listen too
    assert len(mine) == 1
    assert not SLAEvaluation.objects.exists()  # nothing before the commit
    mine[0]()  # eager Celery in these tests
    e = SLAEvaluation.objects.get(contract_code="RTC-2026", period=date(2026, 10, 1))
    assert e.downtime_minutes == Decimal("60.00")


def test_pairs_for_incident_covers_every_month_it_spans(make_contract, make_incident):
    make_contract()
    incident = make_incident(sh(2026, 9, 30, 23), sh(2026, 11, 1, 1))
    assert services.pairs_for_incident(incident=incident) == [
        ("RTC-2026", date(2026, 9, 1)),
        ("RTC-2026", date(2026, 10, 1)),
        ("RTC-2026", date(2026, 11, 1)),
    ]


def test_nightly_evaluates_running_and_previous_month(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 11, 2, 10), sh(2026, 11, 2, 11))
    done = services.nightly(now=sh(2026, 12, 5, 3))
    assert {e.period for e in done} == {date(2026, 11, 1), date(2026, 12, 1)}
    nov = SLAEvaluation.objects.get(period=date(2026, 11, 1))
    assert nov.is_final and nov.credit_amount == Decimal("20000.00")
    assert not SLAEvaluation.objects.get(period=date(2026, 12, 1)).is_final


def test_an_edit_recomputes_the_contracts_and_months_the_incident_left(
    make_contract, acme, django_capture_on_commit_callbacks
):
    """Moving an incident to another service or an earlier/later month must reach the
    evaluations it no longer belongs to, not only those it now belongs to."""
    from incidents.records import IncidentRecordSerializer
    from incidents.services import upsert_incident

    make_contract("VIDEO", services=("rtc-video",))
    make_contract("AUDIO", services=("rtc-audio",))

    def upsert(**changes):
        data = {
            "source": "monitor",
            "external_id": "M-1",
            "title": "outage",
            "provider": "Acme RTC",
            "service": "rtc-video",
            "regions": ["cn-east"],
            "impact": "major_outage",
            "cause": "provider",
            "started_at": "2027-03-31T23:00:00+08:00",
            "detected_at": "2027-04-01T01:00:00+08:00",
            "resolved_at": "2027-04-01T01:00:00+08:00",
            **changes,
        }
        serializer = IncidentRecordSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        with django_capture_on_commit_callbacks(execute=True):
            upsert_incident(record=serializer.to_record(), origin="test")

    def downtime(code, month):
        return SLAEvaluation.objects.get(contract_code=code, period=date(2027, month, 1)).downtime_minutes

    upsert()
    assert (downtime("VIDEO", 3), downtime("VIDEO", 4)) == (Decimal("60.00"), Decimal("60.00"))
    upsert(started_at="2027-04-01T00:00:00+08:00")  # no longer in March
    assert (downtime("VIDEO", 3), downtime("VIDEO", 4)) == (Decimal("0.00"), Decimal("60.00"))
    upsert(started_at="2027-04-01T00:00:00+08:00", service="rtc-audio")  # no longer on VIDEO
    assert (downtime("VIDEO", 4), downtime("AUDIO", 4)) == (Decimal("0.00"), Decimal("60.00"))
