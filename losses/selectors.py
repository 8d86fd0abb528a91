"""Reads for pages: the GMV chart of one hit session, and the current assessments."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from losses.models import LossAssessment, LossAssessmentLine
from merchants.models import SessionMinute

from .aggregates import MINUTE, floor_minute

SHOWN = Decimal("0.01")


def current_assessments(incident=None, merchant=None):
    qs = LossAssessment.objects.filter(is_current=True).select_related("merchant", "policy", "incident")
    if incident is not None:
        qs = qs.filter(incident=incident)
    if merchant is not None:
        qs = qs.filter(merchant=merchant)
    return qs.order_by("merchant__code")


def assessment_history(incident, merchant):
    """Every computation for (incident, merchant), newest first."""
    return LossAssessment.objects.filter(incident=incident, merchant=merchant).order_by("-computed_at", "-id")


def gmv_chart_series(line_or_session, incident, *, pad_minutes: int = 30) -> dict:
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
    while minute < end:
        gmv = metrics.get(minute)
        points.append(
            {
                "minute": minute.isoformat(),
                "gmv": str(gmv if gmv is not None else Decimal("0.00")),
                "has_data": gmv is not None,
                "baseline": baseline_text,
                "affected": w_start is not None and w_end is not None and w_start <= minute < w_end,
            }
        )
        minute += MINUTE
    return {
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
