"""Reads of the incident registry."""

from datetime import datetime
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from .models import OPEN_STATES, AlertSource, Incident, IncidentUpdate, ReceivedAlert


def incident_list() -> QuerySet[Incident]:
    """Incidents with what a list row shows, in few queries; ``filters.IncidentFilterSet`` narrows them.
    Ongoing incidents come first (they are what staff act on), then the newest."""
    ongoing = Case(When(state__in=OPEN_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Incident.objects.select_related("service__provider")
        .prefetch_related("regions")
        .annotate(closed=ongoing)
        .order_by("closed", "-started_at", "-id")
    )


def incident_detail(*, pk: int) -> Incident:
    updates = IncidentUpdate.objects.select_related("actor").order_by("created_at", "id")
    return (
        Incident.objects.select_related("service__provider")
        .prefetch_related("regions", Prefetch("updates", queryset=updates))
        .get(pk=pk)
    )


def timeline_bar(*, incident: Incident, now: datetime | None = None) -> dict[str, Any]:
    """Segments of the outage for a simple SVG bar: each phase as x/width in percent."""
    end = incident.resolved_at or now or timezone.now()
    candidates = [
        ("started", incident.started_at),
        ("detected", incident.detected_at),
        ("acknowledged", incident.acknowledged_at),
        ("mitigated", incident.mitigated_at),
    ]
    marks = [(name, at) for name, at in candidates if at is not None and at <= end]
    total = max((end - incident.started_at).total_seconds(), 1)
    segments = []
    for i, (name, at) in enumerate(marks):
        stop = marks[i + 1][1] if i + 1 < len(marks) else end
        x = (at - incident.started_at).total_seconds() / total * 100
        width = (stop - at).total_seconds() / total * 100
        segments.append({"phase": name, "start": at, "end": stop, "x": round(x, 3), "width": round(width, 3)})
    return {"segments": segments, "ongoing": incident.resolved_at is None, "minutes": round(total / 60)}


def received_alerts(*, source: str | None = None, unmapped: bool = False) -> QuerySet[ReceivedAlert]:
    """Alerts as received, newest first; ``unmapped`` keeps those no mapping could place."""
    qs = ReceivedAlert.objects.select_related("source", "incident")
    if source:
        qs = qs.filter(source__name=source)
    if unmapped:
        qs = qs.filter(incident__isnull=True)
    return qs


def alert_sources_overview() -> QuerySet[AlertSource]:
    """Each alert source with how many of its alerts are waiting for a mapping."""
    return AlertSource.objects.annotate(
        unmapped=Count("alerts", filter=Q(alerts__incident__isnull=True)),
        received=Count("alerts"),
    ).order_by("name")
