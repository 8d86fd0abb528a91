"""Reads for pages: the GMV chart of one hit session, and the current assessments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from losses.models import LossAssessment, LossAssessmentLine
from merchants.models import LiveSession, Merchant, SessionMinute

from .aggregates import MINUTE, floor_minute

SHOWN = Decimal("0.01")


def _expected_curve(line, session, start, end):
    """Loss model v2: expected GMV per minute (the profile's minute, scaled as in the assessment)
    from ``start`` to ``end``, and the interval's half-width relative to the expected total.

    Reads the profile sessions' minutes at the same minutes of their sessions (one query).
    """
    if line.expected_gmv is None:
        return None
    entry = next(
        (s for s in line.assessment.inputs.get("sessions", []) if s.get("session_id") == session.external_id), None
    )
    if entry is None:
        return None
    profile = entry.get("profile", [])
    relative = None
    if line.shortfall_high is not None and line.expected_gmv:
        relative = (line.shortfall_high - line.net_shortfall) / line.expected_gmv
    s_start = floor_minute(session.started_at)
    if entry["method"] == "pre_incident" or not profile:
        flat = line.expected_gmv / line.affected_minutes if line.affected_minutes else Decimal(0)
        minute, curve = start, {}
        while minute < end:
            curve[minute] = flat
            minute += MINUTE
        return curve, relative
    level_sum = sum((Decimal(p[1]) for p in profile), Decimal(0))
    if entry["method"] == "profile_scaled" and level_sum:
        scale = Decimal(entry["pre_incident_gmv"]) / level_sum
    else:
        scale = Decimal(entry.get("calibration") or 1) / len(profile)
    sessions = {
        s.external_id: floor_minute(s.started_at)
        for s in LiveSession.objects.filter(external_id__in=[p[0] for p in profile])
    }
    first, last = int((start - s_start) / MINUTE), int((end - s_start) / MINUTE)
    sums: dict[int, Decimal] = {}
    rows = SessionMinute.objects.filter(session__external_id__in=list(sessions)).values_list(
        "session__external_id", "minute", "gmv"
    )
    for sid, minute, gmv in rows:
        k = int((minute - sessions[sid]) / MINUTE)
        if first <= k < last:
            sums[k] = sums.get(k, Decimal(0)) + gmv
    curve = {s_start + k * MINUTE: sums.get(k, Decimal(0)) * scale for k in range(max(first, 0), last)}
    return curve, relative


def current_assessments(
    *, incident: Incident | None = None, merchant: Merchant | None = None
) -> QuerySet[LossAssessment]:
    qs = LossAssessment.objects.filter(is_current=True).select_related("merchant", "policy", "incident")
    if incident is not None:
        qs = qs.filter(incident=incident)
    if merchant is not None:
        qs = qs.filter(merchant=merchant)
    return qs.order_by("merchant__code")


def assessment_history(*, incident: Incident, merchant: Merchant) -> QuerySet[LossAssessment]:
    """Every computation for (incident, merchant), newest first."""
    return LossAssessment.objects.filter(incident=incident, merchant=merchant).order_by("-computed_at", "-id")


def gmv_chart_series(
    *, line_or_session: LossAssessmentLine | LiveSession, incident: Incident, pad_minutes: int = 30
) -> dict[str, Any]:
    """Per-minute actual GMV against the baseline for one hit session, with the outage shaded.

    ``line_or_session`` is a ``LossAssessmentLine`` (its stored baseline and window are used)
    or a ``LiveSession`` (the current line of this incident is used, else a fresh estimate).
    Returns ``{"session_id", "currency", "baseline_method", "baseline", "outage": {start, end},
    "affected": {start, end}, "points": [{"minute", "gmv", "baseline", "has_data", "affected"}]}``
    where decimals are strings; points run from the session start (or ``pad_minutes`` before
    the pre-incident window) to the session end (or ``pad_minutes`` after the affected window).
    """
    line: LossAssessmentLine | None
    if isinstance(line_or_session, LossAssessmentLine):
        line = line_or_session
        session = line.session
    else:
        session = line_or_session
        line = (
            LossAssessmentLine.objects.filter(
                session=session, assessment__incident=incident, assessment__is_current=True
            )
            .select_related("assessment")
            .first()
        )
    w_start: datetime | None
    w_end: datetime | None
    if line is not None:
        method, baseline = line.baseline_method, line.baseline_gmv_per_minute
        w_start, w_end = line.window_start, line.window_end
    else:
        from .engine import compute

        estimate = compute(incident, session_ids=[session.pk])
        lines = [ln for r in estimate.merchants for ln in r.lines]
        if lines:
            ln = lines[0]
            method, baseline, w_start, w_end = ln.agg.method, ln.baseline, ln.agg.window_start, ln.agg.window_end
        else:
            method, baseline, w_start, w_end = "insufficient_data", Decimal(0), None, None
    # The assessment is cached on lines read through it: no query per chart for the currency.
    currency = line.assessment.currency if line is not None else session.merchant.currency
    has_baseline = method != "insufficient_data"
    start = floor_minute(session.started_at)
    end = session.ended_at or timezone.now()
    if w_start is not None and w_end is not None:
        start = max(start, w_start - timedelta(minutes=pad_minutes + 30))
        end = min(end, w_end + timedelta(minutes=pad_minutes))
    end = floor_minute(end - timedelta(microseconds=1)) + MINUTE
    metrics = dict(
        SessionMinute.objects.filter(session=session, minute__gte=start, minute__lt=end).values_list("minute", "gmv")
    )
    points = []
    minute = start
    baseline_text = str(baseline.quantize(SHOWN, ROUND_HALF_UP)) if has_baseline else None
    curve = _expected_curve(line, session, start, end) if line is not None else None
    while minute < end:
        gmv = metrics.get(minute)
        point = {
            "minute": minute.isoformat(),
            "gmv": str(gmv if gmv is not None else Decimal("0.00")),
            "has_data": gmv is not None,
            "baseline": baseline_text,
            "affected": w_start is not None and w_end is not None and w_start <= minute < w_end,
        }
        if curve is not None:
            expected, relative = curve[0].get(minute), curve[1]
            point["expected"] = None if expected is None else str(expected.quantize(SHOWN, ROUND_HALF_UP))
            if expected is not None and relative is not None and point["affected"]:
                point["low"] = str(max(expected * (1 - relative), Decimal(0)).quantize(SHOWN, ROUND_HALF_UP))
                point["high"] = str((expected * (1 + relative)).quantize(SHOWN, ROUND_HALF_UP))
        points.append(point)
        minute += MINUTE
    return {
        "expected_curve": curve is not None,
        "session_id": session.external_id,
        "currency": currency,
        "baseline_method": method,
        "baseline": baseline_text,
        "outage": {
            "start": incident.started_at.isoformat(),
            "end": incident.resolved_at.isoformat() if incident.resolved_at else None,
        },
        "affected": {
            "start": w_start.isoformat() if w_start else None,
            "end": w_end.isoformat() if w_end else None,
        },
        "points": points,
    }


# --- the explanation of an assessment: every figure, each arithmetic on the ones above ----------

CAUSE_SENTENCES = {
    "provider": _("The outage was the video or network provider's fault: the platform answers for it in full."),
    "platform": _("The outage was the platform's own fault: it answers for it in full."),
    "third_party": _("A third party caused the outage: the platform answers for half of the loss."),
    "unknown": _("The cause is not known yet: the platform answers in full until it is."),
    "merchant": _("The cause was on the merchant's side: no compensation is due."),
}
FLAG_SENTENCES = {
    "insufficient_data": _(
        "There was not enough sales history to estimate what a session would have sold; "
        "support reviews this claim by hand."
    ),
    "unknown_cause": _("The cause of the incident is not known yet; support reviews this claim."),
    "not_eligible": _("The incident was caused on the merchant's side, so no compensation is due."),
    "capped": _("The amount was limited to the cap per claim."),
    "pool_scaled": _(
        "All claims of this incident together exceeded its compensation pool, so each one was scaled by the "
        "same factor."
    ),
    "ongoing": _("The incident is still open: these figures are provisional."),
    "currency_mismatch": _("The merchant's currency differs from the policy's; finance checks the amount."),
    "within_noise": _(
        "At least one session sold less than expected by no more than its usual ups and downs, so that session "
        "pays 0; you may still file a claim with evidence."
    ),
}
MARGIN_SOURCES = {
    "declared": _("declared by the merchant"),
    "default": _("policy default (none declared)"),
    "capped": _("capped at the policy maximum"),
}


def _cents(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(SHOWN, ROUND_HALF_UP)


def flag_sentences(*, flags: Iterable[str]) -> list[str]:
    return [str(FLAG_SENTENCES.get(f, f)) for f in flags]


def _margin_source(assessment: LossAssessment) -> str:
    declared = assessment.inputs.get("declared_margin_rate")
    if declared is None:
        return "default"
    return "capped" if Decimal(declared) > assessment.margin_rate else "declared"


def explanation(*, assessment: LossAssessment) -> dict[str, Any]:
    """The figures of one assessment in the order a merchant checks them with a calculator.

    Per session: expected GMV − actual GMV = net shortfall (with its 90 % interval); the shortfall
    that counts (0 when negative or within the noise band). Then: Σ counted × margin = lost profit;
    + wasted ad spend = loss; × responsibility = amount (capped per claim); × pool factor =
    compensation. Shown to the cent; the engine computes exactly and rounds once.
    """
    inputs = {s["session_id"]: s for s in assessment.inputs.get("sessions", [])}
    lines = []
    for line in assessment.lines.all():
        entry = inputs.get(line.session.external_id, {})
        lines.append(
            {
                "line": line,
                "session": line.session.external_id,
                "window_start": line.window_start,
                "window_end": line.window_end,
                "minutes": line.affected_minutes,
                "method": line.baseline_method,
                "method_label": line.get_baseline_method_display(),
                "v2": line.expected_gmv is not None,
                "expected": _cents(line.expected_gmv),
                "actual": _cents(line.actual_gmv),
                "net_shortfall": _cents(line.net_shortfall),
                "low": _cents(line.shortfall_low),
                "high": _cents(line.shortfall_high),
                "within_noise": line.within_noise,
                "counted": _cents(line.lost_gmv),
                "baseline_per_minute": _cents(line.baseline_gmv_per_minute),
                "profile_sessions": [p[0] for p in entry.get("profile", [])],
                "lost_profit": _cents(line.lost_profit),
                "ad_spend": _cents(line.ad_spend),
                "wasted_ad_spend": _cents(line.wasted_ad_spend),
            }
        )
    loss = assessment.lost_profit + assessment.wasted_ad_spend
    after_responsibility = loss * assessment.responsibility_percent / 100
    before, after = assessment.compensation_before_pool, assessment.compensation
    source = _margin_source(assessment)
    return {
        "assessment": assessment,
        "model": assessment.policy.loss_model,
        "policy_version": assessment.policy.version,
        "currency": assessment.currency,
        "lines": lines,
        "counted": _cents(assessment.lost_gmv),
        "margin_rate": assessment.margin_rate,
        "margin_percent": (assessment.margin_rate * 100).quantize(Decimal("0.01")),
        "margin_source": source,
        "margin_source_label": str(MARGIN_SOURCES[source]),
        "lost_profit": _cents(assessment.lost_profit),
        "wasted_ad_spend": _cents(assessment.wasted_ad_spend),
        "loss": _cents(loss),
        "cause": assessment.cause,
        "cause_sentence": str(CAUSE_SENTENCES.get(assessment.cause, CAUSE_SENTENCES["unknown"])),
        "responsibility_percent": assessment.responsibility_percent,
        "after_responsibility": _cents(after_responsibility),
        "claim_cap": assessment.policy.claim_cap,
        "capped": "capped" in assessment.flags,
        "before_pool": before,
        "pool_factor": (after / before).quantize(Decimal("0.000001"), ROUND_HALF_UP) if before else Decimal(1),
        "compensation": after,
        "flags": flag_sentences(flags=assessment.flags),
    }


def explanation_json(*, assessment: LossAssessment) -> dict[str, Any]:
    """:func:`explanation` for the API: decimals as strings, no model objects."""
    data = explanation(assessment=assessment)

    def text(value):
        if isinstance(value, Decimal):
            return str(value)
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    result = {k: text(v) for k, v in data.items() if k not in {"assessment", "lines"}}
    result["lines"] = [{k: text(v) for k, v in ln.items() if k != "line"} for ln in data["lines"]]
    return result
