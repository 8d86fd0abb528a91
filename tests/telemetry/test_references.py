"""The database keeps a window's service and region real (statement-level checks instead of
per-row foreign keys): no window without them, no deleting them while windows use them."""

import pytest
from django.db import IntegrityError, connection, transaction

from incidents.models import Region, Service
from telemetry.models import TelemetryWindow
from telemetry.services import ingest_windows

from .conftest import row, sh


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_window_needs_an_existing_service_and_region(catalogue):
    ingest_windows(rows=[row(sh(2026, 11, 1))], source="t")
    window = TelemetryWindow.objects.get()
    for sql in (
        "UPDATE telemetry_telemetrywindow SET service_id = 999999 WHERE id = %s",
        "UPDATE telemetry_telemetrywindow SET region_id = 999999 WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw(sql, [window.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        TelemetryWindow.objects.create(
            service_id=999999,
            region=window.region,
            window_start=sh(2026, 11, 2),
            window_minutes=5,
            requests=1,
            failed_requests=0,
            source="t",
        )


def test_a_service_or_region_with_windows_cannot_be_deleted(catalogue):
    ingest_windows(rows=[row(sh(2026, 11, 1))], source="t")
    service, region = Service.objects.get(code="rtc-video"), Region.objects.get(code="cn-east")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw("DELETE FROM incidents_region WHERE id = %s", [region.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw("DELETE FROM incidents_service WHERE id = %s", [service.pk])
    _raw("DELETE FROM incidents_region WHERE code = 'cn-south'")  # no windows: allowed
    assert not Region.objects.filter(code="cn-south").exists()
