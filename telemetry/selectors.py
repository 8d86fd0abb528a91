"""Reads of telemetry: windows summed over regions and services, quality figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Max, Sum

from .models import TelemetryWindow
from .rules import Window


def windows_qs(*, service_ids: Iterable[int], start: datetime, end: datetime, region_ids: Iterable[int] | None = None):
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
