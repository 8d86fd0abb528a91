"""Availability from measured error rates, and quality targets (README "Provider telemetry").

Kept apart from ``sla.evaluation.evaluate`` (the incident rules): that evaluation still runs for
every contract (recovery and response breaches always come from incidents); for a contract
whose ``availability_method`` is ``error_rate_windows`` or ``mean_error_rate``,
:func:`apply_telemetry` replaces its availability and recomputes the credit with the same tiers,
cap and minimum, and adds the credit of breached quality targets (any method).

Pure functions over plain values come first; :func:`telemetry_inputs` reads the database.
Exact arithmetic throughout (``Fraction``), rounded half-up only when shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from telemetry.rules import Window, down_runs, is_down

from . import evaluation as ev

INCIDENTS = "incidents"
ERROR_RATE_WINDOWS = "error_rate_windows"
MEAN_ERROR_RATE = "mean_error_rate"
METHODS = (INCIDENTS, ERROR_RATE_WINDOWS, MEAN_ERROR_RATE)
QUALITY_METRICS = ("join_p95_ms", "stall_rate_percent", "hd_share_percent")
DEFAULT_WINDOW_MINUTES = 5


@dataclass(frozen=True)
class QualityTarget:
    metric: str
    limit: Decimal
    is_max: bool  # True: the metric must be ≤ limit; False: ≥ limit
    min_compliance_percent: Decimal
    credit_percent: Decimal

    def as_json(self) -> dict:
        return {
            "metric": self.metric,
            "max" if self.is_max else "min": str(self.limit),
            "min_compliance_percent": str(self.min_compliance_percent),
            "credit_percent": str(self.credit_percent),
        }


@dataclass(frozen=True)
class TelemetryTerms:
    method: str = INCIDENTS
    threshold_percent: Decimal = Decimal("0")
    min_requests: int = 0
    min_run_minutes: int = 0
    quality_targets: tuple[QualityTarget, ...] = ()

    @property
    def needed(self) -> bool:
        return self.method != INCIDENTS or bool(self.quality_targets)


@dataclass
class QualityCounts:
    """Per window start: ``(window minutes, pairs with the metric, pairs meeting the target)``."""

    target: QualityTarget
    by_window: dict[datetime, tuple[int, int, int]] = field(default_factory=dict)


@dataclass
class TelemetryFigures:
    method: str
    availability: Fraction | None = None  # exact percent, None for the incidents method
    down_windows: int = 0
    down_us: int = 0
    eligible_windows: int = 0
    runs: list[dict] = field(default_factory=list)
    quality: list[dict] = field(default_factory=list)
    quality_credit_percent: Decimal = Decimal("0")

    def as_json(self) -> dict:
        return {
            "availability_method": self.method,
            "down_windows": self.down_windows,
            "eligible_windows": self.eligible_windows,
            "runs": self.runs,
            "quality": self.quality,
            "quality_credit_percent": str(self.quality_credit_percent),
        }


def _overlaps(start_us: int, end_us: int, holes: list[tuple[int, int]]) -> bool:
    return any(hs < end_us and he > start_us for hs, he in holes)


def _pct4(value: Fraction) -> str:
    return str(ev.round_half_up(value, 4))


def error_rate_windows(
    windows: list[Window], *, terms: TelemetryTerms, ws: datetime, we: datetime, holes: list[tuple[int, int]]
) -> TelemetryFigures:
    """Down windows, the runs that count and availability = (eligible − down) / eligible.

    ``windows``: summed over the covered services' regions, starting in ``[ws, we)``, sorted.
    Runs are measured within the month before maintenance is taken out (as rule 2); their
    time then loses the announced maintenance (``holes``, µs), as does the month's total.
    """
    ws_us, we_us = ev.to_us(ws), ev.to_us(we)
    kw: dict[str, Any] = {"threshold_percent": terms.threshold_percent, "min_requests": terms.min_requests}
    runs = [r for r in down_runs(windows, min_run_minutes=terms.min_run_minutes, **kw) if r.end > ws]
    down_windows = sum(1 for w in windows if w.start >= ws and is_down(w, **kw))
    segments = [
        ev.Segment(max(ev.to_us(r.start), ws_us), min(ev.to_us(r.end), we_us), 1, i) for i, r in enumerate(runs)
    ]
    kept = ev.subtract([s for s in segments if s.end > s.start], holes)
    counted = [0] * len(runs)
    for seg in kept:
        counted[seg.owner] += seg.length
    down_us = sum(counted)
    eligible_us = max(0, we_us - ws_us) - ev.covered_length(holes, ws_us, we_us)
    availability = ev.HUNDRED if eligible_us <= 0 else Fraction(eligible_us - down_us) * 100 / eligible_us
    zone = ws.tzinfo
    return TelemetryFigures(
        method=ERROR_RATE_WINDOWS,
        availability=availability,
        down_windows=down_windows,
        down_us=down_us,
        runs=[
            {
                "start": run.start.astimezone(zone).isoformat(),
                "end": run.end.astimezone(zone).isoformat(),
                "minutes": run.minutes,
                "windows": len(run.windows),
                "peak_error_rate_percent": _pct4(run.peak_error_rate),
                "counted_minutes": str(ev.minutes(counted[i])),
            }
            for i, run in enumerate(runs)
        ],
    )


def _slots(ws: datetime, we: datetime, minutes: int, holes: list[tuple[int, int]]) -> list[int]:
    """Starts (µs) of the month's window slots that do not touch announced maintenance."""
    step = minutes * ev.MINUTE_US
    start, end = ev.to_us(ws), ev.to_us(we)
    return [s for s in range(start, end, step) if not _overlaps(s, min(s + step, end), holes)]


def mean_error_rate(
    windows: list[Window], *, terms: TelemetryTerms, ws: datetime, we: datetime, holes: list[tuple[int, int]]
) -> TelemetryFigures:
    """Availability = 100 % − the mean error rate over the month's eligible window slots.

    Slots are the month cut into windows of the data's length (5 minutes without data) from
    its first instant; a slot touching announced maintenance is not eligible. A slot without a
    row, or with fewer requests than the minimum, counts as 0 % (as CloudFront does).
    """
    minutes = max((w.minutes for w in windows), default=DEFAULT_WINDOW_MINUTES)
    slots = _slots(ws, we, minutes, holes)
    step = minutes * ev.MINUTE_US
    first = ev.to_us(ws)
    eligible = set(slots)
    total = Fraction(0)
    kw: dict[str, Any] = {"threshold_percent": terms.threshold_percent, "min_requests": terms.min_requests}
    for w in windows:
        slot = first + (ev.to_us(w.start) - first) // step * step
        if slot in eligible and w.requests >= terms.min_requests and w.requests:
            total += w.error_rate
    mean = total / len(slots) if slots else Fraction(0)
    return TelemetryFigures(
        method=MEAN_ERROR_RATE,
        availability=ev.HUNDRED - mean,
        down_windows=sum(1 for w in windows if is_down(w, **kw)),
        down_us=0,
        eligible_windows=len(slots),
    )


def quality(counts: list[QualityCounts], *, holes: list[tuple[int, int]]) -> tuple[list[dict], Decimal]:
    """Compliance per target = pairs meeting it / eligible pairs; a breach adds its credit."""
    rows, credit = [], Decimal("0")
    for item in counts:
        total = meeting = 0
        for start, (minutes, with_metric, ok) in item.by_window.items():
            s = ev.to_us(start)
            if _overlaps(s, s + minutes * ev.MINUTE_US, holes):
                continue
            total += with_metric
            meeting += ok
        compliance = Fraction(meeting * 100, total) if total else ev.HUNDRED
        breached = compliance < Fraction(item.target.min_compliance_percent)
        if breached:
            credit += item.target.credit_percent
        rows.append(
            {
                **item.target.as_json(),
                "pairs": total,
                "meeting": meeting,
                "compliance_percent": _pct4(compliance),
                "breached": breached,
                "credit_percent": str(item.target.credit_percent if breached else Decimal("0")),
            }
        )
    return rows, credit


def on_time_holes(maintenance: list[ev.MaintenanceIn], notice_hours: int, ws: datetime, we: datetime):
    """Announced maintenance (rule 3) as disjoint ``(start, end)`` µs intervals within the month."""
    notice = notice_hours * 3600 * ev.US
    ws_us, we_us = ev.to_us(ws), ev.to_us(we)
    spans = []
    for mw in maintenance:
        ms, me = ev.to_us(mw.starts_at), ev.to_us(mw.ends_at)
        if ev.to_us(mw.announced_at) <= ms - notice:
            spans.append((max(ms, ws_us), min(me, we_us)))
    return ev.union(spans)


def apply_telemetry(
    result: ev.Result,
    terms: ev.Terms,
    tterms: TelemetryTerms,
    windows: list[Window],
    counts: list[QualityCounts],
    maintenance: list[ev.MaintenanceIn],
) -> tuple[ev.Result, TelemetryFigures]:
    """The incident-based ``result`` with availability by the contract's method and quality credits."""
    ws, we = result.window_start, result.window_end
    holes = on_time_holes(maintenance, terms.maintenance_notice_hours, ws, we)
    if tterms.method == ERROR_RATE_WINDOWS:
        figures = error_rate_windows(windows, terms=tterms, ws=ws, we=we, holes=holes)
    elif tterms.method == MEAN_ERROR_RATE:
        figures = mean_error_rate(windows, terms=tterms, ws=ws, we=we, holes=holes)
    else:
        figures = TelemetryFigures(method=INCIDENTS)
    figures.quality, figures.quality_credit_percent = quality(counts, holes=holes)

    changes: dict = {}
    availability = result.availability
    if figures.availability is not None:
        availability = figures.availability
        downtime = (
            Fraction(figures.down_us)
            if tterms.method == ERROR_RATE_WINDOWS
            else (ev.HUNDRED - availability) * result.eligible_us / 100
        )
        changes.update(
            availability=availability,
            availability_percent=ev.round_half_up(availability, 4),
            downtime=downtime,
            tier_credit_percent=ev._pct(ev.tier_credit(availability, terms.credit_tiers)),
        )
    tier = changes.get("tier_credit_percent", result.tier_credit_percent)
    uncapped = tier + result.recovery_credit_percent + result.response_credit_percent + figures.quality_credit_percent
    credit = min(uncapped, terms.credit_cap_percent)
    amount = ev.round_half_up(Fraction(credit) * Fraction(terms.monthly_fee) / 100, 2)
    below_minimum = Decimal("0") < amount < terms.min_credit_amount
    changes.update(
        uncapped_credit_percent=ev._pct(uncapped),
        credit_percent=ev._pct(credit),
        credit_amount=Decimal("0.00") if below_minimum else amount,
        below_minimum_credit=below_minimum,
    )
    return dataclasses.replace(result, **changes), figures


# --------------------------------------------------------------------------- database reads


def telemetry_inputs(
    service_ids: list[int], tterms: TelemetryTerms, ws: datetime, we: datetime, lookback: timedelta | None = None
) -> tuple[list[Window], list[QualityCounts]]:
    """Windows summed over the services' regions and quality counts per window (2 queries at most).

    ``lookback`` also reads windows before ``ws`` so that a run reaching into ``[ws, we)`` is
    measured whole (burn-rate windows); a month is read without it (runs within the month)."""
    from django.db.models import Aggregate, Count, Max, Q

    from telemetry.selectors import summed_windows, windows_qs

    first = ws - lookback if lookback else ws
    windows = summed_windows(service_ids=service_ids, start=first, end=we) if tterms.method != INCIDENTS else []
    counts: list[QualityCounts] = []
    if tterms.quality_targets:
        annotations: dict[str, Aggregate] = {"minutes": Max("window_minutes")}
        for i, target in enumerate(tterms.quality_targets):
            meets = {f"{target.metric}__{'lte' if target.is_max else 'gte'}": target.limit}
            annotations[f"n{i}"] = Count("id", filter=Q(**{f"{target.metric}__isnull": False}))
            annotations[f"ok{i}"] = Count("id", filter=Q(**meets))
        # The annotations are built at run time, so the row type is a plain dict.
        rows: Iterable[Mapping[str, Any]] = (
            windows_qs(service_ids=service_ids, start=ws, end=we)
            .values("window_start")
            .annotate(**annotations)
            .order_by("window_start")
        )
        counts = [QualityCounts(t) for t in tterms.quality_targets]
        for row in rows:
            for i, item in enumerate(counts):
                item.by_window[row["window_start"]] = (row["minutes"], row[f"n{i}"], row[f"ok{i}"])
    return windows, counts
