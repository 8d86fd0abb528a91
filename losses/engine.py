"""The loss engine: from per-session aggregates to per-merchant compensation (rules in the README).

``estimate_incident`` only reads; ``assess_incident`` stores the result as the current
``LossAssessment`` (with lines) of every hit merchant, keeping the previous ones as history.
Loss model v1: all money arithmetic is ``Decimal``; rounding (half-up to the cent) happens
only at the claim cap (step 7) and the incident pool (step 8). Loss model v2: exact fractions,
each figure the merchant sees rounded half-up once where it is made (see ``model_v2``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils import timezone

from losses.models import CompensationPolicy, LossAssessment, LossAssessmentLine
from merchants.models import Merchant

from . import model_v2
from .aggregates import SessionAggregate, Window, session_aggregates
from .model_v2 import round_cents
from .policy import active_policy, policy_version_named

CENT = Decimal("0.01")
SHOWN = Decimal("0.000001")  # stored/printed precision of intermediate figures
ZERO = Decimal(0)
HUNDRED = Decimal(100)
PRECISION = 40  # Decimal digits for the intermediate divisions
VOIDED = "voided"  # an incident that never happened: nothing to compensate

Flag = LossAssessment.Flag


@dataclass
class LineResult:
    agg: SessionAggregate
    baseline: Decimal
    lost_gmv: Decimal
    lost_profit: Decimal
    wasted_ad_spend: Decimal
    v2: model_v2.V2Line | None = None  # loss model v2: the exact figures behind the Decimals

    @property
    def coverage(self) -> Decimal:
        if not self.agg.affected:
            return ZERO
        return (Decimal(self.agg.with_data) / Decimal(self.agg.affected)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass
class MerchantResult:
    merchant: Merchant
    margin_rate: Decimal
    responsibility_percent: Decimal
    lines: list[LineResult]
    lost_gmv: Decimal = ZERO
    lost_profit: Decimal = ZERO
    wasted_ad_spend: Decimal = ZERO
    compensation_before_pool: Decimal = ZERO
    compensation: Decimal = ZERO
    flags: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    fingerprint: str = ""


@dataclass
class IncidentEstimate:
    incident: object
    policy: CompensationPolicy
    window: Window
    merchants: list[MerchantResult]

    @property
    def total_before_pool(self) -> Decimal:
        return sum((m.compensation_before_pool for m in self.merchants), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((m.compensation for m in self.merchants), ZERO)


def window_for(incident, policy: CompensationPolicy, now: datetime | None = None, session_ids=None) -> Window:
    now = now or timezone.now()
    tail = timedelta(minutes=policy.recovery_tail_minutes)
    return Window(
        incident_id=incident.pk,
        service_code=incident.service.code,
        region_codes=sorted(incident.regions.values_list("code", flat=True)),
        start=incident.started_at,
        end=(incident.resolved_at or now) + tail,
        now=now,
        tail=tail,
        pre_minutes=policy.pre_incident_window_minutes,
        pre_min=policy.pre_incident_min_minutes,
        hist_days=policy.historical_days,
        hist_min=policy.historical_min_minutes,
        session_ids=session_ids,
    )


def line_result(agg: SessionAggregate, margin: Decimal) -> LineResult:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        if agg.baseline_n:
            baseline = agg.baseline_s / agg.baseline_n
            lost_gmv = agg.lost_num / agg.baseline_n
        else:
            baseline = lost_gmv = ZERO
        wasted = agg.wasted_num / agg.baseline_s if agg.baseline_s else ZERO  # zero baseline: share 0
        return LineResult(agg, baseline, lost_gmv, lost_gmv * margin, wasted)


EXACT = Context(prec=PRECISION)  # the context of :func:`exact` (no ``localcontext`` per call: it is hot)


def exact(value: Fraction) -> Decimal:
    """A fraction as a Decimal of ``PRECISION`` digits (for storing and printing, not for paying)."""
    return EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))


def line_result_v2(v2: model_v2.V2Line) -> LineResult:
    sums = v2.sums
    agg = SessionAggregate(
        session_id=sums.session_id,
        external_id=sums.external_id,
        merchant_id=sums.merchant_id,
        window_start=sums.window_start,
        window_end=sums.window_end,
        method=v2.method,
        baseline_n=sums.pre_n,
        baseline_s=sums.pre_s,
        affected=sums.affected,
        excluded=sums.excluded,
        with_data=sums.with_data,
        actual=sums.actual,
        ad_spend=sums.ad_spend,
        lost_num=ZERO,
        wasted_num=ZERO,
        pre_n=sums.pre_n,
        hist_n=len(sums.profile),
    )
    per_minute = (
        EXACT.divide(Decimal(v2.expected.numerator), Decimal(v2.expected.denominator * sums.affected))
        if sums.affected
        else ZERO
    )
    return LineResult(agg, per_minute, exact(v2.paid), exact(v2.lost_profit), exact(v2.wasted), v2)


def largest_remainder(amounts: list[Decimal], pool: Decimal) -> list[Decimal]:
    """Scale cent ``amounts`` to sum exactly to ``pool`` (cents): floor, then hand out the
    remaining cents by largest remainder (ties: the earlier item)."""
    cents = [int((a / CENT).to_integral_value()) for a in amounts]
    total = sum(cents)
    pool_cents = int((pool / CENT).to_integral_value())
    quotas = [divmod(c * pool_cents, total) for c in cents]
    scaled = [q for q, _ in quotas]
    left = pool_cents - sum(scaled)
    order = sorted(range(len(cents)), key=lambda i: (-quotas[i][1], i))
    for i in order[:left]:
        scaled[i] += 1
    return [Decimal(c) * CENT for c in scaled]


def _canonical(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(type(value))


def _fingerprint(inputs: dict) -> str:
    text = json.dumps(inputs, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def compute(
    incident,
    *,
    now: datetime | None = None,
    policy: CompensationPolicy | None = None,
    session_ids=None,
    policy_version: int | None = None,
):
    """Compute (without storing) the loss of every merchant an incident hit.

    ``policy_version`` reproduces any version's figures on today's data (default: the active one).
    """
    policy = policy or (policy_version_named(policy_version) if policy_version else None) or active_policy()
    window = window_for(incident, policy, now, session_ids)
    v2 = policy.loss_model == CompensationPolicy.LossModel.NET_SHORTFALL
    v2_sums = model_v2.session_sums(window, pre_min=policy.pre_incident_min_minutes) if v2 else []
    aggregates: list[Any] = v2_sums if v2 else session_aggregates(window)
    merchant_ids = sorted({a.merchant_id for a in aggregates})
    merchants = {m.id: m for m in Merchant.objects.filter(id__in=merchant_ids)}
    cause = incident.cause
    responsibility = Decimal(policy.responsibility_for(cause))
    results: list[MerchantResult] = []
    by_merchant: dict[int, list[Any]] = {}
    for agg in aggregates:
        by_merchant.setdefault(agg.merchant_id, []).append(agg)

    def margin_of(merchant: Merchant) -> Decimal:
        declared = merchant.margin_rate
        return min(declared if declared is not None else policy.default_margin_rate, policy.max_margin_rate)

    if v2:  # all sessions first: whether the incident changed sales is decided on all of them
        v2_lines = {
            ln.sums.session_id: ln
            for ln in model_v2.decide_noise(
                [
                    model_v2.line(
                        a,
                        margin=margin_of(merchants[a.merchant_id]),
                        pre_min=policy.pre_incident_min_minutes,
                        profile_min=policy.profile_min_sessions,
                    )
                    for a in v2_sums
                ],
                lambda ln: margin_of(merchants[ln.sums.merchant_id]),
            )
        }
    for mid in sorted(by_merchant, key=lambda i: merchants[i].code):
        merchant = merchants[mid]
        margin = margin_of(merchant)
        if v2:
            lines = [line_result_v2(v2_lines[a.session_id]) for a in by_merchant[mid]]
            r = MerchantResult(merchant, margin, responsibility, lines)
            v2s = [ln.v2 for ln in lines if ln.v2 is not None]  # every line of the v2 model
            # Each figure the merchant sees is exact arithmetic on the figures above it, rounded
            # half-up once to the cent where a product or quotient leaves fractions of a cent: the
            # shortfalls (cents) add up, x margin = lost profit, + wasted ad spend (cents per
            # session), x responsibility = the amount.
            paid = sum((v.paid for v in v2s), Fraction(0))
            profit = model_v2.cents(paid * Fraction(margin))
            wasted = sum((v.wasted for v in v2s), Fraction(0))
            r.lost_gmv, r.lost_profit, r.wasted_ad_spend = exact(paid), exact(profit), exact(wasted)
            amount = round_cents((profit + wasted) * Fraction(responsibility) / 100)
            if any(v.within_noise for v in v2s):
                r.flags.append(Flag.WITHIN_NOISE)
        else:
            lines = [line_result(a, margin) for a in by_merchant[mid]]
            r = MerchantResult(merchant, margin, responsibility, lines)
            with localcontext() as ctx:
                ctx.prec = PRECISION
                r.lost_gmv = sum((ln.lost_gmv for ln in lines), ZERO)
                r.lost_profit = sum((ln.lost_profit for ln in lines), ZERO)
                r.wasted_ad_spend = sum((ln.wasted_ad_spend for ln in lines), ZERO)
                raw = (r.lost_profit + r.wasted_ad_spend) * responsibility / HUNDRED
            amount = raw.quantize(CENT, ROUND_HALF_UP)
        if amount > policy.claim_cap:
            amount = policy.claim_cap
            r.flags.append(Flag.CAPPED)
        r.compensation_before_pool = r.compensation = amount
        if any(ln.agg.method == "insufficient_data" for ln in lines):
            r.flags.append(Flag.INSUFFICIENT_DATA)
        if cause == "unknown":
            r.flags.append(Flag.UNKNOWN_CAUSE)
        if responsibility == 0:
            r.flags.append(Flag.NOT_ELIGIBLE)
        if incident.resolved_at is None:
            r.flags.append(Flag.ONGOING)
        if merchant.currency != policy.currency:
            r.flags.append(Flag.CURRENCY_MISMATCH)
        results.append(r)

    total = sum((r.compensation_before_pool for r in results), ZERO)
    if total > policy.incident_pool:
        scaled = largest_remainder([r.compensation_before_pool for r in results], policy.incident_pool)
        for r, amount in zip(results, scaled, strict=True):
            r.compensation = amount
            r.flags.append(Flag.POOL_SCALED)

    shortfall_total = sum((ln.shortfall for ln in v2_lines.values()), Fraction(0)) if v2 else None
    for r in results:
        r.flags = [str(f) for f in r.flags]
        r.inputs = {
            "policy_version": policy.version,
            "incident": incident.key,
            "cause": cause,
            "service": window.service_code,
            "regions": window.region_codes,
            "incident_start": window.start,
            "window_end": window.end,
            "resolved": incident.resolved_at is not None,
            "margin_rate": r.margin_rate,
            "declared_margin_rate": r.merchant.margin_rate,
            "responsibility_percent": responsibility,
            "incident_total_before_pool": total,
            **({"incident_net_shortfall": exact(shortfall_total)} if shortfall_total is not None else {}),
            "sessions": [_session_inputs_v2(ln) if ln.v2 else _session_inputs_v1(ln) for ln in r.lines],
        }
        r.fingerprint = _fingerprint(r.inputs)
    return IncidentEstimate(incident, policy, window, results)


def _session_inputs_v2(ln: LineResult) -> dict:
    assert ln.v2 is not None  # called for the lines of the v2 model only
    s, v2 = ln.v2.sums, ln.v2
    return {
        "session_id": s.external_id,
        "window": [s.window_start, s.window_end],
        "method": v2.method,
        "affected_minutes": s.affected,
        "excluded_minutes": s.excluded,
        "minutes_with_data": s.with_data,
        "pre_incident_minutes": s.pre_minutes,
        "pre_incident_rows": s.pre_n,
        "pre_incident_gmv": s.pre_s,
        "actual_gmv": s.actual,
        "ad_spend": s.ad_spend,
        "profile": [[sid, p, w] for sid, p, w in s.profile],
        "calibration": s.calibration,
    }


def _session_inputs_v1(ln: LineResult) -> dict:
    return {
        "session_id": ln.agg.external_id,
        "window": [ln.agg.window_start, ln.agg.window_end],
        "method": ln.agg.method,
        "pre_incident_minutes": ln.agg.pre_n,
        "historical_minutes": ln.agg.hist_n,
        "baseline_minutes": ln.agg.baseline_n,
        "baseline_gmv_sum": ln.agg.baseline_s,
        "affected_minutes": ln.agg.affected,
        "excluded_minutes": ln.agg.excluded,
        "minutes_with_data": ln.agg.with_data,
        "actual_gmv": ln.agg.actual,
        "ad_spend": ln.agg.ad_spend,
        "lost_gmv_numerator": ln.agg.lost_num,
        "wasted_ad_numerator": ln.agg.wasted_num,
    }


def _d(value: Decimal, q: Decimal = SHOWN) -> str:
    return str(value.quantize(q, ROUND_HALF_UP))


def _v2_json(v2: model_v2.V2Line) -> dict:
    def opt(value):
        return None if value is None else _d(exact(value))

    return {
        "expected_gmv": _d(exact(v2.expected)),
        "net_shortfall": _d(exact(v2.shortfall)),
        "net_shortfall_low": opt(v2.low),
        "net_shortfall_high": opt(v2.high),
        "placebo_windows": v2.placebo_n,
        "within_noise": v2.within_noise,
        "profile_sessions": [sid for sid, _, _ in v2.sums.profile],
        "calibration": None if v2.sums.calibration is None else str(v2.sums.calibration),
    }


def line_fields(ln: LineResult) -> dict:
    """The stored figures of one line (``LossAssessmentLine`` fields)."""
    fields = {
        "window_start": ln.agg.window_start,
        "window_end": ln.agg.window_end,
        "affected_minutes": ln.agg.affected,
        "excluded_minutes": ln.agg.excluded,
        "minutes_with_data": ln.agg.with_data,
        "data_coverage": ln.coverage,
        "baseline_method": ln.agg.method,
        "baseline_minutes": ln.agg.baseline_n,
        "baseline_gmv_sum": ln.agg.baseline_s,
        "baseline_gmv_per_minute": ln.baseline.quantize(SHOWN, ROUND_HALF_UP),
        "actual_gmv": ln.agg.actual,
        "ad_spend": ln.agg.ad_spend,
        "lost_gmv": ln.lost_gmv.quantize(SHOWN, ROUND_HALF_UP),
        "lost_profit": ln.lost_profit.quantize(SHOWN, ROUND_HALF_UP),
        "wasted_ad_spend": ln.wasted_ad_spend.quantize(SHOWN, ROUND_HALF_UP),
    }
    if ln.v2 is not None:
        v2 = ln.v2

        def stored(value):
            return None if value is None else exact(value).quantize(SHOWN, ROUND_HALF_UP)

        fields.update(
            expected_gmv=stored(v2.expected),
            net_shortfall=stored(v2.shortfall),
            shortfall_low=stored(v2.low),
            shortfall_high=stored(v2.high),
            profile_sessions=len(v2.sums.profile),
            within_noise=v2.within_noise,
        )
    return fields


def estimate_as_json(estimate: IncidentEstimate) -> list[dict]:
    """The JSON shape of ``manage.py estimate_losses --json``; decimals as strings."""
    return [
        {
            "merchant": r.merchant.code,
            "currency": r.merchant.currency,
            "margin_rate": str(r.margin_rate),
            "sessions": [
                {
                    "session_id": ln.agg.external_id,
                    "window_start": ln.agg.window_start.isoformat(),
                    "window_end": ln.agg.window_end.isoformat(),
                    "affected_minutes": ln.agg.affected,
                    "excluded_minutes": ln.agg.excluded,
                    "data_coverage": str(ln.coverage),
                    "baseline_method": ln.agg.method,
                    "baseline_gmv_per_minute": _d(ln.baseline),
                    "actual_gmv": _d(ln.agg.actual, CENT),
                    "lost_gmv": _d(ln.lost_gmv),
                    "lost_profit": _d(ln.lost_profit),
                    "wasted_ad_spend": _d(ln.wasted_ad_spend),
                    **(_v2_json(ln.v2) if ln.v2 else {}),
                }
                for ln in r.lines
            ],
            "responsibility_percent": str(r.responsibility_percent),
            "compensation_before_pool": str(r.compensation_before_pool),
            "compensation": str(r.compensation),
            "flags": r.flags,
            "policy_version": estimate.policy.version,
            "inputs_fingerprint": r.fingerprint,
        }
        for r in estimate.merchants
    ]


def estimate_incident(incident, *, now: datetime | None = None, policy_version: int | None = None) -> list[dict]:
    """Pure read: what ``assess_incident`` would store, as JSON-ready dicts (one per merchant)."""
    if incident.state == VOIDED:
        return []
    return estimate_as_json(compute(incident, now=now, policy_version=policy_version))


# The incident fields an assessment reads (``incident_changed`` names them): a change to any
# other field (title, detection or acknowledgement times, impact) cannot change a loss.
INCIDENT_INPUTS = frozenset({"created", "state", "cause", "service", "regions", "started_at", "resolved_at"})


def has_anything_to_assess(incident, *, now: datetime | None = None) -> bool:
    """False when the incident reaches no live session and has no current assessment: then an
    assessment (and the claims recompute after it) would find nothing and change nothing."""
    if LossAssessment.objects.filter(incident_id=incident.pk, is_current=True).exists():
        return True
    return incident.state != VOIDED and _sessions_hit(incident, now or timezone.now()).exists()


def _lock_merchants(merchant_ids) -> set[int]:
    """Row-lock (until commit) the merchants whose minutes an assessment may claim, by ascending id.

    A minute belongs to the assessment that claimed it first (step 1), so assessments of two
    incidents that hit the same merchant must take turns: the second must see the first's
    committed lines. Locking each hit merchant's row (``FOR NO KEY UPDATE``: claims and other
    rows referencing the merchant are not blocked) serialises exactly those, while incidents
    on disjoint merchants assess in parallel. Row locks live in the rows, not in the shared
    lock table, so 10,000 merchants need no ``max_locks_per_transaction`` tuning. Sorted ids
    are the one lock order between assessors; the whole order is in the README ("Locking").
    """
    return set(
        Merchant.objects.filter(id__in=merchant_ids)
        .order_by("id")
        .select_for_update(no_key=True)
        .values_list("id", flat=True)
    )


def _sessions_hit(incident, now: datetime):
    """The merchants with a live session the incident's window could reach (a superset of the hit ones)."""
    from django.db.models import Q

    from merchants.models import LiveSession

    window = window_for(incident, active_policy(), now)
    return (
        LiveSession.objects.filter(
            service_code=window.service_code,
            region_code__in=window.region_codes,
            started_at__lt=window.end,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=window.start))
        .values("merchant_id")
    )


def assess_incident(
    incident, *, now: datetime | None = None, policy_version: int | None = None
) -> list[LossAssessment]:
    """Compute and store the current loss assessment of every merchant the incident hit.

    A merchant whose inputs fingerprint is unchanged keeps its current assessment; otherwise a
    new one is stored and the previous one is kept as history (``is_current=False``,
    ``superseded_by``). Merchants no longer hit lose their current assessment. A voided incident
    is not assessed (its current assessments are retired). Returns the current assessments.
    """
    from incidents.models import Incident

    now = now or timezone.now()
    with transaction.atomic():
        Incident.objects.select_for_update().filter(pk=incident.pk).first()  # one assessor per incident
        current = {
            a.merchant_id: a
            for a in LossAssessment.objects.select_for_update().filter(incident_id=incident.pk, is_current=True)
        }
        if incident.state == VOIDED:
            LossAssessment.objects.filter(pk__in=[a.pk for a in current.values()]).update(is_current=False)
            return []
        locked = _lock_merchants(_sessions_hit(incident, now))
        estimate = compute(incident, now=now, policy_version=policy_version)
        hit = {r.merchant.id for r in estimate.merchants}
        while hit - locked:  # a session imported meanwhile: lock its merchants too, then look again
            locked |= _lock_merchants(sorted(hit - locked))
            estimate = compute(incident, now=now, policy_version=policy_version)
            hit = {r.merchant.id for r in estimate.merchants}
        retired = [a.pk for mid, a in current.items() if mid not in hit]
        LossAssessment.objects.filter(pk__in=retired).update(is_current=False)
        kept: dict[int, LossAssessment] = {}
        fresh: list[tuple[MerchantResult, LossAssessment | None, LossAssessment]] = []
        for r in estimate.merchants:
            old = current.get(r.merchant.id)
            if old is not None and old.inputs_fingerprint == r.fingerprint and old.policy_id == estimate.policy.pk:
                kept[r.merchant.id] = old
                continue
            assessment = LossAssessment(
                incident_id=incident.pk,
                merchant=r.merchant,
                policy=estimate.policy,
                currency=r.merchant.currency,
                cause=incident.cause,
                margin_rate=r.margin_rate,
                responsibility_percent=r.responsibility_percent,
                lost_gmv=r.lost_gmv.quantize(SHOWN, ROUND_HALF_UP),
                lost_profit=r.lost_profit.quantize(SHOWN, ROUND_HALF_UP),
                wasted_ad_spend=r.wasted_ad_spend.quantize(SHOWN, ROUND_HALF_UP),
                compensation_before_pool=r.compensation_before_pool,
                compensation=r.compensation,
                flags=r.flags,
                inputs=json.loads(json.dumps(r.inputs, default=_canonical)),
                inputs_fingerprint=r.fingerprint,
                computed_at=now,
                first_computed_at=old.first_computed_at if old is not None else now,
                is_current=True,
            )
            fresh.append((r, old, assessment))
        replaced = [old for _, old, _ in fresh if old is not None]
        LossAssessment.objects.filter(pk__in=[o.pk for o in replaced]).update(is_current=False)
        LossAssessment.objects.bulk_create([a for _, _, a in fresh])
        for _, old, assessment in fresh:
            kept[assessment.merchant_id] = assessment
            if old is not None:
                old.superseded_by, old.is_current = assessment, False
        LossAssessment.objects.bulk_update(replaced, ["superseded_by"])
        new_lines = [
            LossAssessmentLine(assessment=assessment, session_id=ln.agg.session_id, **line_fields(ln))
            for r, _, assessment in fresh
            for ln in r.lines
        ]
        LossAssessmentLine.objects.bulk_create(new_lines, batch_size=2000)
    return [kept[r.merchant.id] for r in estimate.merchants]
