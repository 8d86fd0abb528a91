"""Reads of telemetry: windows summed over regions and services, quality figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Max, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import TelemetryWindow
from .rules import Window


def windows_qs(
    *, service_ids: Iterable[int], start: datetime, end: datetime, region_ids: Iterable[int] | None = None
) -> QuerySet[TelemetryWindow]:
    """Rows of the services (and regions) whose window starts in ``[start, end)``."""
    qs = TelemetryWindow.objects.filter(service_id__in=list(service_ids), window_start__gte=start, window_start__lt=end)
    if region_ids is not None:
        qs = qs.filter(region_id__in=list(region_ids))
    return qs


def summed_windows(
    *, service_ids: Iterable[int], start: datetime, end: datetime, region_ids: Iterable[int] | None = None
) -> list[Window]:
    """One :class:`Window` per window start, requests and failures summed in SQL over the rows."""
    rows = (
        windows_qs(service_ids=service_ids, start=start, end=end, region_ids=region_ids)
        .values("window_start")
        .annotate(minutes=Max("window_minutes"), requests=Sum("requests"), failed=Sum("failed_requests"))
        .order_by("window_start")
    )
    return [Window(r["window_start"], r["minutes"], int(r["requests"]), int(r["failed"])) for r in rows]


def latest_window_end(*, service_id: int) -> datetime | None:
    last = TelemetryWindow.objects.filter(service_id=service_id).order_by("-window_start").first()
    return last.window_end if last else None


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    value = parse_datetime(text)
    if value is None:
        raise ValueError(f"{name}: expected an ISO 8601 time")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def filtered_windows(
    *,
    service: str | None = None,
    region: str | None = None,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
) -> QuerySet[TelemetryWindow]:
    """Rows for lists and links: by service and region code, window start in ``[start, end)``."""
    qs = TelemetryWindow.objects.select_related("service", "region").order_by(
        "window_start", "service__code", "region__code"
    )
    if service:
        qs = qs.filter(service__code=service)
    if region:
        qs = qs.filter(region__code=region)
    start, end = (
        _moment(start, "start") if isinstance(start, str) else start,
        _moment(end, "end") if isinstance(end, str) else end,
    )
    if start:
        qs = qs.filter(window_start__gte=start)
    if end:
        qs = qs.filter(window_start__lt=end)
    return qs


def prometheus_pull_status(*, now: datetime | None = None) -> list[dict]:
    """Each active Prometheus source with how far its windows reach and how far that is behind now."""
    from .models import PrometheusSource

    now = now or timezone.now()
    rows = []
    for source in PrometheusSource.objects.filter(is_active=True).order_by("name"):
        lag = now - source.pulled_until if source.pulled_until else None
        rows.append(
            {
                "name": source.name,
                "pulled_until": source.pulled_until,
                "lag_minutes": int(lag.total_seconds() // 60) if lag is not None else None,
                "last_pull_at": source.last_pull_at,
                "last_error": source.last_error,
                "notes": source.notes,
            }
        )
    return rows
