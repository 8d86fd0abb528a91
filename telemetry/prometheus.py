"""Telemetry pulled from Prometheus: each source's PromQL queries are evaluated over
``/api/v1/query_range`` at every 5-minute window end since the last pull, and the windows
are stored through ``ingest_windows`` (idempotent by service, region and window start).

A window ``[t, t + 5 min)`` takes the value each query has at ``t + 5 min``; with
``increase(x[5m])`` that is the counter's growth over the window. The pull moves
``pulled_until`` only when the windows are stored, so a collector that was down (or a
Prometheus that did not answer) is caught up by the next pull.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from incidents.models import Region, Service

from .models import PrometheusSource, TelemetryWindow
from .services import TelemetryInputError, ingest_windows

STEP = timedelta(minutes=PrometheusSource.STEP_MINUTES)
# A day a pull (a pull runs every minute, so a week's gap is back-filled in a week of minutes):
# few enough points for Prometheus (at most 11,000 a series) and for the task time limit.
MAX_WINDOWS_PER_PULL = 24 * 12
MAX_NOTES = 50
_COUNTS = {"requests", "failed_requests"}
_PLACES = {
    "stall_rate_percent": Decimal("0.0001"),
    "hd_share_percent": Decimal("0.0001"),
    "join_p95_ms": Decimal("0.001"),
}
_PERCENTS = {"stall_rate_percent", "hd_share_percent"}


class PrometheusError(Exception):
    """Prometheus could not be reached or refused a query; the pull is retried next time."""


@dataclass
class PullResult:
    source: str
    windows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pulled_until: datetime | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "windows": self.windows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "pulled_until": self.pulled_until.isoformat() if self.pulled_until else None,
            "error": self.error,
            "notes": self.notes,
        }


def floor_to_step(moment: datetime) -> datetime:
    seconds = int(STEP.total_seconds())
    return datetime.fromtimestamp(math.floor(moment.timestamp() / seconds) * seconds, tz=UTC)


def query_range(source: PrometheusSource, query: str, *, start: datetime, end: datetime, timeout=10) -> list[dict]:
    """The matrix ``/api/v1/query_range`` answers for ``query`` from ``start`` to ``end`` (5-minute step)."""
    url = source.base_url.rstrip("/") + "/api/v1/query_range"
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise PrometheusError(f"{source.name}: the URL must be http or https")
    body = urllib.parse.urlencode(
        {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": "300"}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if source.bearer_token:
        headers["Authorization"] = f"Bearer {source.bearer_token}"
    elif source.username:
        pair = base64.b64encode(f"{source.username}:{source.password}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            detail = exc.reason
        raise PrometheusError(f"{source.name}: HTTP {exc.code}: {detail} (query: {query})") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
        raise PrometheusError(f"{source.name}: {url} did not answer: {exc}") from exc
    data = payload.get("data") if isinstance(payload, dict) else None
    if payload.get("status") != "success" or not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise PrometheusError(f"{source.name}: unexpected answer to {query!r}")
    return data.get("result") or []


def _value(metric: str, text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return None
    if not value.is_finite() or value < 0:
        return None
    if metric in _COUNTS:
        return value.quantize(Decimal(1), ROUND_HALF_UP)
    value = value.quantize(_PLACES[metric], ROUND_HALF_UP)
    if metric in _PERCENTS and value > 100:
        return None
    return value


def _collect(source: PrometheusSource, start: datetime, end: datetime) -> tuple[list[dict], list[str]]:
    """Rows for ``ingest_windows`` for the windows ending in ``(start, end]``, and notes on what was left out."""
    services = set(Service.objects.values_list("code", flat=True))
    regions = set(Region.objects.values_list("code", flat=True))
    windows: dict[tuple[str, str, datetime], dict] = {}
    notes: list[str] = []
    for metric, field_name in PrometheusSource.QUERY_FIELDS.items():
        query = getattr(source, field_name).strip()
        if not query:
            continue
        seen = set()
        for series in query_range(source, query, start=start + STEP, end=end):
            labels = series.get("metric") or {}
            service, region = labels.get(source.service_label), labels.get(source.region_label)
            if not service or not region:
                notes.append(
                    f"{metric}: a series without '{source.service_label}' or '{source.region_label}': {labels}"
                )
                continue
            if service not in services or region not in regions:
                notes.append(f"{metric}: unknown service or region {service}/{region}")
                continue
            if (service, region) in seen:
                raise PrometheusError(
                    f"{source.name}: {field_name} gives several series for {service}/{region}; "
                    f"aggregate with sum by ({source.service_label}, {source.region_label})"
                )
            seen.add((service, region))
            for stamp, text in series.get("values") or []:
                window_start = datetime.fromtimestamp(float(stamp), tz=UTC) - STEP
                value = _value(metric, text)
                if value is None:
                    notes.append(f"{metric} {service}/{region} at {window_start.isoformat()}: {text} left out")
                    continue
                windows.setdefault((service, region, window_start), {})[metric] = value
    rows = []
    for (service, region, window_start), values in sorted(windows.items()):
        if "requests" not in values:
            continue  # no traffic measured: nothing to store for this window
        requests = int(values["requests"])
        rows.append(
            {
                "service": service,
                "region": region,
                "window_start": window_start,
                "window_minutes": PrometheusSource.STEP_MINUTES,
                "requests": requests,
                "failed_requests": min(int(values.get("failed_requests", 0)), requests),
                "stall_rate_percent": values.get("stall_rate_percent"),
                "join_p95_ms": values.get("join_p95_ms"),
                "hd_share_percent": values.get("hd_share_percent"),
            }
        )
    return rows, list(dict.fromkeys(notes))[:MAX_NOTES]


def _resume_from(source: PrometheusSource, now: datetime) -> datetime:
    if source.pulled_until:
        return source.pulled_until
    last = TelemetryWindow.objects.filter(source=source.telemetry_source).aggregate(last=Max("window_start"))["last"]
    if last:
        return last + STEP
    return floor_to_step(now - timedelta(hours=source.backfill_hours))


def pull_source(*, source_id: int, now: datetime | None = None) -> PullResult | None:
    """Pull the windows a source has ready since its last pull (at most a day per call).

    ``None`` when the source is inactive or another pull holds it right now."""
    now = now or timezone.now()
    with transaction.atomic():
        source = (
            PrometheusSource.objects.select_for_update(skip_locked=True).filter(pk=source_id, is_active=True).first()
        )
        if source is None:
            return None
        result = PullResult(source=source.name, pulled_until=source.pulled_until)
        ready = floor_to_step(now - timedelta(seconds=source.settle_seconds))
        start = _resume_from(source, now)
        end = min(ready, start + MAX_WINDOWS_PER_PULL * STEP)
        source.last_pull_at = now
        if end <= start:
            source.last_error = ""
            source.save(update_fields=["last_pull_at", "last_error"])
            return result
        try:
            rows, result.notes = _collect(source, start, end)
            ingested = ingest_windows(rows=rows, source=source.telemetry_source)
        except (PrometheusError, TelemetryInputError) as exc:
            result.error = source.last_error = str(exc)
            source.save(update_fields=["last_pull_at", "last_error"])
            return result
        result.windows, result.created = ingested.rows, ingested.created
        result.updated, result.unchanged = ingested.updated, ingested.unchanged
        result.pulled_until = source.pulled_until = end
        source.last_error, source.notes = "", result.notes
        source.save(update_fields=["pulled_until", "last_pull_at", "last_error", "notes"])
        return result


def pull_all(*, now: datetime | None = None) -> list[PullResult]:
    """One pull of every active source, one after the other (``manage.py pull_prometheus``)."""
    results = []
    for source_id in PrometheusSource.objects.filter(is_active=True).values_list("pk", flat=True):
        result = pull_source(source_id=source_id, now=now)
        if result is not None:
            results.append(result)
    return results
