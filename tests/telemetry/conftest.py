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
