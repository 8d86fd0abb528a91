"""Factories for loss-engine tests: incidents, merchants, sessions and per-minute metrics."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from incidents.models import Incident, Provider, Region, Service
from merchants.models import LiveSession, Merchant, SessionMinute

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # incident start in most tests
MIN = timedelta(minutes=1)


@pytest.fixture
def world(db):
    provider = Provider.objects.create(name="RTC Co", kind="rtc")
    service = Service.objects.create(provider=provider, code="rtc-video", name="RTC video")
    other_service = Service.objects.create(provider=provider, code="cdn-live", name="CDN live")
    regions = {code: Region.objects.create(code=code, name=code) for code in ("cn-east", "cn-north", "cn-south")}
    return {"service": service, "other_service": other_service, "regions": regions}


class Factory:
    def __init__(self, world):
        self.world = world
        self.n = 0

    def incident(
        self, start=T0, end=T0 + timedelta(minutes=20), *, cause="provider", regions=("cn-east",), service=None
    ):
        self.n += 1
        incident = Incident(
            source="test",
            external_id=f"INC-{self.n}",
            title="outage",
            service=service or self.world["service"],
            impact="major_outage",
            cause=cause,
            state="resolved" if end else "detected",
            started_at=start,
            detected_at=start,
            resolved_at=end,
        )
        incident.save()
        incident.regions.set([self.world["regions"][r] for r in regions])
        return incident

    def merchant(self, code="m1", margin=None, currency="CNY"):
        return Merchant.objects.get_or_create(
            code=code, defaults={"name": code.upper(), "margin_rate": margin, "currency": currency}
        )[0]

    def session(self, merchant, sid, start, end, *, service="rtc-video", region="cn-east"):
        return LiveSession.objects.create(
            merchant=merchant,
            external_id=sid,
            service_code=service,
            region_code=region,
            started_at=start,
            ended_at=end,
        )

    def metrics(self, session, start, minutes, gmv, ad_spend="0", skip=()):
        """``minutes`` rows from ``start``; ``gmv``/``ad_spend`` a value or a function of the index."""
        rows = []
        for i in range(minutes):
            if i in skip:
                continue
            g = gmv(i) if callable(gmv) else gmv
            a = ad_spend(i) if callable(ad_spend) else ad_spend
            rows.append(
                SessionMinute(
                    session=session, minute=start + i * MIN, viewers=100, orders=1, gmv=Decimal(g), ad_spend=Decimal(a)
                )
            )
        SessionMinute.objects.bulk_create(rows)


@pytest.fixture
def f(world):
    return Factory(world)


@pytest.fixture
def v1_active(db):
    """Make policy version 1 (loss model v1) the active one: these tests pin v1's published rules,
    which stay reproducible for every assessment that used them."""
    from losses.models import CompensationPolicy

    CompensationPolicy.objects.update(is_active=False)
    CompensationPolicy.objects.filter(version=1).update(is_active=True)
