from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from incidents.models import Incident, MaintenanceWindow, Provider, Region, Service
from sla import services
from sla.models import SLAContract, SLAEvaluation

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
    provider = Provider.objects.create(name="Acme RTC", kind="rtc")
    Service.objects.create(provider=provider, code="rtc-video", name="RTC video")
    Service.objects.create(provider=provider, code="rtc-audio", name="RTC audio")
    Region.objects.create(code="cn-east", name="East China")
    other = Provider.objects.create(name="SwiftCDN", kind="cdn")
    Service.objects.create(provider=other, code="cdn-live", name="CDN live")
    return provider


@pytest.fixture
def make_contract(acme):
    def _make(code="RTC-2026", services=("rtc-video", "rtc-audio"), **kw):
        fields = {
            "version": 1,
            "provider": acme,
            "currency": "CNY",
            "monthly_fee": Decimal("200000.00"),
            "effective_from": date(2026, 1, 1),
            "availability_target": Decimal("99.95"),
            "partial_outage_weight": Decimal("0.5"),
            "degraded_weight": Decimal("0"),
            "maintenance_notice_hours": 48,
            "credit_tiers": [
                {"below": "99.95", "credit_percent": "10"},
                {"below": "99.0", "credit_percent": "25"},
                {"below": "95.0", "credit_percent": "100"},
            ],
            "recovery_targets": [{"impact": "major_outage", "max_minutes": 90, "credit_percent": "5"}],
            "first_response_minutes": 15,
            "claim_window_days": 30,
        }
        fields.update(kw)
        contract = SLAContract.objects.create(code=code, **fields)
        contract.services.set(Service.objects.filter(code__in=services))
        return contract

    return _make


@pytest.fixture
def make_incident(acme):
    def _make(start, end=None, service="rtc-video", impact="major_outage", cause="provider", state=None, **kw):
        n = next(_ids)
        state = state or ("resolved" if end else "detected")
        return Incident.objects.create(
            source="test",
            external_id=kw.pop("external_id", f"T-{n}"),
            title=f"Incident {n}",
            service=Service.objects.get(code=service),
            impact=impact,
            cause=cause,
            state=state,
            started_at=start,
            detected_at=kw.pop("detected_at", start),
            acknowledged_at=kw.pop("acknowledged_at", start),
            resolved_at=end if state == "resolved" else None,
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
    services.recompute([("RTC-2026", "2026-09"), ("RTC-2026", "2026-10")], now=sh(2026, 12, 5))
    return SLAEvaluation.objects.get(period=date(2026, 10, 1))
