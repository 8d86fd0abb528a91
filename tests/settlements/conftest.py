"""Finance fixtures: accepted claims walked through the real workflow services."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from claims import services as wf
from incidents.models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from merchants.models import Merchant

T0 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
_seq = itertools.count(1)


def make_incident(external_id=None, start=T0, minutes=40, cause=Cause.PROVIDER, service_code="rtc-video"):
    provider, _ = Provider.objects.get_or_create(name="RTC Co", defaults={"kind": Provider.Kind.RTC})
    service, _ = Service.objects.get_or_create(
        code=service_code, defaults={"provider": provider, "name": "RTC video 实时视频"}
    )
    region, _ = Region.objects.get_or_create(code="cn-east", defaults={"name": "East China"})
    incident = Incident.objects.create(
        source="test",
        external_id=external_id or f"INC-{next(_seq)}",
        title="视频推流中断 Video ingest outage",
        service=service,
        impact=Impact.MAJOR_OUTAGE,
        cause=cause,
        state=IncidentState.RESOLVED,
        started_at=start,
        detected_at=start + timedelta(minutes=2),
        resolved_at=start + timedelta(minutes=minutes),
    )
    incident.regions.add(region)
    return incident


class Claims:
    """Builds claims in a given state through the workflow services."""

    def __init__(self, make_user):
        self.make_user = make_user
        self.support = make_user("sam-support", "support")
        self.support2 = make_user("sue-support", "support")
        self._users = {}

    def merchant(self, code="tea", name="茶馆 Tea House", currency="CNY"):
        merchant, created = Merchant.objects.get_or_create(code=code, defaults={"name": name, "currency": currency})
        if code not in self._users:
            self._users[code] = self.make_user(f"m-{code}", "merchant", merchants=[merchant])
        return merchant

    def user_of(self, merchant):
        return self._users[merchant.code]

    def proposed(self, amount="1200.00", merchant=None, incident=None):
        merchant = merchant or self.merchant()
        incident = incident or make_incident()
        return wf.propose(incident=incident, merchant=merchant, amount=Decimal(amount), currency=merchant.currency)

    def approved(self, amount="1200.00", merchant=None, incident=None):
        claim = self.proposed(amount, merchant, incident)
        user = self.user_of(claim.merchant)
        claim = wf.submit(claim, user)
        claim = wf.start_review(claim, self.support)
        return wf.approve(claim, self.support, "loss_confirmed", "与指标一致 Matches the metrics.")

    def accepted(self, amount="1200.00", merchant=None, incident=None):
        claim = self.approved(amount, merchant, incident)
        return wf.accept(claim, self.user_of(claim.merchant), "OK")


@pytest.fixture
def claims(make_user):
    return Claims(make_user)


@pytest.fixture
def finance(make_user):
    return make_user("fay-finance", "finance")
