import io
from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import Provider, Region, Service
from telemetry.services import COLUMNS


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
def catalogue(db):
    acme = Provider.objects.create(name="Acme RTC", kind="rtc")
    swift = Provider.objects.create(name="SwiftCDN", kind="cdn")
    Service.objects.create(provider=acme, code="rtc-video", name="RTC video")
    Service.objects.create(provider=acme, code="rtc-audio", name="RTC audio")
    Service.objects.create(provider=swift, code="cdn-live", name="CDN live")
    Region.objects.create(code="cn-east", name="East China")
    Region.objects.create(code="cn-south", name="South China")
    return {"acme": acme, "swift": swift}


def row(start, *, service="rtc-video", region="cn-east", minutes=5, requests=1000, failed=0, **metrics):
    data = {
        "service": service,
        "region": region,
        "window_start": start,
        "window_minutes": minutes,
        "requests": requests,
        "failed_requests": failed,
    }
    data.update(metrics)
    return data


def csv_bytes(rows, header=COLUMNS) -> io.BytesIO:
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r[c]) for c in COLUMNS))
    return io.BytesIO(("\n".join(lines) + "\n").encode())


@pytest.fixture
def make_contract(catalogue):
    from datetime import date
    from decimal import Decimal

    from sla.models import SLAContract

    def _make(code="RTC-TEL", services=("rtc-video", "rtc-audio"), **kw):
        fields = {
            "version": 1,
            "provider": catalogue["acme"],
            "currency": "CNY",
            "monthly_fee": Decimal("100000.00"),
            "effective_from": date(2026, 1, 1),
            "availability_target": Decimal("99.95"),
            "partial_outage_weight": Decimal("0.5"),
            "degraded_weight": Decimal("0"),
            "maintenance_notice_hours": 48,
            "credit_tiers": [
                {"below": "99.99", "credit_percent": "10"},
                {"below": "99.0", "credit_percent": "25"},
            ],
            "availability_method": "error_rate_windows",
            "error_rate_threshold_percent": Decimal("0.4"),
            "min_requests_per_window": 250,
            "min_down_run_minutes": 10,
        }
        fields.update(kw)
        contract = SLAContract.objects.create(code=code, **fields)
        contract.services.set(Service.objects.filter(code__in=services))
        return contract

    return _make


@pytest.fixture
def windows(catalogue):
    """``windows(start, n, requests=, failed=, service=, region=, **metrics)``: n consecutive 5-minute rows."""
    from telemetry.models import TelemetryWindow

    def _make(start, n=1, *, service="rtc-video", region="cn-east", minutes=5, requests=1000, failed=0, **metrics):
        s, r = Service.objects.get(code=service), Region.objects.get(code=region)
        TelemetryWindow.objects.bulk_create(
            [
                TelemetryWindow(
                    service=s,
                    region=r,
                    window_start=start + timedelta(minutes=minutes * i),
                    window_minutes=minutes,
                    requests=requests,
                    failed_requests=failed,
                    source="test",
                    **metrics,
                )
                for i in range(n)
            ]
        )

    return _make


@pytest.fixture
def two_providers(make_contract, windows):
    """Acme (error-rate windows contract, one 15-minute bad run, one quality target breached)
    and Bolt (incidents contract, one resolved provider incident with a postmortem note)."""
    from decimal import Decimal

    from incidents.models import Incident, IncidentUpdate
    from sla import services as sla_services

    make_contract(
        quality_targets=[{"metric": "join_p95_ms", "max": "600", "min_compliance_percent": "99", "credit_percent": "5"}]
    )
    bolt = Provider.objects.create(name="Bolt Live", kind="rtc")
    Service.objects.create(provider=bolt, code="bolt-rtc", name="Bolt RTC")
    make_contract(code="BOLT-1", services=("bolt-rtc",), provider=bolt, availability_method="incidents")
    windows(sh(2026, 11, 10), 3, failed=100, join_p95_ms=Decimal("900"), peak_concurrent=400)
    windows(sh(2026, 11, 10, 0, 15), 9, failed=0, join_p95_ms=Decimal("500"), peak_concurrent=300)
    windows(sh(2026, 11, 10), 12, region="cn-south", failed=0, join_p95_ms=Decimal("500"), peak_concurrent=250)
    windows(sh(2026, 11, 10), 12, service="bolt-rtc", failed=0, join_p95_ms=Decimal("450"))
    incident = Incident.objects.create(
        source="test",
        external_id="B-1",
        title="Bolt down",
        service=Service.objects.get(code="bolt-rtc"),
        impact="major_outage",
        cause="provider",
        state="resolved",
        started_at=sh(2026, 11, 12, 10),
        detected_at=sh(2026, 11, 12, 10, 5),
        acknowledged_at=sh(2026, 11, 12, 10, 25),
        resolved_at=sh(2026, 11, 12, 11, 40),
    )
    IncidentUpdate.objects.create(incident=incident, kind="note", origin="console", message="Postmortem PM-7 received")
    sla_services.recompute(
        pairs=[("RTC-TEL", "2026-11"), ("BOLT-1", "2026-11")], now=datetime(2026, 12, 20, tzinfo=UTC)
    )
    return bolt
