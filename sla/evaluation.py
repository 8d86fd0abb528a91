"""The pure SLA evaluation math: plain data in, plain figures out (no database).

Every rule of the README's "SLA evaluation rules" lives here. Time is handled as integer
microseconds since the Unix epoch (UTC), so there is no floating point anywhere and no
wall-clock arithmetic across time-zone offsets; ratios are exact ``Fraction`` values and
are rounded half-up only when shown.
"""

from __future__ import annotations

import calendar
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, partial
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

US = 1_000_000  # microseconds per second
MINUTE_US = 60 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
HUNDRED = Fraction(100)
WEIGHT_SCALE = 10_000  # weights have at most 4 decimals: the sweep works on integers

MAJOR_OUTAGE = "major_outage"
PARTIAL_OUTAGE = "partial_outage"
DEGRADED_PERFORMANCE = "degraded_performance"


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return (moment - EPOCH) // ONE_US


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _round(num: int, den: int, places: int) -> Decimal:
    num *= 10**places
    sign = -1 if (num < 0) != (den < 0) else 1
    num, den = abs(num), abs(den)
    whole = (2 * num + den) // (2 * den)
    return Decimal(sign * whole).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def round_half_up(value: Fraction | Decimal | int, places: int) -> Decimal:
    """Round an exact value half-up (away from zero) to ``places`` decimals."""
    if isinstance(value, int):
        return _round(value, 1, places)
    frac = value if isinstance(value, Fraction) else Fraction(value)
    return _round(frac.numerator, frac.denominator, places)


def minutes(us: int | Fraction) -> Decimal:
    """Microseconds shown as minutes, half-up to 2 decimals."""
    if isinstance(us, int):
        return _round(us, MINUTE_US, 2)
    return _round(us.numerator, us.denominator * MINUTE_US, 2)


def month_window(year: int, month: int, tz: str) -> tuple[datetime, datetime]:
    """The calendar month in a time zone, as aware datetimes ``[start, end)``."""
    zone = ZoneInfo(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start, end


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(value: str) -> tuple[int, int]:
    """``"YYYY-MM"`` -> (year, month); ValueError otherwise."""
    try:
        year_s, month_s = value.split("-")
        if len(year_s) != 4 or len(month_s) != 2:
            raise ValueError
        year, month = int(year_s), int(month_s)
    except ValueError:
        raise ValueError(_("period must be YYYY-MM, got %(value)r") % {"value": value}) from None
    if not 1 <= month <= 12 or year < 1970:
        raise ValueError(_("period must be YYYY-MM, got %(value)r") % {"value": value})
    return year, month


# --------------------------------------------------------------------------- intervals


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` in microseconds at ``weight``, attributed to input item ``owner``."""

    start: int
    end: int
    weight: int | Fraction
    owner: int

    @property
    def length(self) -> int:
        return self.end - self.start


def union(intervals) -> list[tuple[int, int]]:
    """Merge ``(start, end)`` pairs into sorted, disjoint, non-touching intervals."""
    merged: list[list[int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def weighted_segments(items) -> list[Segment]:
    """The union of weighted ``(start, end, weight)`` items over time.

    Each instant gets the largest weight of the items covering it (overlaps are never
    counted twice); it is attributed to the covering item with that weight that comes
    first in ``items``. Instants of weight 0 are left out. Adjacent pieces with the same
    weight and owner are merged.
    """
    indexed = sorted(((s, e, w, i) for i, (s, e, w) in enumerate(items) if e > s), key=lambda t: (t[0], t[3]))
    points = sorted({p for s, e, _, _ in indexed for p in (s, e)})
    heap: list[tuple] = []
    out: list[Segment] = []
    k = 0
    for a, b in zip(points, points[1:], strict=False):
        while k < len(indexed) and indexed[k][0] <= a:
            s, e, w, i = indexed[k]
            heapq.heappush(heap, (-w, i, e))
            k += 1
        while heap and heap[0][2] <= a:
            heapq.heappop(heap)
        if not heap:
            continue
        weight, owner = -heap[0][0], heap[0][1]
        if weight <= 0:
            continue
        if out and out[-1].end == a and out[-1].weight == weight and out[-1].owner == owner:
            out[-1] = Segment(out[-1].start, b, weight, owner)
        else:
            out.append(Segment(a, b, weight, owner))
    return out


def drop_short_stretches(segments: list[Segment], min_us: int) -> tuple[list[Segment], list[tuple[int, int]]]:
    """Drop every continuous stretch of downtime shorter than ``min_us``.

    Returns the kept segments and the dropped stretches as ``(start, end)``.
    """
    if min_us <= 0:
        return list(segments), []
    kept: list[Segment] = []
    dropped: list[tuple[int, int]] = []
    group: list[Segment] = []

    def flush():
        if not group:
            return
        if group[-1].end - group[0].start >= min_us:
            kept.extend(group)
        else:
            dropped.append((group[0].start, group[-1].end))

    for seg in segments:
        if group and seg.start != group[-1].end:
            flush()
            group = []
        group.append(seg)
    flush()
    return kept, dropped


def subtract(segments: list[Segment], holes: list[tuple[int, int]]) -> list[Segment]:
    """Segments minus the (disjoint, sorted) ``holes``."""
    out: list[Segment] = []
    for seg in segments:
        pieces = [(seg.start, seg.end)]
        for hs, he in holes:
            if he <= seg.start or hs >= seg.end:
                continue
            next_pieces = []
            for ps, pe in pieces:
                if he <= ps or hs >= pe:
                    next_pieces.append((ps, pe))
                    continue
                if ps < hs:
                    next_pieces.append((ps, hs))
                if he < pe:
                    next_pieces.append((he, pe))
            pieces = next_pieces
        out.extend(Segment(s, e, seg.weight, seg.owner) for s, e in pieces if e > s)
    return out


def _merge_sorted(spans) -> list[list[int]]:
    """Union of ``(start, end)`` spans already sorted by start (touching spans merge)."""
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return merged


def _kept_length(spans: list[list[int]], stretches: list[list[int]], min_us: int, holes) -> int:
    """Length of the sorted disjoint ``spans`` lying in stretches at least ``min_us`` long,
    minus the sorted disjoint ``holes``. Each span lies inside one stretch (spans are unions
    of a subset of the items whose union the stretches are)."""
    total, k, h, nh = 0, 0, 0, len(holes)
    for start, end in spans:
        while stretches[k][1] < end:
            k += 1
        if stretches[k][1] - stretches[k][0] < min_us:
            continue
        total += end - start
        if nh:
            while h < nh and holes[h][1] <= start:
                h += 1
            i = h
            while i < nh and holes[i][0] < end:
                total -= min(end, holes[i][1]) - max(start, holes[i][0])
                i += 1
    return total


def weighted_downtime(items, min_us: int, holes: list[tuple[int, int]]) -> tuple[int | Fraction, list[tuple[int, int]]]:
    """Σ weight × length of the weighted union of ``(start, end, weight)`` items (largest weight
    wins), stretches shorter than ``min_us`` dropped, minus ``holes``; and the dropped stretches.

    Equal to summing the segments of ``weighted_segments`` → ``drop_short_stretches`` →
    ``subtract``, without building them: the union at or above each weight level, read from one
    sort (``Σ (w_k − w_k+1) × |union of items weighing ≥ w_k|``), is all the totals need.
    """
    positive = sorted(item for item in items if item[1] > item[0] and item[2] > 0)
    stretches = _merge_sorted((s, e) for s, e, _ in positive)
    dropped = [(a, b) for a, b in stretches if b - a < min_us]
    levels = sorted({w for _, _, w in positive}, reverse=True)
    total: int | Fraction = 0
    for k, level in enumerate(levels):
        step = level - (levels[k + 1] if k + 1 < len(levels) else 0)
        spans = stretches if k + 1 == len(levels) else _merge_sorted((s, e) for s, e, w in positive if w >= level)
        if not dropped and not holes:
            total += step * sum(e - s for s, e in spans)
        else:
            total += step * _kept_length(spans, stretches, min_us, holes)
    return total, dropped


def covered_length(intervals: list[tuple[int, int]], start: int, end: int) -> int:
    return sum(max(0, min(e, end) - max(s, start)) for s, e in intervals)


# --------------------------------------------------------------------------- terms and inputs


@dataclass(frozen=True)
class Tier:
    below: Decimal
    credit_percent: Decimal


@dataclass(frozen=True)
class RecoveryTarget:
    impact: str
    max_minutes: int
    credit_percent: Decimal


@dataclass(frozen=True)
class Terms:
    """The contract figures the evaluation needs (plain data, see ``SLAContract.terms``)."""

    monthly_fee: Decimal
    availability_target: Decimal = Decimal("99.95")
    partial_outage_weight: Decimal = Decimal("0.5")
    degraded_weight: Decimal = Decimal("0")
    maintenance_notice_hours: int = 0
    credit_tiers: tuple[Tier, ...] = ()
    credit_cap_percent: Decimal = Decimal("100")
    recovery_targets: tuple[RecoveryTarget, ...] = ()
    first_response_minutes: int | None = None
    first_response_credit_percent: Decimal = Decimal("0")
    claim_window_days: int = 30
    min_downtime_minutes: int = 0
    min_credit_amount: Decimal = Decimal("0")

    def weight(self, impact: str) -> Fraction:
        if impact == MAJOR_OUTAGE:
            return Fraction(1)
        if impact == PARTIAL_OUTAGE:
            return Fraction(self.partial_outage_weight)
        if impact == DEGRADED_PERFORMANCE:
            return Fraction(self.degraded_weight)
        return Fraction(0)


@dataclass(frozen=True)
class IncidentIn:
    id: int
    external_id: str
    impact: str
    started_at: datetime
    detected_at: datetime
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    service: str = ""
    title: str = ""

    # Integer microseconds, computed once per incident: one incident is evaluated by every
    # contract covering its service (about five times in a typical month).
    @cached_property
    def started_us(self) -> int:
        return to_us(self.started_at)

    @cached_property
    def resolved_us(self) -> int | None:
        return None if self.resolved_at is None else to_us(self.resolved_at)

    @cached_property
    def detected_us(self) -> int:
        return to_us(self.detected_at)

    @cached_property
    def responded_us(self) -> int | None:
        """First response: acknowledgement, else mitigation, else resolution (None: none yet)."""
        at = self.acknowledged_at or self.mitigated_at or self.resolved_at
        return None if at is None else to_us(at)


@dataclass(frozen=True)
class MaintenanceIn:
    id: int
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    service: str = ""
    description: str = ""


@dataclass
class Result:
    window_start: datetime
    window_end: datetime
    evaluated_at: datetime
    window_us: int
    excluded_us: int
    eligible_us: int
    downtime: Fraction  # weighted microseconds
    availability: Fraction  # exact percent
    availability_percent: Decimal
    availability_target: Decimal
    tier_credit_percent: Decimal
    recovery_credit_percent: Decimal
    response_credit_percent: Decimal
    uncapped_credit_percent: Decimal
    credit_percent: Decimal
    credit_amount: Decimal
    below_minimum_credit: bool
    claim_deadline: date
    provisional: bool
    # The rows behind the figures (per incident, per maintenance window, dropped stretches) are
    # built on first use: a batch of evaluations that only compares or stores totals never
    # pays for them (they were most of an evaluation's time).
    # The breach rows too: the credits need only their count and percentages, and formatting
    # tens of thousands of breach minutes was a third of a batch's time.
    _details: Callable[[], tuple[list[dict], list[dict], list[dict]]] | None = field(default=None, repr=False)
    _built: tuple[list[dict], list[dict], list[dict]] | None = field(default=None, repr=False)
    _breaches: Callable[[], tuple[list[dict], list[dict]]] | None = field(default=None, repr=False)
    _breaches_built: tuple[list[dict], list[dict]] | None = field(default=None, repr=False)

    def _rows(self) -> tuple[list[dict], list[dict], list[dict]]:
        if self._built is None:
            self._built = self._details() if self._details is not None else ([], [], [])
        return self._built

    def _breach_rows(self) -> tuple[list[dict], list[dict]]:
        if self._breaches_built is None:
            self._breaches_built = self._breaches() if self._breaches is not None else ([], [])
        return self._breaches_built

    @property
    def recovery_breaches(self) -> list[dict]:
        """Incidents (of the month) that took longer to resolve than their impact's target."""
        return self._breach_rows()[0]

    @property
    def response_breaches(self) -> list[dict]:
        """Incidents (of the month) first answered later than the contract's first-response time."""
        return self._breach_rows()[1]

    @property
    def incidents(self) -> list[dict]:
        return self._rows()[0]

    @property
    def maintenance(self) -> list[dict]:
        return self._rows()[1]

    @property
    def dropped_stretches(self) -> list[dict]:
        return self._rows()[2]

    @property
    def eligible_minutes(self) -> Decimal:
        return minutes(self.eligible_us)

    @property
    def excluded_minutes(self) -> Decimal:
        return minutes(self.excluded_us)

    @property
    def downtime_minutes(self) -> Decimal:
        return minutes(self.downtime)

    @property
    def meets_target(self) -> bool:
        return self.availability >= Fraction(self.availability_target)


def tier_credit(availability: Fraction, tiers) -> Decimal:
    """The largest credit of the tiers whose ``below`` is greater than the availability."""
    hits = [t.credit_percent for t in tiers if Fraction(t.below) > availability]
    return max(hits, default=Decimal("0"))


def evaluate(
    terms: Terms,
    window_start: datetime,
    window_end: datetime,
    incidents: list[IncidentIn],
    maintenance: list[MaintenanceIn],
    now: datetime,
    claim_deadline: date,
) -> Result:
    """Evaluate one contract over ``[window_start, window_end)`` (normally a calendar month).

    ``incidents`` are already restricted to the contract's covered services, provider
    cause and not voided; ``maintenance`` to its covered services.
    """
    ws, we, now_us = to_us(window_start), to_us(window_end), to_us(now)

    # 1. Clip every incident to the window; an ongoing one runs to ``now``. In the same pass,
    # the recovery and first-response breaches (of incidents that started in the window).
    items, recovery, response, ongoing = _clip_incidents(terms, incidents, ws, we, now_us)
    provisional = now_us < we or ongoing

    # 2.-3. Weighted union (largest weight wins) with the minimum downtime period, and without
    # maintenance announced in time, which leaves both the downtime and the month's total.
    notice_us = terms.maintenance_notice_hours * 3600 * US
    holes = union(
        (max(to_us(mw.starts_at), ws), min(to_us(mw.ends_at), we))
        for mw in maintenance
        if to_us(mw.announced_at) <= to_us(mw.starts_at) - notice_us
    )
    min_us = terms.min_downtime_minutes * MINUTE_US
    weighted, dropped = weighted_downtime(items, min_us, holes)
    window_us = max(0, we - ws)
    excluded_us = covered_length(holes, ws, we)
    eligible_us = window_us - excluded_us
    downtime = Fraction(weighted) / WEIGHT_SCALE

    # 4. Availability, exact.
    availability = HUNDRED if eligible_us <= 0 else (eligible_us - downtime) * HUNDRED / eligible_us

    # 5. Credits: the worst tier plus every recovery breach, capped.
    tier_pct = tier_credit(availability, terms.credit_tiers)
    recovery_pct = sum((b[3].credit_percent for b in recovery), Decimal("0"))
    response_pct = terms.first_response_credit_percent * len(response)
    uncapped = tier_pct + recovery_pct + response_pct
    credit_pct = min(uncapped, terms.credit_cap_percent)
    amount, below_minimum = _credit_amount(terms, credit_pct)

    return Result(
        window_start=window_start,
        window_end=window_end,
        evaluated_at=now,
        window_us=window_us,
        excluded_us=excluded_us,
        eligible_us=eligible_us,
        downtime=downtime,
        availability=availability,
        availability_percent=round_half_up(availability, 4),
        availability_target=terms.availability_target,
        tier_credit_percent=_pct(tier_pct),
        recovery_credit_percent=_pct(recovery_pct),
        response_credit_percent=_pct(response_pct),
        uncapped_credit_percent=_pct(uncapped),
        credit_percent=_pct(credit_pct),
        credit_amount=amount,
        below_minimum_credit=below_minimum,
        claim_deadline=claim_deadline,
        provisional=provisional,
        # The rows are built only when a caller reads them: the figures above do not need them.
        _details=partial(
            _detail_rows, incidents, items, maintenance, dropped, min_us, notice_us, holes, ws, we, window_start.tzinfo
        ),
        _breaches=lambda: (_recovery_rows(recovery), _response_rows(terms, response)),
    )


def _credit_amount(terms: Terms, credit_pct: Decimal) -> tuple[Decimal, bool]:
    """The credit in money, rounded once; below the contract's minimum it is not paid (0, True)."""
    amount = round_half_up(Fraction(credit_pct) * Fraction(terms.monthly_fee) / 100, 2)
    if Decimal("0") < amount < terms.min_credit_amount:
        return Decimal("0.00"), True
    return amount, False


def _local(moment: datetime | None, zone: Any) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _clip_incidents(
    terms: Terms, incidents: list[IncidentIn], ws: int, we: int, now_us: int
) -> tuple[list, list, list, bool]:
    """Step 1: each incident as (clipped start, clipped end, scaled weight), in input order; the
    recovery and first-response breaches of those that started in the window; and whether an
    incident still open overlaps the window (the month then stays provisional)."""
    items: list = []
    weights: dict[str, Any] = {}
    targets = {t.impact: t for t in terms.recovery_targets}
    response_us = None if terms.first_response_minutes is None else terms.first_response_minutes * MINUTE_US
    recovery, response = [], []
    ongoing_in_window = False
    for inc in incidents:
        start = inc.started_us
        resolved = inc.resolved_us
        ongoing = resolved is None
        end = now_us if resolved is None else resolved
        cs, ce = (start if start > ws else ws), (end if end < we else we)
        scaled = weights.get(inc.impact)
        if scaled is None:
            scaled = terms.weight(inc.impact) * WEIGHT_SCALE  # integer arithmetic in the sweep whenever exact
            scaled = weights[inc.impact] = int(scaled) if scaled.denominator == 1 else scaled
        if ongoing and ce > cs:
            ongoing_in_window = True
        items.append((cs, ce, scaled))
        if not ws <= start < we:
            continue  # a breach belongs to the month in which the incident started
        target = targets.get(inc.impact)
        if target is not None and end - start > target.max_minutes * MINUTE_US:
            recovery.append((start, inc.id, inc, target, end - start))
        if response_us is not None:
            responded = inc.responded_us
            took = (now_us if responded is None else responded) - inc.detected_us
            if took > response_us:
                response.append((start, inc.id, inc, responded, took))
    return items, recovery, response, ongoing_in_window


def _recovery_rows(recovery: list) -> list[dict[str, Any]]:
    return [
        {
            "incident": inc.external_id,
            "id": inc.id,
            "impact": inc.impact,
            "minutes": str(minutes(took)),
            "max_minutes": target.max_minutes,
            "credit_percent": str(target.credit_percent),
            "ongoing": inc.resolved_at is None,
        }
        for _, _, inc, target, took in sorted(recovery, key=lambda b: b[:2])
    ]


def _response_rows(terms: Terms, response: list) -> list[dict[str, Any]]:
    return [
        {
            "incident": inc.external_id,
            "id": inc.id,
            "minutes": str(minutes(took)),
            "max_minutes": terms.first_response_minutes,
            "credit_percent": str(terms.first_response_credit_percent),
            "acknowledged": responded is not None,
        }
        for _, _, inc, responded, took in sorted(response, key=lambda b: b[:2])
    ]


def _detail_rows(
    incidents: list[IncidentIn],
    items: list,
    maintenance: list[MaintenanceIn],
    dropped: list,
    min_us: int,
    notice_us: int,
    holes: list,
    ws: int,
    we: int,
    zone: Any,
) -> tuple[list[dict], list[dict], list[dict]]:
    """The evaluation's incidents, maintenance windows and dropped short stretches, as shown."""
    stretches = [
        {"start": _local(from_us(s), zone), "end": _local(from_us(e), zone), "minutes": str(minutes(e - s))}
        for s, e in dropped
    ]
    return (
        _incident_rows(incidents, items, min_us, holes, zone),
        _maintenance_rows(maintenance, notice_us, ws, we, zone),
        stretches,
    )


def _incident_rows(incidents: list[IncidentIn], items: list, min_us: int, holes: list, zone: Any) -> list[dict]:
    """Each incident with the downtime it contributed after the union, short stretches and holes."""
    segments = subtract(drop_short_stretches(weighted_segments(items), min_us)[0], holes)
    counted: list[int | Fraction] = [0] * len(items)
    for seg in segments:
        counted[seg.owner] += seg.weight * seg.length
    return [
        {
            "id": inc.id,
            "external_id": inc.external_id,
            "title": inc.title,
            "service": inc.service,
            "impact": inc.impact,
            "weight": str(round_half_up(Fraction(scaled, WEIGHT_SCALE), 4)),
            "started_at": _local(inc.started_at, zone),
            "resolved_at": _local(inc.resolved_at, zone),
            "ongoing": inc.resolved_at is None,
            "clipped_minutes": str(minutes(max(0, ce - cs))),
            "downtime_minutes": str(minutes(Fraction(part) / WEIGHT_SCALE)),
        }
        for inc, (cs, ce, scaled), part in zip(incidents, items, counted, strict=True)
    ]


def _maintenance_rows(maintenance: list[MaintenanceIn], notice_us: int, ws: int, we: int, zone: Any) -> list[dict]:
    """Each maintenance window, whether it was announced in time and the minutes it excluded."""
    rows = []
    for mw in maintenance:
        ms, me, announced = to_us(mw.starts_at), to_us(mw.ends_at), to_us(mw.announced_at)
        in_time = announced <= ms - notice_us
        rows.append(
            {
                "id": mw.id,
                "service": mw.service,
                "description": mw.description,
                "starts_at": _local(mw.starts_at, zone),
                "ends_at": _local(mw.ends_at, zone),
                "announced_at": _local(mw.announced_at, zone),
                "notice_hours": str(round_half_up(Fraction(ms - announced, 3600 * US), 2)),
                "announced_in_time": in_time,
                "excluded_minutes": str(minutes(max(0, min(me, we) - max(ms, ws))) if in_time else Decimal("0.00")),
            }
        )
    return rows


def _pct(value: Decimal) -> Decimal:
    exponent = Decimal(value).as_tuple().exponent
    return Decimal(value).quantize(Decimal("0.01")) if isinstance(exponent, int) and exponent >= -2 else Decimal(value)
