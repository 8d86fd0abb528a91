"""The SLA demo data: works alone, idempotent, and a month breaches a tier."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest

from sla import demo
from sla.models import ProviderCreditClaim, SLAContract, SLAEvaluation

pytestmark = pytest.mark.django_db


def test_demo_seed_alone_is_idempotent_and_breaches_a_tier():
    demo.seed(StringIO())
    counts = (SLAContract.objects.count(), SLAEvaluation.objects.count(), ProviderCreditClaim.objects.count())
    demo.seed(StringIO())
    assert (SLAContract.objects.count(), SLAEvaluation.objects.count(), ProviderCreditClaim.objects.count()) == counts
    assert sorted(SLAContract.objects.values_list("code", "version")) == [
        ("CDN-LIVE-2026", 1),
        ("NIMBUS-2026", 1),
        ("RTC-2026", 1),
        ("RTC-2026", 2),
    ]
    october = SLAEvaluation.objects.get(contract_code="RTC-2026", period=date(2026, 10, 1), is_current=True)
    assert october.availability_percent < october.availability_target
    assert october.tier_credit_percent > 0 and october.credit_amount > Decimal("0")
    assert [b["incident"] for b in october.recovery_breaches] == ["SLA-DEMO-1001"]
    september = ProviderCreditClaim.objects.get(contract_code="RTC-2026", period=date(2026, 9, 1))
    assert september.state == "credited" and september.amount_received == september.amount_claimed
