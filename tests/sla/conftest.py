from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from incidents.models import MaintenanceWindow, Service
from sla import services
from sla.models import SLAEvaluation
from tests.factories import IncidentFactory, ProviderFactory, RegionFactory, ServiceFactory, SLAContractFactory

_ids = count(1)


def sh(year, month, day, hour=0, minute=0):
    """Shanghai wall time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture(autouse=True)
def eager_celery():
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def acme(db):
    provider = ProviderFactory(name="Acme RTC", kind="rtc")
    ServiceFactory(provider=provider, code="rtc-video", name="RTC video")
    ServiceFactory(provider=provider, code="rtc-audio", name="RTC audio")
    RegionFactory(code="cn-east", name="East China")
    ServiceFactory(provider=ProviderFactory(name="SwiftCDN", kind="cdn"), code="cdn-live", name="CDN live")
    return provider


@pytest.fixture
def make_contract(acme):
    def _make(code="RTC-2026", services=("rtc-video", "rtc-audio"), **kw):
        return SLAContractFactory(code=code, provider=acme, services=services, **kw)

    return _make


@pytest.fixture
def make_incident(acme):
    def _make(start, end=None, service="rtc-video", impact="major_outage", cause="provider", state=None, **kw):
        n = next(_ids)
        state = state or ("resolved" if end else "detected")
        kw.setdefault("external_id", f"T-{n}")
        kw.setdefault("detected_at", start)
        kw.setdefault("acknowledged_at", start)
        return IncidentFactory(
            title=f"Incident {n}",
            service=Service.objects.get(code=service),
            impact=impact,
            cause=cause,
            state=state,
            started_at=start,
            resolved_at=end if state == "resolved" else None,
            regions=[],
            **kw,
        )

    return _make


@pytest.fixture
def make_maintenance(acme):
    def _make(start, end, announced, service="rtc-video"):
        return MaintenanceWindow.objects.create(
            service=Service.objects.get(code=service), starts_at=start, ends_at=end, announced_at=announced
        )

    return _make


@pytest.fixture
def evaluated(make_contract, make_incident, make_maintenance):
    """RTC-2026 with September meeting its target and October breaching it (20000.00 CNY due)."""
    make_contract()
    make_incident(sh(2026, 9, 2, 10), sh(2026, 9, 2, 10, 5))  # September meets the target
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11), external_id="ACME-OCT-1")
    make_maintenance(sh(2026, 10, 5, 2), sh(2026, 10, 5, 4), announced=sh(2026, 9, 1))
    make_maintenance(sh(2026, 10, 6, 2), sh(2026, 10, 6, 4), announced=sh(2026, 10, 6, 1))
    services.recompute(pairs=[("RTC-2026", "2026-09"), ("RTC-2026", "2026-10")], now=sh(2026, 12, 5))
    return SLAEvaluation.objects.get(period=date(2026, 10, 1))
