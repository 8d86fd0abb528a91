"""The SLA facts the staff claim page and the statements show for an incident."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from incidents.demo import seed_catalogue
from incidents.models import Incident
from sla import selectors
from sla.models import SLAContract, SLAEvaluation

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def make_evaluation(contract, period, availability):
    return SLAEvaluation.objects.create(
        contract=contract,
        contract_code=contract.code,
        period=period,
        evaluated_at=datetime(2026, 11, 1, tzinfo=SH),
        eligible_minutes=Decimal("44640"),
        excluded_minutes=0,
        downtime_minutes=Decimal("77.00"),
        availability_percent=availability,
        availability_target=Decimal("99.95"),
        tier_credit_percent=Decimal("10"),
        credit_percent=Decimal("10"),
        credit_amount=Decimal("20000.00"),
        currency="CNY",
        claim_deadline=datetime(2026, 11, 30).date(),
    )


def test_facts_come_from_the_month_in_the_contract_time_zone():
    services, regions = seed_catalogue()
    contract = SLAContract.objects.create(
        code="RTC-2026",
        provider=services["rtc-video"].provider,
        currency="CNY",
        monthly_fee=Decimal("200000"),
        effective_from=datetime(2026, 1, 1).date(),
        availability_target=Decimal("99.95"),
        partial_outage_weight=Decimal("0.5"),
        degraded_weight=Decimal("0"),
        credit_tiers=[],
        recovery_targets=[],
    )
    contract.services.add(services["rtc-video"])
    make_evaluation(contract, datetime(2026, 9, 1).date(), Decimal("99.9900"))
    make_evaluation(contract, datetime(2026, 10, 1).date(), Decimal("99.8275"))
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai: the October evaluation applies.
    incident = Incident.objects.create(
        source="t",
        external_id="1",
        title="t",
        service=services["rtc-video"],
        impact="major_outage",
        started_at=datetime(2026, 9, 30, 17, 0, tzinfo=ZoneInfo("UTC")),
        detected_at=datetime(2026, 9, 30, 17, 0, tzinfo=ZoneInfo("UTC")),
    )
    facts = selectors.facts_for_incident(incident=incident)
    assert facts["RTC-2026 2026-10 availability"] == "99.8275 % (target 99.9500 %), provisional"
    assert facts["RTC-2026 2026-10 service credit"] == "10.00 % = 20,000.00 CNY"
    other = Incident.objects.create(
        source="t",
        external_id="2",
        title="t",
        service=services["cdn-live"],
        impact="major_outage",
        started_at=datetime(2026, 10, 5, tzinfo=SH),
        detected_at=datetime(2026, 10, 5, tzinfo=SH),
    )
    assert selectors.facts_for_incident(incident=other) == {}
