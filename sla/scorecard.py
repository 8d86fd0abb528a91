"""The provider scorecard: per provider and month, four dimensions side by side for providers
of one kind (README "Provider telemetry"), with 12-month trends and the links behind each figure.

Reads only. Each provider is judged by its contract in effect that month (the first contract
code when it has several): availability is shown by each method with that contract's terms (a
provider without a contract: the telemetry methods with the detection thresholds).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from incidents.models import Incident, IncidentState, IncidentUpdate, MaintenanceWindow, Provider
from telemetry.detection import DetectionSettings
from telemetry.models import TelemetryWindow
from telemetry.selectors import summed_windows

from . import evaluation as ev
from . import periods, selectors
from . import telemetry_evaluation as tev
from .models import ProviderCreditClaim, SLAContract, SLAEvaluation

TREND_MONTHS = 12
CREDIT_FIGURES = ("due", "filed", "received", "written_off", "still_due")
QUALITY_FIELDS = ("join_p95_ms", "stall_rate_percent", "hd_share_percent")


@dataclass
class Card:
    provider: Provider
    contract: SLAContract | None
    month: date
    window_start: datetime
    window_end: datetime
    stability: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)
    trend: list[dict] = field(default_factory=list)
    evaluation: SLAEvaluation | None = None


def _q(value, places: str = "0.01") -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(places), ROUND_HALF_UP)


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    return ev.month_window(month.year, month.month, tz)


def _contract_for(provider: Provider, month: date) -> SLAContract | None:
    versions = selectors.versions_by_code(
        codes=SLAContract.objects.filter(provider=provider).values_list("code", flat=True).distinct()
    )
    for code in sorted(versions):
        picked = periods.version_for_month(versions[code], month)
        if picked is not None:
            return picked[0]
    return None


def _availability_by_method(
    contract: SLAContract | None, computed, service_ids: list[int], ws: datetime, we: datetime, now: datetime
) -> dict[str, Decimal | None]:
    """Availability of the month by each method, with the contract's terms where it has them."""
    detection = DetectionSettings.from_settings()
    maintenance = [
        ev.MaintenanceIn(service=row.pop("service__code"), **row)
        for row in MaintenanceWindow.objects.filter(service_id__in=service_ids, starts_at__lt=we, ends_at__gt=ws)
        .order_by("starts_at", "id")
        .values(*selectors.MAINTENANCE_FIELDS)
    ]
    notice = contract.maintenance_notice_hours if contract else 0
    holes = tev.on_time_holes(maintenance, notice, ws, we)
    terms = tev.TelemetryTerms(
        threshold_percent=detection.threshold_percent,
        min_requests=detection.min_requests,
        min_run_minutes=detection.min_run_minutes,
    )
    if contract and contract.availability_method != tev.INCIDENTS:
        own = contract.telemetry_terms()
        terms = tev.TelemetryTerms(
            threshold_percent=own.threshold_percent,
            min_requests=own.min_requests,
            min_run_minutes=own.min_run_minutes,
        )
    windows = summed_windows(service_ids=service_ids, start=ws, end=we)
    out: dict[str, Decimal | None] = {tev.INCIDENTS: None}
    if contract is not None:
        if contract.availability_method == tev.INCIDENTS:
            out[tev.INCIDENTS] = computed.result.availability_percent
        else:
            incidents_only = ev.evaluate(
                contract.terms(),
                computed.result.window_start,
                computed.result.window_end,
                _incidents(contract, computed.result.window_start, computed.result.window_end),
                maintenance,
                now=now,
                claim_deadline=computed.result.claim_deadline,
            )
            out[tev.INCIDENTS] = incidents_only.availability_percent
    for method, func in ((tev.ERROR_RATE_WINDOWS, tev.error_rate_windows), (tev.MEAN_ERROR_RATE, tev.mean_error_rate)):
        figures = func(windows, terms=terms, ws=ws, we=we, holes=holes) if windows else None
        out[method] = (
            ev.round_half_up(figures.availability, 4) if figures and figures.availability is not None else None
        )
    return out


def _incidents(contract: SLAContract, ws: datetime, we: datetime) -> list[ev.IncidentIn]:
    from incidents.models import Cause

    return [
        ev.IncidentIn(service=row.pop("service__code"), **row)
        for row in Incident.objects.filter(service__in=contract.services.all(), cause=Cause.PROVIDER, started_at__lt=we)
        .exclude(state=IncidentState.VOIDED)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=ws))
        .order_by("started_at", "id")
        .values(*selectors.INCIDENT_FIELDS)
    ]


def _weighted(qs, name: str):
    """Request-weighted mean of a quality figure over the rows that have it."""
    product = ExpressionWrapper(F(name) * F("requests"), output_field=DecimalField(max_digits=30, decimal_places=4))
    row = qs.aggregate(
        total=Sum(product, filter=Q(**{f"{name}__isnull": False})),
        weight=Sum("requests", filter=Q(**{f"{name}__isnull": False})),
    )
    if not row["weight"]:
        return None
    return Decimal(row["total"]) / Decimal(row["weight"])


def _peak_concurrent(qs) -> int | None:
    """The largest sum over regions of one window's peak concurrent viewers."""
    top = qs.values("window_start").annotate(total=Sum("peak_concurrent")).order_by(F("total").desc(nulls_last=True))
    first = top.first()
    return first["total"] if first else None


def _response(provider: Provider, contract: SLAContract | None, ws: datetime, we: datetime, now: datetime) -> dict:
    incidents = list(
        Incident.objects.filter(service__provider=provider, started_at__gte=ws, started_at__lt=we)
        .exclude(state=IncidentState.VOIDED)
        .order_by("started_at")
    )
    first, resolve = [], []
    for inc in incidents:
        answered = inc.acknowledged_at or inc.mitigated_at or inc.resolved_at
        if answered:
            first.append((answered - inc.detected_at).total_seconds() / 60)
        if inc.resolved_at:
            resolve.append((inc.resolved_at - inc.started_at).total_seconds() / 60)
    postmortems = (
        IncidentUpdate.objects.filter(
            incident__in=[i for i in incidents if i.state == IncidentState.RESOLVED],
            kind=IncidentUpdate.Kind.NOTE,
            message__icontains="postmortem",
        )
        .values("incident")
        .distinct()
        .count()
    )
    targets = {t["impact"]: t["max_minutes"] for t in (contract.recovery_targets if contract else [])}
    return {
        "incidents": len(incidents),
        "first_response_minutes": _mean(first),
        "first_response_target": contract.first_response_minutes if contract else None,
        "resolve_minutes": _mean(resolve),
        "resolve_target": targets.get("major_outage"),
        "postmortems": postmortems,
        "resolved": sum(1 for i in incidents if i.state == IncidentState.RESOLVED),
    }


def _mean(values: list[float]) -> Decimal | None:
    # Seconds are whole in practice; the mean is shown to 0.1 minute.
    if not values:
        return None
    return _q(Decimal(str(sum(values))) / len(values), "0.1")


def _record(provider: Provider, month: date, currency: str | None) -> dict:
    first = SLAContract.objects.filter(provider=provider).order_by("effective_from").first()
    months = 0
    if first and first.effective_from <= ev.last_day(month.year, month.month):
        months = (month.year - first.effective_from.year) * 12 + month.month - first.effective_from.month + 1
    # Credits as every SLA page counts them (``selectors.credit_totals``), up to this month.
    claims = ProviderCreditClaim.objects.filter(provider=provider, period__lte=month, currency=currency or "")
    found = selectors.credit_totals(claims=claims).get(None, [])
    status = found[0] if found else selectors.CreditStatus(currency or "")
    return {
        "months_under_contract": months,
        **{f"credits_{k}": getattr(status, k) for k in CREDIT_FIGURES},
        "currency": currency or "",
    }


def _trend(provider: Provider, contract: SLAContract | None, month: date, tz: str) -> list[dict]:
    """Per month of the last 12: availability by the contract's method (stored evaluation) and quality."""
    months = []
    y, m = month.year, month.month
    for _i in range(TREND_MONTHS):
        months.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    months.reverse()
    evaluations = {}
    if contract is not None:
        evaluations = {
            e.period: e
            for e in SLAEvaluation.objects.filter(
                contract_code=contract.code, is_current=True, period__gte=months[0], period__lte=month
            ).defer("details")
        }
    start, _end = month_bounds(months[0], tz)
    _s, end = month_bounds(month, tz)
    zone = ZoneInfo(tz)
    product = lambda name: ExpressionWrapper(  # noqa: E731
        F(name) * F("requests"), output_field=DecimalField(max_digits=30, decimal_places=4)
    )
    rows = (
        TelemetryWindow.objects.filter(service__provider=provider, window_start__gte=start, window_start__lt=end)
        .annotate(month=TruncMonth("window_start", tzinfo=zone))
        .values("month")
        .annotate(
            n_requests=Sum("requests"),
            n_failed=Sum("failed_requests"),
            join=Sum(product("join_p95_ms"), filter=Q(join_p95_ms__isnull=False)),
            join_w=Sum("requests", filter=Q(join_p95_ms__isnull=False)),
            stall=Sum(product("stall_rate_percent"), filter=Q(stall_rate_percent__isnull=False)),
            stall_w=Sum("requests", filter=Q(stall_rate_percent__isnull=False)),
        )
        .order_by("month")
    )
    by_month = {r["month"].astimezone(zone).date().replace(day=1): r for r in rows}
    out = []
    for period in months:
        r: Mapping[str, Any] = by_month.get(period, {})
        e = evaluations.get(period)
        out.append(
            {
                "month": period,
                "evaluation": e,
                "availability": e.availability_percent if e else None,
                "error_rate": _q(Decimal(r["n_failed"] * 100) / r["n_requests"], "0.0001")
                if r.get("n_requests")
                else None,
                "join_p95_ms": _q(Decimal(r["join"]) / r["join_w"], "0.1") if r.get("join_w") else None,
                "stall_rate_percent": _q(Decimal(r["stall"]) / r["stall_w"], "0.0001") if r.get("stall_w") else None,
            }
        )
    return out


def scorecard(kind: str, month: date, *, now: datetime | None = None) -> list[Card]:
    """Cards of every provider of ``kind`` for ``month`` (first day), in name order."""
    now = now or timezone.now()
    cards = []
    for provider in Provider.objects.filter(kind=kind).order_by("name"):
        contract = _contract_for(provider, month)
        tz = contract.timezone if contract else settings.TIME_ZONE
        ws, we = month_bounds(month, tz)
        service_ids = (
            list(contract.services.values_list("pk", flat=True))
            if contract
            else list(provider.services.values_list("pk", flat=True))
        )
        rows = TelemetryWindow.objects.filter(service_id__in=service_ids, window_start__gte=ws, window_start__lt=we)
        card = Card(provider=provider, contract=contract, month=month, window_start=ws, window_end=we)
        computed = selectors.compute_one(code=contract.code, period=month, now=now) if contract else None
        card.stability = {
            "availability": _availability_by_method(contract, computed, service_ids, ws, we, now),
            "peak_concurrent": _peak_concurrent(rows),
            "windows": rows.count(),
        }
        card.response = _response(provider, contract, ws, we, now)
        card.stability["incidents"] = card.response["incidents"]
        card.stability["mttr_minutes"] = card.response["resolve_minutes"]
        card.quality = {name: _weighted(rows, name) for name in QUALITY_FIELDS}
        card.quality["join_p95_ms"] = _q(card.quality["join_p95_ms"], "0.1")
        card.quality["stall_rate_percent"] = _q(card.quality["stall_rate_percent"], "0.0001")
        card.quality["hd_share_percent"] = _q(card.quality["hd_share_percent"], "0.01")
        card.quality["targets"] = []
        if contract is not None and computed is not None:
            if computed.telemetry is not None:
                card.quality["targets"] = computed.telemetry.quality
            card.evaluation = (
                SLAEvaluation.objects.filter(contract_code=contract.code, period=month, is_current=True)
                .defer("details")
                .first()
            )
            card.stability["availability_contract"] = computed.result.availability_percent
        card.record = _record(provider, month, contract.currency if contract else None)
        card.trend = _trend(provider, contract, month, tz)
        cards.append(card)
    return cards


def card_json(card: Card) -> dict:
    def s(value):
        return None if value is None else str(value)

    return {
        "provider": card.provider.name,
        "kind": card.provider.kind,
        "month": f"{card.month:%Y-%m}",
        "contract": card.contract.code if card.contract else None,
        "availability_method": card.contract.availability_method if card.contract else None,
        "window_start": card.window_start.isoformat(),
        "window_end": card.window_end.isoformat(),
        "stability": {
            "availability_percent": {k: s(v) for k, v in card.stability["availability"].items()},
            "incidents": card.stability["incidents"],
            "mttr_minutes": s(card.stability["mttr_minutes"]),
            "peak_concurrent": card.stability["peak_concurrent"],
            "windows": card.stability["windows"],
        },
        "quality": {
            "join_p95_ms": s(card.quality["join_p95_ms"]),
            "stall_rate_percent": s(card.quality["stall_rate_percent"]),
            "hd_share_percent": s(card.quality["hd_share_percent"]),
            "targets": card.quality["targets"],
        },
        "service_response": {k: s(v) if isinstance(v, Decimal) else v for k, v in card.response.items()},
        "track_record": {k: s(v) if isinstance(v, Decimal) else v for k, v in card.record.items()},
        "trend": [
            {
                "month": f"{t['month']:%Y-%m}",
                "availability_percent": s(t["availability"]),
                "error_rate_percent": s(t["error_rate"]),
                "join_p95_ms": s(t["join_p95_ms"]),
                "stall_rate_percent": s(t["stall_rate_percent"]),
            }
            for t in card.trend
        ],
    }


CSV_COLUMNS = [
    "provider",
    "month",
    "contract",
    "availability_method",
    "availability_incidents_percent",
    "availability_error_rate_windows_percent",
    "availability_mean_error_rate_percent",
    "incidents",
    "mttr_minutes",
    "peak_concurrent",
    "join_p95_ms",
    "stall_rate_percent",
    "hd_share_percent",
    "quality_targets_breached",
    "first_response_minutes",
    "first_response_target",
    "resolve_minutes",
    "resolve_target",
    "postmortems",
    "months_under_contract",
    *(f"credits_{k}" for k in CREDIT_FIGURES),
    "currency",
]


def scorecard_csv(cards: list[Card]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for card in cards:
        data = card_json(card)
        a = data["stability"]["availability_percent"]
        r, t = data["service_response"], data["track_record"]
        breached = [q["metric"] for q in data["quality"]["targets"] if q["breached"]]
        writer.writerow(
            [
                data["provider"],
                data["month"],
                data["contract"] or "",
                data["availability_method"] or "",
                a["incidents"] or "",
                a["error_rate_windows"] or "",
                a["mean_error_rate"] or "",
                data["stability"]["incidents"],
                data["stability"]["mttr_minutes"] or "",
                data["stability"]["peak_concurrent"] or "",
                data["quality"]["join_p95_ms"] or "",
                data["quality"]["stall_rate_percent"] or "",
                data["quality"]["hd_share_percent"] or "",
                ";".join(breached),
                r["first_response_minutes"] or "",
                r["first_response_target"] or "",
                r["resolve_minutes"] or "",
                r["resolve_target"] or "",
                r["postmortems"],
                t["months_under_contract"],
                *(t[f"credits_{k}"] for k in CREDIT_FIGURES),
                t["currency"],
            ]
        )
    return out.getvalue()


def line_chart(points: list[tuple[str, Decimal | None]], width: int = 320, height: int = 120) -> dict:
    """A small SVG line for a trend: x per month, y scaled between the series' min and max."""
    left, right, top, bottom = 8, 8, 10, 22
    values = [v for _label, v in points if v is not None]
    low, high = (min(values), max(values)) if values else (Decimal(0), Decimal(1))
    if high == low:
        low, high = low - 1, high + 1
    step = (width - left - right) / max(len(points) - 1, 1)
    out = []
    for i, (label, value) in enumerate(points):
        x = round(left + i * step, 1)
        y = None if value is None else round(top + float((high - value) / (high - low)) * (height - top - bottom), 1)
        out.append({"x": x, "y": y, "label": label, "value": value})
    drawn = [p for p in out if p["y"] is not None]
    return {
        "width": width,
        "height": height,
        "points": drawn,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in drawn),
        "first": out[0]["label"] if out else "",
        "last": out[-1]["label"] if out else "",
        "label_y": height - 6,
        "right": width - right,
    }


def parse_month(value: str | None, now: datetime | None = None) -> date:
    if not value:
        today = timezone.localdate(now or timezone.now())
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return periods.period_date(value)
