"""Fixtures of the loss-engine tests (built on tests.factories): a catalogue and short-hands
for incidents, merchants, sessions and per-minute metrics around ``T0``."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import (
    MIN,
    IncidentFactory,
    LiveSessionFactory,
    MerchantFactory,
    RegionFactory,
    ServiceFactory,
    session_minutes,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # incident start in most tests

__all__ = ["MIN", "T0", "Factory"]


@pytest.fixture
def world(db):
    service = ServiceFactory(code="rtc-video", name="RTC video")
    other_service = ServiceFactory(code="cdn-live", name="CDN live")
    regions = {code: RegionFactory(code=code, name=code) for code in ("cn-east", "cn-north", "cn-south")}
    return {"service": service, "other_service": other_service, "regions": regions}


class Factory:
    """The factories with the defaults these tests share: ``f.incident(start, end)``, ``f.metrics(...)``."""

    def __init__(self, world):
        self.world = world

    def incident(
        self, start=T0, end=T0 + timedelta(minutes=20), *, cause="provider", regions=("cn-east",), service=None
    ):
        return IncidentFactory(
            title="outage",
            service=service or self.world["service"],
            cause=cause,
            state="resolved" if end else "detected",
            started_at=start,
            detected_at=start,
            resolved_at=end,
            regions=regions,
        )

    def merchant(self, code="m1", margin=None, currency="CNY"):
        return MerchantFactory(code=code, margin_rate=margin, currency=currency)

    def session(self, merchant, sid, start, end, *, service="rtc-video", region="cn-east"):
        return LiveSessionFactory(
            merchant=merchant, external_id=sid, service_code=service, region_code=region, started_at=start, ended_at=end
        )

    def metrics(self, session, start, minutes, gmv, ad_spend="0", skip=()):
        """``minutes`` rows from ``start``; ``gmv``/``ad_spend`` a value or a function of the index."""
        session_minutes(session, start, minutes, gmv, ad_spend, skip=skip)


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
