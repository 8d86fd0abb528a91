"""Incidents detected from telemetry: a run of down windows opens one (source ``telemetry``).

Detection reads the windows summed over a service's regions, finds the runs with the rules of
``telemetry.rules`` and the thresholds of ``settings.TELEMETRY_DETECTION``, and writes through
``incidents.services.upsert_incident`` so the incident has a timeline like any other. Each run
keeps a :class:`DetectedRun` row; a later detection that overlaps or touches it extends that
incident instead of opening another, so re-importing the same data never duplicates one.
Staff keep what they set (cause, title, acknowledgement); a voided incident is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from incidents.models import Cause, Impact, Incident, IncidentState, Region, Service
from incidents.records import IncidentRecord
from incidents.services import upsert_incident

from .models import DetectedRun, TelemetryWindow
from .rules import Run, down_runs, is_down
from .selectors import latest_window_end, summed_windows

SOURCE = "telemetry"
# Runs are looked for this far around the windows just written, so a run crossing their edge is seen whole.
LOOKAROUND = timedelta(hours=6)
_SEVERITY: list[str] = [Impact.DEGRADED_PERFORMANCE, Impact.PARTIAL_OUTAGE, Impact.MAJOR_OUTAGE]


@dataclass(frozen=True)
class DetectionSettings:
    threshold_percent: Decimal
    min_requests: int
    min_run_minutes: int
    major_percent: Decimal
    partial_percent: Decimal

    @classmethod
    def from_settings(cls) -> DetectionSettings:
        conf = settings.TELEMETRY_DETECTION
        return cls(
            threshold_percent=Decimal(str(conf["error_rate_threshold_percent"])),
            min_requests=int(conf["min_requests_per_window"]),
            min_run_minutes=int(conf["min_down_run_minutes"]),
            major_percent=Decimal(str(conf["major_outage_percent"])),
            partial_percent=Decimal(str(conf["partial_outage_percent"])),
        )

    def impact(self, peak: Fraction) -> str:
        if peak >= Fraction(self.major_percent):
            return Impact.MAJOR_OUTAGE
        if peak >= Fraction(self.partial_percent):
            return Impact.PARTIAL_OUTAGE
        return Impact.DEGRADED_PERFORMANCE


def percent(value: Fraction) -> Decimal:
    """An exact rate shown half-up to 4 decimals."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def detect_for_spans(*, spans: dict[int, tuple[datetime, datetime]], conf: DetectionSettings | None = None) -> list:
    """Detect runs for each service id around its ``(start, end)``; returns the incidents touched."""
    conf = conf or DetectionSettings.from_settings()
    touched = []
    for service_id, (start, end) in sorted(spans.items()):
        service = Service.objects.get(pk=service_id)
        touched += detect_service(service=service, start=start - LOOKAROUND, end=end + LOOKAROUND, conf=conf)
    return touched


def detect_service(*, service: Service, start: datetime, end: datetime, conf: DetectionSettings | None = None) -> list:
    conf = conf or DetectionSettings.from_settings()
    windows = summed_windows(service_ids=[service.pk], start=start, end=end)
    runs = down_runs(
        windows,
        threshold_percent=conf.threshold_percent,
        min_requests=conf.min_requests,
        min_run_minutes=conf.min_run_minutes,
    )
    last_end = latest_window_end(service_id=service.pk)
    return [incident for run in runs if (incident := _record_run(service, run, last_end, conf)) is not None]


def _run_regions(service: Service, run: Run, conf: DetectionSettings) -> list[Region]:
    """The regions that were down themselves during the run (all regions with data if none was alone)."""
    rows = TelemetryWindow.objects.filter(service=service, window_start__gte=run.start, window_start__lt=run.end)
    down, seen = set(), set()
    from .rules import Window

    for row in rows:
        seen.add(row.region_id)
        if is_down(
            Window(row.window_start, row.window_minutes, row.requests, row.failed_requests),
            threshold_percent=conf.threshold_percent,
            min_requests=0,
        ):
            down.add(row.region_id)
    return list(Region.objects.filter(pk__in=down or seen).order_by("code"))


def _detected_at(run: Run, conf: DetectionSettings) -> datetime:
    """The end of the window in which the run reached the minimum length (when it became an incident)."""
    total = 0
    for window in run.windows:
        total += window.minutes
        if total >= conf.min_run_minutes:
            return window.end
    return run.end


@transaction.atomic
def _record_run(service: Service, run: Run, last_end: datetime | None, conf: DetectionSettings) -> Incident | None:
    existing = (
        DetectedRun.objects.select_for_update()
        .select_related("incident")
        .filter(service=service, starts_at__lte=run.end, ends_at__gte=run.start)
        .order_by("starts_at")
        .first()
    )
    ongoing = last_end is not None and last_end <= run.end
    impact = conf.impact(run.peak_error_rate)
    regions = tuple(_run_regions(service, run, conf))
    if existing is None:
        started = run.start
        external_id = f"{service.code}:{run.start.astimezone(UTC):%Y%m%dT%H%MZ}"
        record = IncidentRecord(
            source=SOURCE,
            external_id=external_id,
            title=f"Error rate above {conf.threshold_percent}% on {service.code}",
            service=service,
            regions=regions,
            impact=impact,
            cause=Cause.UNKNOWN,
            started_at=started,
            detected_at=_detected_at(run, conf),
            resolved_at=None if ongoing else run.end,
            message=f"{len(run.windows)} windows down, peak error rate {percent(run.peak_error_rate)}%",
        )
    else:
        incident = existing.incident
        if incident.state == IncidentState.VOIDED:
            return None
        started = min(incident.started_at, run.start)
        ends = max(existing.ends_at, run.end)
        if _SEVERITY.index(incident.impact) > _SEVERITY.index(impact):
            impact = incident.impact
        resolved_at = incident.resolved_at
        if not ongoing or incident.state == IncidentState.RESOLVED:
            resolved_at = ends
        record = IncidentRecord(
            source=incident.source,
            external_id=incident.external_id,
            title=incident.title,
            service=service,
            regions=tuple(sorted(set(incident.regions.all()) | set(regions), key=lambda r: r.code)),
            impact=impact,
            cause=incident.cause,
            started_at=started,
            detected_at=min(incident.detected_at, _detected_at(run, conf)),
            acknowledged_at=incident.acknowledged_at,
            mitigated_at=incident.mitigated_at,
            resolved_at=resolved_at,
            message=f"{len(run.windows)} windows down, peak error rate {percent(run.peak_error_rate)}%",
        )
    incident = upsert_incident(record=record, origin=SOURCE).incident
    peak = percent(run.peak_error_rate)
    if existing is None:
        DetectedRun.objects.create(
            incident=incident,
            service=service,
            starts_at=run.start,
            ends_at=run.end,
            down_windows=len(run.windows),
            peak_error_rate_percent=peak,
        )
    else:
        existing.starts_at = min(existing.starts_at, run.start)
        existing.ends_at = max(existing.ends_at, run.end)
        if existing.starts_at == run.start and existing.ends_at == run.end:
            existing.down_windows = len(run.windows)
        else:
            existing.down_windows = max(existing.down_windows, len(run.windows))
        existing.peak_error_rate_percent = max(existing.peak_error_rate_percent, peak)
        existing.save()
    return incident


def incident_windows(incident: Incident):
    """The telemetry rows behind a detected incident (its service, its run's time range)."""
    run = getattr(incident, "telemetry_run", None)
    if run is None:
        return TelemetryWindow.objects.none()
    return TelemetryWindow.objects.filter(
        Q(service_id=run.service_id), window_start__gte=run.starts_at, window_start__lt=run.ends_at
    ).select_related("region")
